"""Writing and keeping the monitoring tables: person ids, turns, the queue, ticket facts.

Person ids: ``person(sender, at)`` is an HMAC of the sender id under the random key of the
month of ``at`` (``monitoring_keys``), cut to 16 hex digits. Within a month one person has one
id, so "people reached" counts each person once per calendar month; a period spanning months
counts a person once in each month they wrote (the dashboard says so). When the purge deletes a
month's key, that month's rows can no longer be tied to anyone.

Ticket facts are copied from ``handoff_tickets`` by :meth:`MonitoringStore.sync_tickets`, read
with SQLAlchemy Core on the handoff schema (``handoff/schema.py``) rather than through the
handoff's store, whose methods are not a contract of this package; a ticket whose row changed
(claimed, closed, rated) is copied again. The purge syncs first, so deleting a ticket never
loses its figures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.kb.db import make_engine
from bot.sqlite import use_write_ahead_log
from monitoring import schema
from monitoring.events import ROME, Turn, local_day, out_of_hours
from monitoring.privacy import scrub

logger = logging.getLogger(__name__)

NAMES_REFRESH_SECONDS = 300


def month_of(at: float) -> str:
    """The month (YYYY-MM) of ``at`` in Rome, whose key makes person ids."""
    return dt.datetime.fromtimestamp(at, ROME).strftime("%Y-%m")


class MonitoringStore:
    """The monitoring tables of one database (created on first use)."""

    def __init__(self, url: str | Engine):
        self.engine = make_engine(url)
        use_write_ahead_log(self.engine)
        schema.metadata.create_all(self.engine)
        self._keys: dict[str, bytes] = {}
        self._names: tuple[float, tuple[str, ...]] = (0.0, ())
        self._lock = threading.Lock()

    # --- person ids -------------------------------------------------------------------------

    def _key(self, month: str) -> bytes:
        with self._lock:
            key = self._keys.get(month)
            if key is not None:
                return key
            table = schema.keys
            with self.engine.begin() as conn:
                found = conn.execute(sa.select(table.c.key).where(table.c.month == month)).scalar()
            if found is None:
                try:
                    with self.engine.begin() as conn:
                        conn.execute(table.insert().values(month=month, key=secrets.token_hex(32)))
                except sa.exc.IntegrityError:  # another process made it first
                    pass
                with self.engine.begin() as conn:
                    found = conn.execute(
                        sa.select(table.c.key).where(table.c.month == month)
                    ).scalar_one()
            key = bytes.fromhex(found)
            self._keys[month] = key
            return key

    def person(self, sender_id: str, at: float) -> str:
        """The pseudonymous id of ``sender_id`` in the month of ``at``."""
        digest = hmac.new(self._key(month_of(at)), sender_id.encode(), hashlib.sha256)
        return digest.hexdigest()[:16]

    def forget_keys(self, months: Iterable[str]) -> int:
        """Delete the keys of ``months``: their rows can no longer be tied to a sender."""
        months = list(months)
        with self._lock, self.engine.begin() as conn:
            for month in months:
                self._keys.pop(month, None)
            if not months:
                return 0
            return conn.execute(
                schema.keys.delete().where(schema.keys.c.month.in_(months))
            ).rowcount

    def forget(self, sender_id: str) -> int:
        """Erase a person ("delete my data"): their rows of every month whose key still exists.

        To be called by the erasure hook of the composition root, beside the tracker store's
        and the hand-off's; returns how many rows went. Monthly rollups already made
        (``monitoring_monthly``) hold only numbers and keep counting them.
        """
        with self.engine.connect() as conn:
            months = list(conn.execute(sa.select(schema.keys.c.month)).scalars())
        persons = [
            hmac.new(self._key(month), sender_id.encode(), hashlib.sha256).hexdigest()[:16]
            for month in months
        ]
        if not persons:
            return 0
        deleted = 0
        with self.engine.begin() as conn:
            for table in (schema.turns, schema.tickets, schema.unanswered):
                deleted += conn.execute(table.delete().where(table.c.person.in_(persons))).rowcount
        return deleted

    # --- turns and the queue ----------------------------------------------------------------

    def known_names(self) -> tuple[str, ...]:
        """Names the bot knows (the mediators'), for scrubbing; refreshed every few minutes."""
        fetched, names = self._names
        if time.monotonic() - fetched < NAMES_REFRESH_SECONDS and fetched:
            return names
        from handoff.schema import mediators

        try:
            with self.engine.begin() as conn:
                names = tuple(conn.execute(sa.select(mediators.c.name)).scalars())
        except sa.exc.SQLAlchemyError:  # no handoff tables in this database (yet)
            names = ()
        self._names = (time.monotonic(), names)
        return names

    def record(self, sender_id: str, turn: Turn) -> None:
        """Store one turn and, if it fell back or was unsure, its scrubbed text."""
        person = self.person(sender_id, turn.at)
        text = turn.queue_text
        if text is not None:
            text = scrub(text, self.known_names())[:1000]
        with self.engine.begin() as conn:
            day = local_day(turn.at)
            conn.execute(
                schema.turns.insert().values(
                    at=turn.at,
                    day=day,
                    week=day - dt.timedelta(days=day.weekday()),
                    person=person,
                    channel=turn.channel,
                    language=turn.language,
                    intent=turn.intent,
                    service=turn.service,
                    faq=turn.faq,
                    comune=turn.comune,
                    province=turn.province,
                    outcome=turn.outcome,
                    low_confidence=turn.low_confidence,
                    out_of_hours=turn.out_of_hours,
                )
            )
            if text is not None:
                conn.execute(
                    schema.unanswered.insert().values(
                        at=turn.at,
                        person=person,
                        language=turn.language,
                        reason=turn.queue_reason,
                        text=text,
                    )
                )

    # --- tickets ----------------------------------------------------------------------------

    def sync_tickets(self) -> int:
        """Copy new and changed mediator tickets; return how many rows were written."""
        from handoff.schema import tickets as handoff_tickets

        facts = schema.tickets
        source = handoff_tickets.c
        try:
            with self.engine.begin() as conn:
                rows = conn.execute(
                    sa.select(
                        source.id,
                        source.person,
                        source.channel,
                        source.language,
                        source.topic,
                        source.province,
                        source.reason,
                        source.opened_at,
                        source.claimed_at,
                        source.closed_at,
                        source.rating,
                    )
                ).all()
        except sa.exc.SQLAlchemyError:  # no handoff tables in this database (yet)
            return 0
        with self.engine.begin() as conn:
            known = {
                r.ticket_id: (r.claimed_at, r.closed_at, r.rating)
                for r in conn.execute(
                    sa.select(
                        facts.c.ticket_id, facts.c.claimed_at, facts.c.closed_at, facts.c.rating
                    )
                )
            }
        # Person ids first: making a month's key must not wait on our own write transaction.
        changed = [
            (row, self.person(row.person, row.opened_at))
            for row in rows
            if known.get(row.id) != (row.claimed_at, row.closed_at, row.rating)
        ]
        with self.engine.begin() as conn:
            for row, person in changed:
                values = dict(
                    day=local_day(row.opened_at),
                    person=person,
                    channel=row.channel,
                    language=row.language,
                    service=row.topic,
                    province=row.province,
                    reason=row.reason,
                    opened_at=row.opened_at,
                    claimed_at=row.claimed_at,
                    closed_at=row.closed_at,
                    rating=row.rating,
                    out_of_hours=out_of_hours(row.opened_at),
                )
                if row.id in known:
                    conn.execute(facts.update().where(facts.c.ticket_id == row.id).values(**values))
                else:
                    conn.execute(facts.insert().values(ticket_id=row.id, **values))
        written = len(changed)
        return written
