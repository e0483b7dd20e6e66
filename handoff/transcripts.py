"""Transcripts: what the person, the bot and the mediator said in a ticket, and private notes.

A message delivered twice by a webhook carries the same ``source_key`` (unique) and is stored,
and therefore relayed, once. A person's message reopens WhatsApp's window: replies held back
for it are queued again in the same transaction.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from handoff import schema as t
from handoff.db import Database
from handoff.mediators import MediatorStore
from handoff.outbox import queue_in, release_held
from handoff.records import (
    TRANSCRIPT_LIMIT,
    Announce,
    Change,
    Mediator,
    Message,
    message_of,
    no_announce,
)
from handoff.tickets import TicketStore


class TranscriptStore:
    """The ``handoff_messages`` table."""

    def __init__(self, db: Database, tickets: TicketStore, mediators: MediatorStore) -> None:
        self.db = db
        self.tickets = tickets
        self.mediators = mediators

    def messages(
        self, ticket_id: int, limit: int | None = None, after_id: int = 0
    ) -> list[Message]:
        """The ticket's messages in order (the last ``limit`` of them), notes included."""
        query = sa.select(t.messages).where(
            t.messages.c.ticket_id == ticket_id, t.messages.c.id > after_id
        )
        if limit:
            rows = self.db.rows(query.order_by(t.messages.c.id.desc()).limit(limit))
            rows.reverse()
        else:
            rows = self.db.rows(query.order_by(t.messages.c.id))
        return [message_of(r) for r in rows]

    def conversation(
        self, ticket_id: int, count: int, conn: Connection | None = None
    ) -> list[tuple[str, str]]:
        """(author, text) of the last ``count`` things said to or by the person, in order."""
        rows = self.db.rows(
            sa.select(t.messages.c.author, t.messages.c.text)
            .where(
                t.messages.c.ticket_id == ticket_id,
                t.messages.c.author.in_(("person", "bot", "mediator")),
            )
            .order_by(t.messages.c.id.desc())
            .limit(count),
            conn,
        )
        return [(author, text) for author, text in reversed(rows)]

    def text(self, message_id: int, conn: Connection | None = None) -> str:
        """The text of one message."""
        (row,) = self.db.rows(
            sa.select(t.messages.c.text).where(t.messages.c.id == message_id), conn
        )
        return str(row[0])

    def person_message(
        self, person: str, text: str, source_key: str | None, announce: Announce = no_announce
    ) -> Change | None:
        """Store what the person wrote into their open ticket; None if there is none.

        A WhatsApp window reopens when the person writes: replies held back for it are queued
        again. A message with a ``source_key`` already stored is a duplicate delivery.
        """
        now = time.time()
        try:
            with self.db.engine.begin() as conn:
                ticket = self.tickets.open_for(person, conn)
                if ticket is None:
                    return None
                message_id = conn.execute(
                    sa.insert(t.messages).values(
                        ticket_id=ticket.id,
                        at=now,
                        author="person",
                        text=text[:TRANSCRIPT_LIMIT],
                        source_key=source_key,
                    )
                ).inserted_primary_key[0]
                conn.execute(
                    sa.update(t.tickets)
                    .where(t.tickets.c.id == ticket.id)
                    .values(person_last_at=now, template_sent_at=None)
                )
                release_held(conn, person, now)
                ticket = self.tickets.get(ticket.id, conn)
                assert ticket is not None
                holder = self.mediators.get(ticket.mediator_id) if ticket.mediator_id else None
                items = announce(conn, ticket, holder, message_id=int(message_id))
                return Change(ticket, outgoing=queue_in(conn, items))
        except IntegrityError:
            ticket = self.tickets.open_for(person)
            if ticket is None:
                return None
            return Change(ticket, created=False, duplicate=True)

    def mediator_message(
        self,
        ticket_id: int,
        mediator: Mediator,
        text: str,
        source_key: str | None,
        announce: Announce = no_announce,
        author: str = "mediator",
    ) -> Change:
        """Store a mediator's reply (or private note, ``author="note"``) to a ticket they hold."""
        now = time.time()
        try:
            with self.db.engine.begin() as conn:
                ticket = self.tickets.held(conn, ticket_id, mediator)
                message_id = conn.execute(
                    sa.insert(t.messages).values(
                        ticket_id=ticket.id,
                        at=now,
                        author=author,
                        mediator_id=mediator.id,
                        text=text[:TRANSCRIPT_LIMIT],
                        source_key=source_key,
                    )
                ).inserted_primary_key[0]
                items = announce(conn, ticket, mediator, message_id=int(message_id))
                return Change(ticket, outgoing=queue_in(conn, items))
        except IntegrityError:
            existing = self.tickets.get(ticket_id)
            assert existing is not None
            return Change(existing, created=False, duplicate=True)

    def system_message(self, ticket_id: int, text: str) -> None:
        """Add a delivery report to the transcript (shown to mediators, never to the person)."""
        with self.db.engine.begin() as conn:
            conn.execute(
                sa.insert(t.messages).values(
                    ticket_id=ticket_id, at=time.time(), author="system", text=text
                )
            )
