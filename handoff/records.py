"""What the handoff stores hand out: frozen records of mediators, tickets, messages, outbox rows.

The stores (``handoff.mediators``, ``handoff.tickets``, ``handoff.transcripts``,
``handoff.ratings``, ``handoff.outbox``) read rows into these and nothing else leaves them, so
the rest of the code (the service, the relay, the channels' desk) never sees a SQL row.

A state change returns a :class:`Change` with the :class:`Outgoing` messages it queued. What to
queue is decided by the service, which passes an :data:`Announce` callback; the store calls it
inside the change's transaction, so a change and its messages are written together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

TRANSCRIPT_LIMIT = 4096  # characters of one message (the channels' own limit)


class HandoffError(Exception):
    """A mediator command that cannot be carried out; the message says why, for the mediator."""

    def __init__(self, code: str, **values: Any):
        super().__init__(code)
        self.code = code
        self.values = values


@dataclass(frozen=True)
class Mediator:
    """A registered mediator."""

    id: int
    name: str
    telegram_user_id: str | None
    whatsapp: str | None
    languages: tuple[str, ...]
    provinces: tuple[str, ...]  # empty: all
    hours: str
    ui_language: str
    active: bool
    paused: bool = False  # by the mediator themselves: no cards, no reminders until they resume
    unreachable_since: float | None = None  # Telegram refused to write to them (403) since then
    # The desk password's scrypt hash (handoff/credentials.py); kept out of repr and ==.
    password_hash: str | None = field(default=None, repr=False, compare=False)

    def speaks(self, language: str) -> bool:
        return language in self.languages

    @property
    def on_call(self) -> bool:
        """Switched on by the admin and not paused by themselves: new cards reach them."""
        return self.active and not self.paused

    def covers(self, province: str | None) -> bool:
        return not self.provinces or province is None or province in self.provinces


@dataclass(frozen=True)
class Ticket:
    """A request for a mediator, as stored."""

    id: int
    person: str
    channel: str
    language: str
    last_language: str | None
    wanted_language: str | None
    topic: str | None
    comune: str | None
    province: str | None
    reason: str
    priority: int
    status: str
    mediator_id: int | None
    opened_at: float
    claimed_at: float | None
    closed_at: float | None
    announced_at: float | None
    announcements: int
    awaiting_rating: bool
    rating: int | None
    person_last_at: float | None
    template_sent_at: float | None
    card_message_id: str | None = None  # the group card's Telegram message id, once sent

    @property
    def label(self) -> str:
        return f"#{self.id}"

    @property
    def mediator_language(self) -> str:
        """The language the mediator should speak (a transfer may ask for another one)."""
        return self.wanted_language or self.language


@dataclass(frozen=True)
class Message:
    """One line of a ticket's transcript."""

    id: int
    ticket_id: int
    at: float
    author: str
    text: str
    mediator_id: int | None = None


@dataclass(frozen=True)
class Outgoing:
    """Something to send because of a state change: becomes a ``handoff_outbox`` row."""

    key: str  # idempotency key: the same key is never queued twice
    destination: str  # person | telegram | whatsapp | webchat
    address: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class OutboxRow:
    """A queued message, as the relay sees it."""

    id: int
    key: str
    ticket_id: int | None
    destination: str
    address: str
    payload: dict[str, Any]
    attempts: int


@dataclass
class Change:
    """What a state change did, for the caller to report."""

    ticket: Ticket
    created: bool = True  # open: a new ticket (False: the open one was returned)
    duplicate: bool = False  # message: already stored under this source_key
    outgoing: list[Outgoing] = field(default_factory=list)


# Builds the messages to queue for a state change, given the transaction's connection, the
# ticket as it is after the change, the mediator involved (if any) and, for a message, its id
# (``message_id=``). Supplied by the service (``handoff.announce``), which knows the texts and
# the destinations; the store only makes them part of the same transaction.
Announce = Callable[..., Iterable[Outgoing]]


def no_announce(*_: Any, **__: Any) -> Iterable[Outgoing]:
    """An :data:`Announce` that sends nothing."""
    return ()


# --- rows to records (the stores' shared readers) -------------------------------------------


def mediator_of(row: Any) -> Mediator:
    """A ``handoff_mediators`` row as a record."""
    return Mediator(
        id=row.id,
        name=row.name,
        telegram_user_id=row.telegram_user_id,
        whatsapp=row.whatsapp,
        languages=tuple(x for x in row.languages.split(",") if x),
        provinces=tuple(x for x in (row.provinces or "").split(",") if x),
        hours=row.hours or "",
        ui_language=row.ui_language or "it",
        active=bool(row.active),
        paused=bool(row.paused),
        unreachable_since=row.unreachable_since,
        password_hash=row.password_hash,
    )


def ticket_of(row: Any) -> Ticket:
    """A ``handoff_tickets`` row as a record."""
    return Ticket(
        id=row.id,
        person=row.person,
        channel=row.channel,
        language=row.language,
        last_language=row.last_language,
        wanted_language=row.wanted_language,
        topic=row.topic,
        comune=row.comune,
        province=row.province,
        reason=row.reason,
        priority=row.priority,
        status=row.status,
        mediator_id=row.mediator_id,
        opened_at=row.opened_at,
        claimed_at=row.claimed_at,
        closed_at=row.closed_at,
        announced_at=row.announced_at,
        announcements=row.announcements,
        awaiting_rating=bool(row.awaiting_rating),
        rating=row.rating,
        person_last_at=row.person_last_at,
        template_sent_at=row.template_sent_at,
        card_message_id=row.card_message_id,
    )


def message_of(row: Any) -> Message:
    """A ``handoff_messages`` row as a record."""
    return Message(
        id=row.id,
        ticket_id=row.ticket_id,
        at=row.at,
        author=row.author,
        text=row.text,
        mediator_id=row.mediator_id,
    )


def outbox_row_of(row: Any) -> OutboxRow:
    """A ``handoff_outbox`` row as a record, its payload decoded."""
    return OutboxRow(
        id=row.id,
        key=row.key,
        ticket_id=row.ticket_id,
        destination=row.destination,
        address=row.address,
        payload=json.loads(row.payload),
        attempts=row.attempts,
    )
