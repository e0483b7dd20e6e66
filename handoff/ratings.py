"""Ratings: the 1–5 a person gives a closed conversation, when asked and only then.

Closing by a mediator sets ``awaiting_rating`` (``handoff.tickets``); the person's next message
is the rating if it reads as one, and anything else stops the waiting.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from handoff import schema as t
from handoff.db import Database
from handoff.mediators import MediatorStore
from handoff.outbox import queue_in
from handoff.records import Announce, Change, Ticket, no_announce, ticket_of
from handoff.tickets import TicketStore, record_event


class RatingStore:
    """The rating columns of ``handoff_tickets``."""

    def __init__(self, db: Database, tickets: TicketStore, mediators: MediatorStore) -> None:
        self.db = db
        self.tickets = tickets
        self.mediators = mediators

    def rate(self, person: str, rating: int, announce: Announce = no_announce) -> Change | None:
        """Record the person's 1–5 rating of the ticket just closed; None if none awaits one."""
        with self.db.engine.begin() as conn:
            rated = self.awaiting(person, conn)
            if rated is None:
                return None
            conn.execute(
                sa.update(t.tickets)
                .where(t.tickets.c.id == rated.id)
                .values(rating=rating, rated_at=time.time(), awaiting_rating=False)
            )
            record_event(conn, rated.id, "rated", detail=str(rating))
            ticket = self.tickets.get(rated.id, conn)
            assert ticket is not None
            holder = self.mediators.get(ticket.mediator_id) if ticket.mediator_id else None
            return Change(ticket, outgoing=queue_in(conn, announce(conn, ticket, holder)))

    def awaiting(self, person: str, conn: Connection | None = None) -> Ticket | None:
        """The ticket whose rating the person was just asked for, if any."""
        found = self.db.rows(
            sa.select(t.tickets)
            .where(t.tickets.c.person == person, t.tickets.c.awaiting_rating.is_(True))
            .order_by(t.tickets.c.id.desc())
            .limit(1),
            conn,
        )
        return ticket_of(found[0]) if found else None

    def skip(self, person: str) -> None:
        """The person wrote something else: stop waiting for a rating."""
        if self.awaiting(person) is None:
            return  # the usual case: no write for every message of every conversation
        with self.db.engine.begin() as conn:
            conn.execute(
                sa.update(t.tickets)
                .where(t.tickets.c.person == person, t.tickets.c.awaiting_rating.is_(True))
                .values(awaiting_rating=False)
            )
