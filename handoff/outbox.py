"""The outbox: what must still be sent because of a handoff change, to whom, in order.

Rows are written in the same transaction as the change that causes them (:func:`queue_in`,
called by the other stores), with a unique ``key``, so a change is never half-announced and
never announced twice. The relay (``handoff.relay``) claims due rows (:meth:`OutboxStore.take_due`)
and records what became of each: sent, failed, held for WhatsApp's window, or to retry.

Several processes share the outbox: a row is claimed with a compare-and-set before it is sent,
and a row left ``sending`` by a dead process is taken again after ``SENDING_LEASE_SECONDS``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from handoff import schema as t
from handoff.db import Database
from handoff.records import OutboxRow, Outgoing, outbox_row_of

SENDING_LEASE_SECONDS = 30.0  # a row "sending" longer than this belonged to a dead process
MAX_SEND_ATTEMPTS = 8


class OutboxStore:
    """The ``handoff_outbox`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def queue(self, items: Iterable[Outgoing]) -> list[Outgoing]:
        """Queue messages outside a state change (delivery reports); returns those new."""
        with self.db.engine.begin() as conn:
            return queue_in(conn, items)

    def take_due(
        self, limit: int = 50, destinations: Sequence[str] | None = None
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
            .where(
                earlier.c.destination == t.outbox.c.destination,
                earlier.c.address == t.outbox.c.address,
                earlier.c.id < t.outbox.c.id,
                earlier.c.state.in_(("pending", "sending")),
            )
            .exists()
        )
        due = sa.or_(
            sa.and_(t.outbox.c.state == "pending", t.outbox.c.due_at <= now),
            sa.and_(
                t.outbox.c.state == "sending", t.outbox.c.claimed_at < now - SENDING_LEASE_SECONDS
            ),
        )
        query = sa.select(t.outbox).where(due, ~unsent_before).order_by(t.outbox.c.id).limit(limit)
        if destinations is not None:
            query = query.where(t.outbox.c.destination.in_(destinations))
        taken: list[OutboxRow] = []
        with self.db.engine.begin() as conn:
            rows = conn.execute(query).all()
            for row in rows:
                won = (
                    conn.execute(
                        sa.update(t.outbox)
                        .where(
                            t.outbox.c.id == row.id,
                            t.outbox.c.state == row.state,
                            sa.or_(
                                t.outbox.c.claimed_at.is_(None),
                                t.outbox.c.claimed_at == row.claimed_at,
                            ),
                        )
                        .values(state="sending", claimed_at=now, attempts=t.outbox.c.attempts + 1)
                    ).rowcount
                    == 1
                )
                if won:  # as claimed: this attempt counts (the relay compares it with the max)
                    taken.append(replace(outbox_row_of(row), attempts=row.attempts + 1))
        return taken

    def mark_sent(self, row_id: int) -> None:
        self._set_row(row_id, state="sent", sent_at=time.time(), error=None)

    def mark_failed(self, row_id: int, error: str) -> None:
        self._set_row(row_id, state="failed", error=error[:200])

    def mark_held(self, row_id: int, error: str) -> None:
        """Waiting for the person to reopen WhatsApp's window (see :func:`release_held`)."""
        self._set_row(row_id, state="held", error=error[:200])

    def retry_later(self, row_id: int, delay: float, error: str) -> None:
        self._set_row(row_id, state="pending", due_at=time.time() + delay, error=error[:200])

    def _set_row(self, row_id: int, **values: Any) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(sa.update(t.outbox).where(t.outbox.c.id == row_id).values(**values))

    def by_key(self, key: str) -> OutboxRow | None:
        """The row queued under ``key`` (a status callback names the row it is about)."""
        with self.db.engine.connect() as conn:
            row = conn.execute(sa.select(t.outbox).where(t.outbox.c.key == key[:128])).first()
        return outbox_row_of(row) if row else None

    def rows(
        self, destination: str | None = None, address: str | None = None, after_id: int = 0
    ) -> list[tuple[OutboxRow, str]]:
        """(row, state) in order: for tests, the desk and the web chat's polling."""
        query = sa.select(t.outbox).where(t.outbox.c.id > after_id).order_by(t.outbox.c.id)
        if destination:
            query = query.where(t.outbox.c.destination == destination)
        if address:
            query = query.where(t.outbox.c.address == address)
        with self.db.engine.connect() as conn:
            return [(outbox_row_of(r), r.state) for r in conn.execute(query)]


def queue_in(conn: Connection, items: Iterable[Outgoing]) -> list[Outgoing]:
    """Queue ``items`` in the caller's transaction; a key already queued is skipped."""
    queued: list[Outgoing] = []
    now = time.time()
    for item in items:
        # A savepoint per row: an idempotency key already queued must not undo the change.
        try:
            with conn.begin_nested():
                conn.execute(
                    sa.insert(t.outbox).values(
                        key=item.key[:128],
                        destination=item.destination,
                        address=item.address,
                        payload=json.dumps(item.payload, ensure_ascii=False),
                        state="pending",
                        attempts=0,
                        created_at=now,
                        due_at=now,
                        ticket_id=item.payload.get("ticket_id"),
                    )
                )
            queued.append(item)
        except IntegrityError:
            continue
    return queued


def release_held(conn: Connection, person: str, now: float) -> None:
    """The person wrote, so WhatsApp's window is open again: held replies to them go out."""
    conn.execute(
        sa.update(t.outbox)
        .where(
            t.outbox.c.destination == "person",
            t.outbox.c.address == person,
            t.outbox.c.state == "held",
        )
        .values(state="pending", due_at=now)
    )


def erase_in(conn: Connection, ticket_ids: Sequence[int], person: str) -> None:
    """Delete what is queued for these tickets and for the person (an erasure)."""
    if ticket_ids:
        conn.execute(sa.delete(t.outbox).where(t.outbox.c.ticket_id.in_(ticket_ids)))
    conn.execute(sa.delete(t.outbox).where(t.outbox.c.address == person))
