"""Tickets, transcript and outbox of the mediator handoff, in DATABASE_URL.

Every state change is one transaction that also writes what must be sent because of it (rows
of ``handoff_outbox``), so a crash can never leave a claimed ticket whose person was not told,
or a stored message that is never relayed. The relay (``handoff.relay``) sends the outbox.

Concurrency is settled by the database, so it holds across processes and instances:

- a claim is ``UPDATE … WHERE status = 'waiting'``; of two mediators pressing Claim at once,
  one updates the row and the other finds it claimed;
- a second request while one is open hits the partial unique index (one open ticket per
  person) and gets the open ticket back;
- a message delivered twice by a webhook carries the same ``source_key`` and is stored (and
  queued) once.

Synchronous SQLAlchemy 1.4 in 2.0 style; the ``a*`` wrappers run it in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from bot.settings import get_settings
from bot.sqlite import use_write_ahead_log
from handoff import schema as t
from handoff.schema import CLAIMED, CLOSED, OPEN_STATES, WAITING

SENDING_LEASE_SECONDS = 30.0  # a row "sending" longer than this belonged to a dead process
MAX_SEND_ATTEMPTS = 8
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
    # The desk password's scrypt hash (handoff/credentials.py); kept out of repr and ==.
    password_hash: str | None = field(default=None, repr=False, compare=False)

    def speaks(self, language: str) -> bool:
        return language in self.languages

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


# Builds the messages to queue for a state change, given the ticket as it is after it, the
# mediator involved (if any) and, for a message, its id (``message_id=``). Supplied by
# ``handoff.service``, which knows the texts and the destinations; the store only makes them
# part of the same transaction.
Announce = Callable[..., Iterable[Outgoing]]


def _none(*_: Any, **__: Any) -> Iterable[Outgoing]:
    return ()


class HandoffStore:
    """Handoff tables of one database; one instance per process (see :func:`get_handoff_store`)."""

    def __init__(self, database_url: str | Engine) -> None:
        self._url = database_url
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The engine, with the tables migrated to the latest revision on first use."""
        if self._engine is not None:
            return self._engine
        with self._lock:
            if self._engine is None:
                from handoff.db import migrate

                engine = migrate(self._url)
                use_write_ahead_log(engine)
                self._engine = engine
        return self._engine

    def dispose(self) -> None:
        """Close pooled connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # --- mediators ------------------------------------------------------------------------

    def add_mediator(
        self, name: str, languages: Sequence[str], *, telegram_user_id: str | None = None,
        whatsapp: str | None = None, provinces: Sequence[str] = (), hours: str = "",
        ui_language: str = "it",
    ) -> Mediator:
        """Register a mediator (names are unique); returns it."""
        values = dict(
            name=name, telegram_user_id=telegram_user_id, whatsapp=whatsapp,
            languages=",".join(sorted({lang.strip() for lang in languages if lang.strip()})),
            provinces=",".join(sorted({p.strip().upper() for p in provinces if p.strip()})),
            hours=hours, ui_language=ui_language, active=True, created_at=time.time(),
        )
        with self.engine.begin() as conn:
            new_id = conn.execute(sa.insert(t.mediators).values(**values)).inserted_primary_key[0]
        mediator = self.mediator(int(new_id))
        assert mediator is not None
        return mediator

    def set_mediator_active(self, name: str, active: bool) -> bool:
        """Switch a mediator on or off; False if there is no such mediator."""
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.update(t.mediators).where(t.mediators.c.name == name).values(active=active)
            )
        return result.rowcount == 1

    def set_password(self, name: str, password_hash: str | None) -> bool:
        """Set (None: remove) a mediator's desk password hash; False if no such mediator."""
        with self.engine.begin() as conn:
            result = conn.execute(sa.update(t.mediators).where(t.mediators.c.name == name)
                                  .values(password_hash=password_hash))
        return result.rowcount == 1

    def set_login_code(self, mediator_id: int, code_hash: str, expires_at: float) -> None:
        """Remember the hash of a one-time sign-in code (replacing an unused one)."""
        with self.engine.begin() as conn:
            conn.execute(sa.update(t.mediators).where(t.mediators.c.id == mediator_id)
                         .values(login_code_hash=code_hash, login_code_expires=expires_at))

    def use_login_code(self, code_hash: str) -> Mediator | None:
        """The mediator of an unexpired one-time code, which is used up; None otherwise.

        Of two requests with the same code, one gets the mediator (compare-and-set).
        """
        now = time.time()
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(t.mediators.c.id).where(
                t.mediators.c.login_code_hash == code_hash)).first()
            if row is None:
                return None
            used = conn.execute(
                sa.update(t.mediators)
                .where(t.mediators.c.id == row.id, t.mediators.c.login_code_hash == code_hash,
                       t.mediators.c.login_code_expires >= now)
                .values(login_code_hash=None, login_code_expires=None)
            ).rowcount == 1
            if not used:  # expired: clear it anyway
                conn.execute(sa.update(t.mediators).where(t.mediators.c.id == row.id)
                             .values(login_code_hash=None, login_code_expires=None))
                return None
        return self.mediator(row.id)

    def mediator(self, mediator_id: int) -> Mediator | None:
        return self._one_mediator(t.mediators.c.id == mediator_id)

    def mediator_by_telegram(self, user_id: int | str) -> Mediator | None:
        return self._one_mediator(t.mediators.c.telegram_user_id == str(user_id))

    def mediator_by_whatsapp(self, address: str) -> Mediator | None:
        return self._one_mediator(t.mediators.c.whatsapp == address)

    def mediator_by_name(self, name: str) -> Mediator | None:
        return self._one_mediator(t.mediators.c.name == name)

    def _one_mediator(self, where: Any) -> Mediator | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.mediators).where(where)).first()
        return _mediator(row) if row else None

    def rows(self, query: Any, conn: Connection | None = None) -> list[Any]:
        """Run a SELECT inside the caller's transaction, or on a connection of its own."""
        if conn is not None:
            return conn.execute(query).all()
        with self.engine.connect() as own:
            return own.execute(query).all()

    def mediators(self, conn: Connection | None = None) -> list[Mediator]:
        """Every registered mediator, active or not."""
        return [_mediator(r) for r in
                self.rows(sa.select(t.mediators).order_by(t.mediators.c.id), conn)]

    # --- tickets --------------------------------------------------------------------------

    def ticket(self, ticket_id: int, conn: Connection | None = None) -> Ticket | None:
        found = self.rows(sa.select(t.tickets).where(t.tickets.c.id == ticket_id), conn)
        return _ticket(found[0]) if found else None

    def open_ticket_for(self, person: str, conn: Connection | None = None) -> Ticket | None:
        """The person's waiting or claimed ticket, if any."""
        found = self.rows(sa.select(t.tickets).where(
            t.tickets.c.person == person, t.tickets.c.status.in_(OPEN_STATES)), conn)
        return _ticket(found[0]) if found else None

    def tickets(self, statuses: Sequence[str] = OPEN_STATES, limit: int = 200) -> list[Ticket]:
        """Tickets in these states, the most urgent first, then the oldest."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.tickets)
                .where(t.tickets.c.status.in_(statuses))
                .order_by(t.tickets.c.priority.desc(), t.tickets.c.opened_at)
                .limit(limit)
            ).all()
        return [_ticket(r) for r in rows]

    def held_by(self, mediator_id: int) -> list[Ticket]:
        """The tickets a mediator holds now, oldest claim first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.tickets)
                .where(t.tickets.c.mediator_id == mediator_id, t.tickets.c.status == CLAIMED)
                .order_by(t.tickets.c.claimed_at)
            ).all()
        return [_ticket(r) for r in rows]

    def transcript(self, ticket_id: int, limit: int | None = None,
                   after_id: int = 0) -> list[Message]:
        """The ticket's messages in order (the last ``limit`` of them), notes included."""
        query = sa.select(t.messages).where(
            t.messages.c.ticket_id == ticket_id, t.messages.c.id > after_id
        )
        with self.engine.connect() as conn:
            if limit:
                rows = conn.execute(query.order_by(t.messages.c.id.desc()).limit(limit)).all()
                rows.reverse()
            else:
                rows = conn.execute(query.order_by(t.messages.c.id)).all()
        return [_message(r) for r in rows]

    def events(self, ticket_id: int) -> list[tuple[str, float, int | None]]:
        """(kind, time, mediator id) of every transition of a ticket, in order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.events.c.kind, t.events.c.at, t.events.c.mediator_id)
                .where(t.events.c.ticket_id == ticket_id)
                .order_by(t.events.c.id)
            ).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]

    def open_ticket(
        self, person: str, channel: str, language: str, *, reason: str, priority: int,
        topic: str | None = None, comune: str | None = None, province: str | None = None,
        transcript: Sequence[tuple[str, str]] = (), announce: Announce = _none,
        last_language: str | None = None,
    ) -> Change:
        """Open a ticket, or return the person's open one (raising its priority if needed).

        ``language`` is the conversation's, ``last_language`` the person's last message's (kept
        only when it is another one). ``transcript`` is the conversation so far as (author,
        text); ``announce`` builds the cards for mediators and what the person is told.
        """
        now = time.time()
        try:
            with self.engine.begin() as conn:
                new_id = conn.execute(
                    sa.insert(t.tickets).values(
                        person=person, channel=channel, language=language,
                        last_language=last_language if last_language != language else None,
                        topic=topic, comune=comune, province=province, reason=reason,
                        priority=priority,
                        status=WAITING, opened_at=now, announced_at=now, announcements=1,
                        person_last_at=now,
                    )
                ).inserted_primary_key[0]
                _event(conn, new_id, "opened", detail=reason)
                for author, text in transcript:
                    conn.execute(sa.insert(t.messages).values(
                        ticket_id=new_id, at=now, author=author, text=text[:TRANSCRIPT_LIMIT]))
                ticket = self.ticket(int(new_id), conn)
                assert ticket is not None
                outgoing = _queue(conn, announce(conn, ticket, None))
                return Change(ticket, created=True, outgoing=outgoing)
        except IntegrityError:
            pass  # the person already has an open ticket (or got one a moment ago)
        with self.engine.begin() as conn:
            ticket = self.open_ticket_for(person, conn)
            if ticket is None:  # closed in between: try once more
                raise HandoffError("retry")
            if priority > ticket.priority:
                conn.execute(sa.update(t.tickets).where(t.tickets.c.id == ticket.id)
                             .values(priority=priority, reason=reason))
                _event(conn, ticket.id, "escalated", detail=reason)
                ticket = self.ticket(ticket.id, conn)
                assert ticket is not None
            return Change(ticket, created=False)

    def claim(self, ticket_id: int, mediator: Mediator, announce: Announce = _none) -> Change:
        """Give a waiting ticket to ``mediator``; raises ``HandoffError`` if someone has it."""
        now = time.time()
        with self.engine.begin() as conn:
            won = conn.execute(
                sa.update(t.tickets)
                .where(t.tickets.c.id == ticket_id, t.tickets.c.status == WAITING)
                .values(status=CLAIMED, mediator_id=mediator.id, claimed_at=now)
            ).rowcount == 1
            ticket = self.ticket(ticket_id, conn)
            if ticket is None:
                raise HandoffError("no_ticket", ticket=f"#{ticket_id}")
            if not won:
                if ticket.status == CLAIMED and ticket.mediator_id == mediator.id:
                    raise HandoffError("already_yours", ticket=ticket.label)
                if ticket.status == CLAIMED:
                    holder = self.mediator(ticket.mediator_id) if ticket.mediator_id else None
                    raise HandoffError("claimed_by_other", ticket=ticket.label,
                                       name=holder.name if holder else "?")
                raise HandoffError("closed", ticket=ticket.label)
            _event(conn, ticket_id, "claimed", mediator.id)
            return Change(ticket, outgoing=_queue(conn, announce(conn, ticket, mediator)))

    def release(self, ticket_id: int, mediator: Mediator, announce: Announce = _none,
                wanted_language: str | None = None) -> Change:
        """Put a claimed ticket back in the queue (for another language, with a transfer)."""
        now = time.time()
        with self.engine.begin() as conn:
            self._held(conn, ticket_id, mediator)
            values: dict[str, Any] = dict(status=WAITING, mediator_id=None, claimed_at=None,
                                          announced_at=now, announcements=1)
            if wanted_language:
                values["wanted_language"] = wanted_language
            conn.execute(sa.update(t.tickets).where(t.tickets.c.id == ticket_id).values(**values))
            kind = "transferred" if wanted_language else "released"
            _event(conn, ticket_id, kind, mediator.id, detail=wanted_language)
            ticket = self.ticket(ticket_id, conn)
            assert ticket is not None
            return Change(ticket, outgoing=_queue(conn, announce(conn, ticket, mediator)))

    def close(self, ticket_id: int, mediator: Mediator | None, announce: Announce = _none,
              *, by_person: bool = False) -> Change:
        """Close a ticket: by its mediator (the person is asked for a rating) or the person."""
        now = time.time()
        with self.engine.begin() as conn:
            ticket = self.ticket(ticket_id, conn)
            if ticket is None:
                raise HandoffError("no_ticket", ticket=f"#{ticket_id}")
            if ticket.status == CLOSED:
                raise HandoffError("closed", ticket=ticket.label)
            if mediator is not None:
                self._held(conn, ticket_id, mediator)
            conn.execute(
                sa.update(t.tickets).where(t.tickets.c.id == ticket_id)
                .values(status=CLOSED, closed_at=now, awaiting_rating=not by_person
                        and ticket.status == CLAIMED)
            )
            _event(conn, ticket_id, "cancelled" if by_person else "closed",
                   mediator.id if mediator else None)
            ticket = self.ticket(ticket_id, conn)
            assert ticket is not None
            holder = mediator or (self.mediator(ticket.mediator_id) if ticket.mediator_id else None)
            return Change(ticket, outgoing=_queue(conn, announce(conn, ticket, holder)))

    def reopen(self, ticket_id: int, mediator: Mediator, announce: Announce = _none) -> Change:
        """Reopen a closed ticket, held by the mediator who reopens it."""
        now = time.time()
        try:
            with self.engine.begin() as conn:
                ticket = self.ticket(ticket_id, conn)
                if ticket is None:
                    raise HandoffError("no_ticket", ticket=f"#{ticket_id}")
                if ticket.status != CLOSED:
                    raise HandoffError("not_closed", ticket=ticket.label)
                conn.execute(
                    sa.update(t.tickets).where(t.tickets.c.id == ticket_id)
                    .values(status=CLAIMED, mediator_id=mediator.id, claimed_at=now,
                            closed_at=None, awaiting_rating=False)
                )
                _event(conn, ticket_id, "reopened", mediator.id)
                ticket = self.ticket(ticket_id, conn)
                assert ticket is not None
                return Change(ticket, outgoing=_queue(conn, announce(conn, ticket, mediator)))
        except IntegrityError as exc:  # the person has opened another ticket since
            raise HandoffError("person_has_open_ticket", ticket=f"#{ticket_id}") from exc

    def _held(self, conn: Connection, ticket_id: int, mediator: Mediator) -> Ticket:
        ticket = self.ticket(ticket_id, conn)
        if ticket is None:
            raise HandoffError("no_ticket", ticket=f"#{ticket_id}")
        if ticket.status != CLAIMED or ticket.mediator_id != mediator.id:
            raise HandoffError("not_yours", ticket=ticket.label)
        return ticket

    def rate(self, person: str, rating: int, announce: Announce = _none) -> Change | None:
        """Record the person's 1–5 rating of the ticket just closed; None if none awaits one."""
        with self.engine.begin() as conn:
            rated = self.awaiting_rating(person, conn)
            if rated is None:
                return None
            conn.execute(
                sa.update(t.tickets).where(t.tickets.c.id == rated.id)
                .values(rating=rating, rated_at=time.time(), awaiting_rating=False)
            )
            _event(conn, rated.id, "rated", detail=str(rating))
            ticket = self.ticket(rated.id, conn)
            assert ticket is not None
            holder = self.mediator(ticket.mediator_id) if ticket.mediator_id else None
            return Change(ticket, outgoing=_queue(conn, announce(conn, ticket, holder)))

    def awaiting_rating(self, person: str, conn: Connection | None = None) -> Ticket | None:
        """The ticket whose rating the person was just asked for, if any."""
        found = self.rows(
            sa.select(t.tickets)
            .where(t.tickets.c.person == person, t.tickets.c.awaiting_rating.is_(True))
            .order_by(t.tickets.c.id.desc()).limit(1), conn)
        return _ticket(found[0]) if found else None

    def skip_rating(self, person: str) -> None:
        """The person wrote something else: stop waiting for a rating."""
        if self.awaiting_rating(person) is None:
            return  # the usual case: no write for every message of every conversation
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(t.tickets)
                .where(t.tickets.c.person == person, t.tickets.c.awaiting_rating.is_(True))
                .values(awaiting_rating=False)
            )

    # --- messages -------------------------------------------------------------------------

    def person_message(self, person: str, text: str, source_key: str | None,
                       announce: Announce = _none) -> Change | None:
        """Store what the person wrote into their open ticket; None if there is none.

        A WhatsApp window reopens when the person writes: replies held back for it are queued
        again. A message with a ``source_key`` already stored is a duplicate delivery.
        """
        now = time.time()
        try:
            with self.engine.begin() as conn:
                ticket = self.open_ticket_for(person, conn)
                if ticket is None:
                    return None
                message_id = conn.execute(sa.insert(t.messages).values(
                    ticket_id=ticket.id, at=now, author="person", text=text[:TRANSCRIPT_LIMIT],
                    source_key=source_key)).inserted_primary_key[0]
                conn.execute(sa.update(t.tickets).where(t.tickets.c.id == ticket.id)
                             .values(person_last_at=now, template_sent_at=None))
                conn.execute(
                    sa.update(t.outbox)
                    .where(t.outbox.c.destination == "person", t.outbox.c.address == person,
                           t.outbox.c.state == "held")
                    .values(state="pending", due_at=now)
                )
                ticket = self.ticket(ticket.id, conn)
                assert ticket is not None
                holder = self.mediator(ticket.mediator_id) if ticket.mediator_id else None
                items = announce(conn, ticket, holder, message_id=int(message_id))
                return Change(ticket, outgoing=_queue(conn, items))
        except IntegrityError:
            ticket = self.open_ticket_for(person)
            if ticket is None:
                return None
            return Change(ticket, created=False, duplicate=True)

    def mediator_message(self, ticket_id: int, mediator: Mediator, text: str,
                         source_key: str | None, announce: Announce = _none,
                         author: str = "mediator") -> Change:
        """Store a mediator's reply (or private note, ``author="note"``) to a ticket they hold."""
        now = time.time()
        try:
            with self.engine.begin() as conn:
                ticket = self._held(conn, ticket_id, mediator)
                message_id = conn.execute(sa.insert(t.messages).values(
                    ticket_id=ticket.id, at=now, author=author, mediator_id=mediator.id,
                    text=text[:TRANSCRIPT_LIMIT], source_key=source_key)).inserted_primary_key[0]
                items = announce(conn, ticket, mediator, message_id=int(message_id))
                return Change(ticket, outgoing=_queue(conn, items))
        except IntegrityError:
            ticket = self.ticket(ticket_id)
            assert ticket is not None
            return Change(ticket, created=False, duplicate=True)

    def system_message(self, ticket_id: int, text: str) -> None:
        """Add a delivery report to the transcript (shown to mediators, never to the person)."""
        with self.engine.begin() as conn:
            conn.execute(sa.insert(t.messages).values(
                ticket_id=ticket_id, at=time.time(), author="system", text=text))

    def due_for_reminder(self, older_than: float, announce: Announce,
                         max_announcements: int = 6) -> list[Change]:
        """Re-announce tickets still waiting ``older_than`` seconds after their last notice."""
        now = time.time()
        changes: list[Change] = []
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.tickets.c.id, t.tickets.c.announced_at).where(
                    t.tickets.c.status == WAITING,
                    t.tickets.c.announced_at < now - older_than,
                    t.tickets.c.announcements < max_announcements,
                )
            ).all()
        for ticket_id, announced_at in rows:
            with self.engine.begin() as conn:
                # Compare-and-set: of several instances, one re-announces.
                won = conn.execute(
                    sa.update(t.tickets)
                    .where(t.tickets.c.id == ticket_id, t.tickets.c.status == WAITING,
                           t.tickets.c.announced_at == announced_at)
                    .values(announced_at=now, announcements=t.tickets.c.announcements + 1)
                ).rowcount == 1
                if not won:
                    continue
                _event(conn, ticket_id, "announced")
                ticket = self.ticket(ticket_id, conn)
                assert ticket is not None
                changes.append(Change(ticket, outgoing=_queue(conn, announce(conn, ticket, None))))
        return changes

    def queue(self, items: Iterable[Outgoing]) -> list[Outgoing]:
        """Queue messages outside a state change (delivery reports)."""
        with self.engine.begin() as conn:
            return _queue(conn, items)

    # --- outbox ---------------------------------------------------------------------------

    def take_due(self, limit: int = 50, destinations: Sequence[str] | None = None
                 ) -> list[OutboxRow]:
        """Claim queued rows that are due, oldest first, at most one in flight per address.

        A row left ``sending`` by a dead process counts as due after the lease. Rows for one
        address go strictly in order: a row is taken only when no earlier row for the same
        address is still unsent.
        """
        now = time.time()
        earlier = t.outbox.alias("earlier")
        unsent_before = (
            sa.select(earlier.c.id)
            .where(earlier.c.destination == t.outbox.c.destination,
                   earlier.c.address == t.outbox.c.address,
                   earlier.c.id < t.outbox.c.id,
                   earlier.c.state.in_(("pending", "sending")))
            .exists()
        )
        due = sa.or_(
            sa.and_(t.outbox.c.state == "pending", t.outbox.c.due_at <= now),
            sa.and_(t.outbox.c.state == "sending",
                    t.outbox.c.claimed_at < now - SENDING_LEASE_SECONDS),
        )
        query = sa.select(t.outbox).where(due, ~unsent_before).order_by(t.outbox.c.id).limit(limit)
        if destinations is not None:
            query = query.where(t.outbox.c.destination.in_(destinations))
        taken: list[OutboxRow] = []
        with self.engine.begin() as conn:
            rows = conn.execute(query).all()
            for row in rows:
                won = conn.execute(
                    sa.update(t.outbox)
                    .where(t.outbox.c.id == row.id, t.outbox.c.state == row.state,
                           sa.or_(t.outbox.c.claimed_at.is_(None),
                                  t.outbox.c.claimed_at == row.claimed_at))
                    .values(state="sending", claimed_at=now, attempts=t.outbox.c.attempts + 1)
                ).rowcount == 1
                if won:  # as claimed: this attempt counts (the relay compares it with the max)
                    taken.append(replace(_outbox(row), attempts=row.attempts + 1))
        return taken

    def mark_sent(self, row_id: int) -> None:
        self._set_row(row_id, state="sent", sent_at=time.time(), error=None)

    def mark_failed(self, row_id: int, error: str) -> None:
        self._set_row(row_id, state="failed", error=error[:200])

    def mark_held(self, row_id: int, error: str) -> None:
        """Waiting for the person to reopen WhatsApp's window (see :meth:`person_message`)."""
        self._set_row(row_id, state="held", error=error[:200])

    def retry_later(self, row_id: int, delay: float, error: str) -> None:
        self._set_row(row_id, state="pending", due_at=time.time() + delay, error=error[:200])

    def _set_row(self, row_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.update(t.outbox).where(t.outbox.c.id == row_id).values(**values))

    def mark_template_sent(self, ticket_id: int) -> bool:
        """Record that the window-closed template went out; False if it already had."""
        with self.engine.begin() as conn:
            return conn.execute(
                sa.update(t.tickets)
                .where(t.tickets.c.id == ticket_id, t.tickets.c.template_sent_at.is_(None))
                .values(template_sent_at=time.time())
            ).rowcount == 1

    def clear_template_sent(self, ticket_id: int) -> None:
        """The template did not go out after all: the next reply must send it."""
        with self.engine.begin() as conn:
            conn.execute(sa.update(t.tickets).where(t.tickets.c.id == ticket_id)
                         .values(template_sent_at=None))

    def outbox_rows(self, destination: str | None = None, address: str | None = None,
                    after_id: int = 0) -> list[tuple[OutboxRow, str]]:
        """(row, state) in order: for tests, the desk and the web chat's polling."""
        query = sa.select(t.outbox).where(t.outbox.c.id > after_id).order_by(t.outbox.c.id)
        if destination:
            query = query.where(t.outbox.c.destination == destination)
        if address:
            query = query.where(t.outbox.c.address == address)
        with self.engine.connect() as conn:
            return [(_outbox(r), r.state) for r in conn.execute(query)]

    # --- privacy --------------------------------------------------------------------------

    def forget_person(self, person: str, notices: Iterable[Outgoing] = ()) -> int:
        """Erase a person's tickets, transcripts and queued messages; returns tickets erased.

        ``notices`` (for mediators, about no ticket row) are queued in the same transaction.
        """
        with self.engine.begin() as conn:
            ids = [r[0] for r in conn.execute(
                sa.select(t.tickets.c.id).where(t.tickets.c.person == person))]
            if ids:
                conn.execute(sa.delete(t.outbox).where(t.outbox.c.ticket_id.in_(ids)))
                conn.execute(sa.delete(t.messages).where(t.messages.c.ticket_id.in_(ids)))
                conn.execute(sa.delete(t.events).where(t.events.c.ticket_id.in_(ids)))
                conn.execute(sa.delete(t.tickets).where(t.tickets.c.id.in_(ids)))
            conn.execute(sa.delete(t.outbox).where(t.outbox.c.address == person))
            _queue(conn, notices)
        return len(ids)

    # --- async wrappers -------------------------------------------------------------------

    async def run(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one of this store's methods in a worker thread."""
        return await asyncio.to_thread(method, *args, **kwargs)


def _event(conn: Connection, ticket_id: int, kind: str, mediator_id: int | None = None,
           detail: str | None = None) -> None:
    conn.execute(sa.insert(t.events).values(
        ticket_id=ticket_id, at=time.time(), kind=kind, mediator_id=mediator_id, detail=detail))


def _queue(conn: Connection, items: Iterable[Outgoing]) -> list[Outgoing]:
    queued: list[Outgoing] = []
    now = time.time()
    for item in items:
        # A savepoint per row: an idempotency key already queued must not undo the change.
        try:
            with conn.begin_nested():
                conn.execute(sa.insert(t.outbox).values(
                    key=item.key[:128], destination=item.destination, address=item.address,
                    payload=json.dumps(item.payload, ensure_ascii=False), state="pending",
                    attempts=0, created_at=now, due_at=now,
                    ticket_id=item.payload.get("ticket_id")))
            queued.append(item)
        except IntegrityError:
            continue
    return queued


def _mediator(row: Any) -> Mediator:
    return Mediator(
        id=row.id, name=row.name, telegram_user_id=row.telegram_user_id, whatsapp=row.whatsapp,
        languages=tuple(x for x in row.languages.split(",") if x),
        provinces=tuple(x for x in (row.provinces or "").split(",") if x),
        hours=row.hours or "", ui_language=row.ui_language or "it", active=bool(row.active),
        password_hash=row.password_hash,
    )


def _ticket(row: Any) -> Ticket:
    return Ticket(
        id=row.id, person=row.person, channel=row.channel, language=row.language,
        last_language=row.last_language, wanted_language=row.wanted_language, topic=row.topic,
        comune=row.comune, province=row.province, reason=row.reason, priority=row.priority,
        status=row.status,
        mediator_id=row.mediator_id, opened_at=row.opened_at, claimed_at=row.claimed_at,
        closed_at=row.closed_at, announced_at=row.announced_at,
        announcements=row.announcements, awaiting_rating=bool(row.awaiting_rating),
        rating=row.rating, person_last_at=row.person_last_at,
        template_sent_at=row.template_sent_at,
    )


def _message(row: Any) -> Message:
    return Message(id=row.id, ticket_id=row.ticket_id, at=row.at, author=row.author,
                   text=row.text, mediator_id=row.mediator_id)


def _outbox(row: Any) -> OutboxRow:
    return OutboxRow(id=row.id, key=row.key, ticket_id=row.ticket_id,
                     destination=row.destination, address=row.address,
                     payload=json.loads(row.payload), attempts=row.attempts)


@lru_cache(maxsize=4)
def get_handoff_store(database_url: str | None = None) -> HandoffStore:
    """The process's store for DATABASE_URL (or another URL, in tests)."""
    return HandoffStore(database_url or get_settings().database_url)
