"""Tickets: one per request for a mediator, and every transition of it (``handoff_events``).

Concurrency is settled by the database, so it holds across processes and instances:

- a claim is ``UPDATE … WHERE status = 'waiting'``; of two mediators pressing Claim at once,
  one updates the row and the other finds it claimed;
- a second request while one is open hits the partial unique index (one open ticket per
  person) and gets the open ticket back.

Every change takes an ``announce`` callback (see ``handoff.records.Announce``) whose messages
are queued in the change's own transaction.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from handoff import schema as t
from handoff.db import Database
from handoff.mediators import MediatorStore
from handoff.outbox import erase_in, queue_in
from handoff.records import (
    TRANSCRIPT_LIMIT,
    Announce,
    Change,
    HandoffError,
    Mediator,
    Outgoing,
    Ticket,
    no_announce,
    ticket_of,
)
from handoff.schema import CLAIMED, CLOSED, OPEN_STATES, WAITING


@dataclass(frozen=True)
class Standing:
    """Where a person stands with the hand-off, as the gate needs it for every message.

    ``open``: their waiting or claimed ticket; ``awaiting``: the closed ticket whose 1–5 rating
    they were just asked for. Both None, the usual case, means the message is the bot's.
    """

    open: Ticket | None = None
    awaiting: Ticket | None = None

    @property
    def idle(self) -> bool:
        return self.open is None and self.awaiting is None


class TicketStore:
    """The ``handoff_tickets`` and ``handoff_events`` tables."""

    def __init__(self, db: Database, mediators: MediatorStore) -> None:
        self.db = db
        self.mediators = mediators

    # --- reading --------------------------------------------------------------------------

    def get(self, ticket_id: int, conn: Connection | None = None) -> Ticket | None:
        found = self.db.rows(sa.select(t.tickets).where(t.tickets.c.id == ticket_id), conn)
        return ticket_of(found[0]) if found else None

    def open_for(self, person: str, conn: Connection | None = None) -> Ticket | None:
        """The person's waiting or claimed ticket, if any."""
        found = self.db.rows(
            sa.select(t.tickets).where(
                t.tickets.c.person == person, t.tickets.c.status.in_(OPEN_STATES)
            ),
            conn,
        )
        return ticket_of(found[0]) if found else None

    def standing(self, person: str, conn: Connection | None = None) -> Standing:
        """The person's open ticket and the one owed a rating, in one query.

        The gate asks this for every message on every channel, so a person who is not in
        hand-off costs one indexed SELECT (``ix_handoff_tickets_person``), not one per question.
        At most one ticket is open (the partial unique index) and only the last closed one
        awaits a rating, so the two newest matching rows are all there is to read.
        """
        rows = self.db.rows(
            sa.select(t.tickets)
            .where(
                t.tickets.c.person == person,
                sa.or_(
                    t.tickets.c.status.in_(OPEN_STATES),
                    t.tickets.c.awaiting_rating.is_(True),
                ),
            )
            .order_by(t.tickets.c.id.desc())
            .limit(2),
            conn,
        )
        found = [ticket_of(r) for r in rows]
        return Standing(
            open=next((x for x in found if x.status in OPEN_STATES), None),
            awaiting=next((x for x in found if x.awaiting_rating), None),
        )

    def set_card_message(self, ticket_id: int, message_id: str) -> None:
        """Remember the group card just sent (the latest one, a reminder included)."""
        with self.db.engine.begin() as conn:
            conn.execute(
                sa.update(t.tickets)
                .where(t.tickets.c.id == ticket_id)
                .values(card_message_id=message_id)
            )

    def in_states(self, statuses: Sequence[str] = OPEN_STATES, limit: int = 200) -> list[Ticket]:
        """Tickets in these states, the most urgent first, then the oldest."""
        return [
            ticket_of(r)
            for r in self.db.rows(
                sa.select(t.tickets)
                .where(t.tickets.c.status.in_(statuses))
                .order_by(t.tickets.c.priority.desc(), t.tickets.c.opened_at)
                .limit(limit)
            )
        ]

    def held_by(self, mediator_id: int) -> list[Ticket]:
        """The tickets a mediator holds now, oldest claim first."""
        return [
            ticket_of(r)
            for r in self.db.rows(
                sa.select(t.tickets)
                .where(t.tickets.c.mediator_id == mediator_id, t.tickets.c.status == CLAIMED)
                .order_by(t.tickets.c.claimed_at)
            )
        ]

    def events(self, ticket_id: int) -> list[tuple[str, float, int | None]]:
        """(kind, time, mediator id) of every transition of a ticket, in order."""
        rows = self.db.rows(
            sa.select(t.events.c.kind, t.events.c.at, t.events.c.mediator_id)
            .where(t.events.c.ticket_id == ticket_id)
            .order_by(t.events.c.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]

    def recent_waits(self, language: str | None = None, limit: int = 20) -> list[float]:
        """Seconds from opening to claim of the last ``limit`` claims (in ``language``)."""
        query = (
            sa.select(t.tickets.c.claimed_at - t.tickets.c.opened_at)
            .where(t.tickets.c.claimed_at.is_not(None))
            .order_by(t.tickets.c.claimed_at.desc())
            .limit(limit)
        )
        if language:
            query = query.where(t.tickets.c.language == language)
        return [r[0] for r in self.db.rows(query) if r[0] is not None and r[0] >= 0]

    def held(self, conn: Connection, ticket_id: int, mediator: Mediator) -> Ticket:
        """The ticket, if ``mediator`` holds it; else ``HandoffError`` (no_ticket, not_yours)."""
        ticket = self.get(ticket_id, conn)
        if ticket is None:
            raise HandoffError("no_ticket", ticket=f"#{ticket_id}")
        if ticket.status != CLAIMED or ticket.mediator_id != mediator.id:
            raise HandoffError("not_yours", ticket=ticket.label)
        return ticket

    def _holder(self, ticket: Ticket) -> Mediator | None:
        return self.mediators.get(ticket.mediator_id) if ticket.mediator_id else None

    # --- changes --------------------------------------------------------------------------

    def open(
        self,
        person: str,
        channel: str,
        language: str,
        *,
        reason: str,
        priority: int,
        topic: str | None = None,
        comune: str | None = None,
        province: str | None = None,
        transcript: Sequence[tuple[str, str]] = (),
        announce: Announce = no_announce,
        last_language: str | None = None,
    ) -> Change:
        """Open a ticket, or return the person's open one (raising its priority if needed).

        ``language`` is the conversation's, ``last_language`` the person's last message's (kept
        only when it is another one). ``transcript`` is the conversation so far as (author,
        text); ``announce`` builds the cards for mediators and what the person is told.
        """
        now = time.time()
        try:
            with self.db.engine.begin() as conn:
                new_id = conn.execute(
                    sa.insert(t.tickets).values(
                        person=person,
                        channel=channel,
                        language=language,
                        last_language=last_language if last_language != language else None,
                        topic=topic,
                        comune=comune,
                        province=province,
                        reason=reason,
                        priority=priority,
                        status=WAITING,
                        opened_at=now,
                        announced_at=now,
                        announcements=1,
                        person_last_at=now,
                    )
                ).inserted_primary_key[0]
                record_event(conn, new_id, "opened", detail=reason)
                for author, text in transcript:
                    conn.execute(
                        sa.insert(t.messages).values(
                            ticket_id=new_id, at=now, author=author, text=text[:TRANSCRIPT_LIMIT]
                        )
                    )
                ticket = self.get(int(new_id), conn)
                assert ticket is not None
                outgoing = queue_in(conn, announce(conn, ticket, None))
                return Change(ticket, created=True, outgoing=outgoing)
        except IntegrityError:
            pass  # the person already has an open ticket (or got one a moment ago)
        with self.db.engine.begin() as conn:
            ticket = self.open_for(person, conn)
            if ticket is None:  # closed in between: try once more
                raise HandoffError("retry")
            if priority > ticket.priority:
                conn.execute(
                    sa.update(t.tickets)
                    .where(t.tickets.c.id == ticket.id)
                    .values(priority=priority, reason=reason)
                )
                record_event(conn, ticket.id, "escalated", detail=reason)
                ticket = self.get(ticket.id, conn)
                assert ticket is not None
            return Change(ticket, created=False)

    def set_priority(self, ticket_id: int, priority: int) -> None:
        """Move a ticket up (or down) the queue, e.g. an emergency read in the conversation."""
        with self.db.engine.begin() as conn:
            conn.execute(
                sa.update(t.tickets).where(t.tickets.c.id == ticket_id).values(priority=priority)
            )

    def claim(self, ticket_id: int, mediator: Mediator, announce: Announce = no_announce) -> Change:
        """Give a waiting ticket to ``mediator``; raises ``HandoffError`` if someone has it."""
        now = time.time()
        with self.db.engine.begin() as conn:
            won = (
                conn.execute(
                    sa.update(t.tickets)
                    .where(t.tickets.c.id == ticket_id, t.tickets.c.status == WAITING)
                    .values(status=CLAIMED, mediator_id=mediator.id, claimed_at=now)
                ).rowcount
                == 1
            )
            ticket = self.get(ticket_id, conn)
            if ticket is None:
                raise HandoffError("no_ticket", ticket=f"#{ticket_id}")
            if not won:
                if ticket.status == CLAIMED and ticket.mediator_id == mediator.id:
                    raise HandoffError("already_yours", ticket=ticket.label)
                if ticket.status == CLAIMED:
                    holder = self._holder(ticket)
                    raise HandoffError(
                        "claimed_by_other", ticket=ticket.label, name=holder.name if holder else "?"
                    )
                raise HandoffError("closed", ticket=ticket.label)
            record_event(conn, ticket_id, "claimed", mediator.id)
            return Change(ticket, outgoing=queue_in(conn, announce(conn, ticket, mediator)))

    def release(
        self,
        ticket_id: int,
        mediator: Mediator,
        announce: Announce = no_announce,
        wanted_language: str | None = None,
    ) -> Change:
        """Put a claimed ticket back in the queue (for another language, with a transfer)."""
        now = time.time()
        with self.db.engine.begin() as conn:
            self.held(conn, ticket_id, mediator)
            values: dict[str, Any] = dict(
                status=WAITING, mediator_id=None, claimed_at=None, announced_at=now, announcements=1
            )
            if wanted_language:
                values["wanted_language"] = wanted_language
            conn.execute(sa.update(t.tickets).where(t.tickets.c.id == ticket_id).values(**values))
            kind = "transferred" if wanted_language else "released"
            record_event(conn, ticket_id, kind, mediator.id, detail=wanted_language)
            ticket = self.get(ticket_id, conn)
            assert ticket is not None
            return Change(ticket, outgoing=queue_in(conn, announce(conn, ticket, mediator)))

    def close(
        self,
        ticket_id: int,
        mediator: Mediator | None,
        announce: Announce = no_announce,
        *,
        by_person: bool = False,
    ) -> Change:
        """Close a ticket: by its mediator (the person is asked for a rating) or the person."""
        now = time.time()
        with self.db.engine.begin() as conn:
            ticket = self.get(ticket_id, conn)
            if ticket is None:
                raise HandoffError("no_ticket", ticket=f"#{ticket_id}")
            if ticket.status == CLOSED:
                raise HandoffError("closed", ticket=ticket.label)
            if mediator is not None:
                self.held(conn, ticket_id, mediator)
            conn.execute(
                sa.update(t.tickets)
                .where(t.tickets.c.id == ticket_id)
                .values(
                    status=CLOSED,
                    closed_at=now,
                    awaiting_rating=not by_person and ticket.status == CLAIMED,
                )
            )
            record_event(
                conn,
                ticket_id,
                "cancelled" if by_person else "closed",
                mediator.id if mediator else None,
            )
            ticket = self.get(ticket_id, conn)
            assert ticket is not None
            holder = mediator or self._holder(ticket)
            return Change(ticket, outgoing=queue_in(conn, announce(conn, ticket, holder)))

    def reopen(
        self, ticket_id: int, mediator: Mediator, announce: Announce = no_announce
    ) -> Change:
        """Reopen a closed ticket, held by the mediator who reopens it."""
        now = time.time()
        try:
            with self.db.engine.begin() as conn:
                ticket = self.get(ticket_id, conn)
                if ticket is None:
                    raise HandoffError("no_ticket", ticket=f"#{ticket_id}")
                if ticket.status != CLOSED:
                    raise HandoffError("not_closed", ticket=ticket.label)
                conn.execute(
                    sa.update(t.tickets)
                    .where(t.tickets.c.id == ticket_id)
                    .values(
                        status=CLAIMED,
                        mediator_id=mediator.id,
                        claimed_at=now,
                        closed_at=None,
                        awaiting_rating=False,
                    )
                )
                record_event(conn, ticket_id, "reopened", mediator.id)
                ticket = self.get(ticket_id, conn)
                assert ticket is not None
                return Change(ticket, outgoing=queue_in(conn, announce(conn, ticket, mediator)))
        except IntegrityError as exc:  # the person has opened another ticket since
            raise HandoffError("person_has_open_ticket", ticket=f"#{ticket_id}") from exc

    def due_for_reminder(
        self, older_than: float, announce: Announce, max_announcements: int = 6
    ) -> list[Change]:
        """Re-announce tickets still waiting ``older_than`` seconds after their last notice."""
        now = time.time()
        changes: list[Change] = []
        rows = self.db.rows(
            sa.select(t.tickets.c.id, t.tickets.c.announced_at).where(
                t.tickets.c.status == WAITING,
                t.tickets.c.announced_at < now - older_than,
                t.tickets.c.announcements < max_announcements,
            )
        )
        for ticket_id, announced_at in rows:
            with self.db.engine.begin() as conn:
                # Compare-and-set: of several instances, one re-announces.
                won = (
                    conn.execute(
                        sa.update(t.tickets)
                        .where(
                            t.tickets.c.id == ticket_id,
                            t.tickets.c.status == WAITING,
                            t.tickets.c.announced_at == announced_at,
                        )
                        .values(announced_at=now, announcements=t.tickets.c.announcements + 1)
                    ).rowcount
                    == 1
                )
                if not won:
                    continue
                record_event(conn, ticket_id, "announced")
                ticket = self.get(ticket_id, conn)
                assert ticket is not None
                changes.append(
                    Change(ticket, outgoing=queue_in(conn, announce(conn, ticket, None)))
                )
        return changes

    # --- WhatsApp's window ------------------------------------------------------------------

    def mark_template_sent(self, ticket_id: int) -> bool:
        """Record that the window-closed template went out; False if it already had."""
        with self.db.engine.begin() as conn:
            return (
                conn.execute(
                    sa.update(t.tickets)
                    .where(t.tickets.c.id == ticket_id, t.tickets.c.template_sent_at.is_(None))
                    .values(template_sent_at=time.time())
                ).rowcount
                == 1
            )

    def clear_template_sent(self, ticket_id: int) -> None:
        """The template did not go out after all: the next reply must send it."""
        with self.db.engine.begin() as conn:
            conn.execute(
                sa.update(t.tickets)
                .where(t.tickets.c.id == ticket_id)
                .values(template_sent_at=None)
            )

    # --- privacy --------------------------------------------------------------------------

    def erase_person(self, person: str, notices: Iterable[Outgoing] = ()) -> int:
        """Erase a person's tickets, transcripts and queued messages; returns tickets erased.

        ``notices`` (for mediators, about no ticket row) are queued in the same transaction.
        """
        with self.db.engine.begin() as conn:
            ids = [
                r[0]
                for r in conn.execute(sa.select(t.tickets.c.id).where(t.tickets.c.person == person))
            ]
            erase_in(conn, ids, person)
            if ids:
                conn.execute(sa.delete(t.messages).where(t.messages.c.ticket_id.in_(ids)))
                conn.execute(sa.delete(t.events).where(t.events.c.ticket_id.in_(ids)))
                conn.execute(sa.delete(t.tickets).where(t.tickets.c.id.in_(ids)))
            queue_in(conn, notices)
        return len(ids)


def record_event(
    conn: Connection,
    ticket_id: int,
    kind: str,
    mediator_id: int | None = None,
    detail: str | None = None,
) -> None:
    """Add a transition to ``handoff_events`` in the caller's transaction."""
    conn.execute(
        sa.insert(t.events).values(
            ticket_id=ticket_id, at=time.time(), kind=kind, mediator_id=mediator_id, detail=detail
        )
    )
