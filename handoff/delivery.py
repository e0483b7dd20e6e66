"""What happened to messages after WhatsApp accepted them, and when a mediator last wrote.

Twilio answers a send with 201 "queued"; whether the message arrived comes later, in status
callbacks (``channels.twilio_status``). WhatsApp refuses a free-form message to someone who
has not written in 24 hours only then, with error 63016, so a card to a mediator can be
"sent" and still never arrive. This module keeps both facts in the database, where the
ticket, the desk and the relay can read them:

- ``handoff_delivery_status``: one row per Twilio MessageSid with the latest status and error
  code. Twilio may post callbacks out of order and more than once, so a status only replaces
  one that comes earlier in a message's life (queued < sending < sent < delivered < read), and
  a failure is final. The row says which ticket and which recipient it was, when the sender
  recorded it (:meth:`DeliveryStatusStore.record_sent`); a callback that arrives first creates
  the row and the sender fills in the rest.
- ``handoff_whatsapp_windows``: when each mediator's WhatsApp number last wrote to the
  business number, which decides whether a card may go as text or needs a template
  (``channels.whatsapp_templates``).

Synchronous; callers on an event loop use ``asyncio.to_thread``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from bot.settings import get_settings
from handoff import schema as t
from handoff.db import Database

FAILED_STATUSES = ("failed", "undelivered")
# A message's life, in order; anything else Twilio may add ranks with "queued".
_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "read": 4,
    "failed": 9,
    "undelivered": 9,
    "canceled": 9,
}
WINDOW_CLOSED_CODE = 63016  # Twilio: outside WhatsApp's 24-hour window, send a template


@dataclass(frozen=True)
class DeliveryStatus:
    """The latest known state of one outgoing WhatsApp message."""

    message_sid: str
    status: str
    error_code: int | None
    ticket_id: int | None
    person: str | None
    recipient: str | None  # person | mediator
    mediator_id: int | None
    outbox_key: str | None
    updated_at: float

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    @property
    def window_closed(self) -> bool:
        """Failed because the recipient's 24-hour window was closed (a template would go)."""
        return self.error_code == WINDOW_CLOSED_CODE


@dataclass(frozen=True)
class Update:
    """What one status callback changed."""

    status: DeliveryStatus
    changed: bool  # False: an older or repeated callback, nothing recorded
    newly_failed: bool  # this callback is the one that turned the message into a failure


class DeliveryStore:
    """Delivery statuses and mediators' WhatsApp windows of one database."""

    def __init__(self, database_url: str | Engine):
        self.db = Database(database_url)

    @property
    def engine(self) -> Engine:
        """The engine, with the handoff tables migrated on first use (``handoff.db``)."""
        return self.db.engine

    def dispose(self) -> None:
        """Close pooled connections."""
        self.db.dispose()

    # --- statuses ---------------------------------------------------------------------------

    def record_sent(
        self,
        message_sid: str,
        *,
        ticket_id: int | None,
        person: str | None,
        recipient: str,
        mediator_id: int | None = None,
        outbox_key: str | None = None,
    ) -> None:
        """The sender's side: Twilio accepted ``message_sid`` for this ticket and recipient."""
        now = time.time()
        about = dict(
            ticket_id=ticket_id,
            person=person,
            recipient=recipient,
            mediator_id=mediator_id,
            outbox_key=outbox_key,
        )
        with self.engine.begin() as conn:
            updated = conn.execute(
                sa.update(t.delivery_status)
                .where(t.delivery_status.c.message_sid == message_sid)
                .values(**about)
            ).rowcount
            if not updated and not self._insert(conn, message_sid, "queued", None, now, about):
                conn.execute(
                    sa.update(t.delivery_status)
                    .where(t.delivery_status.c.message_sid == message_sid)
                    .values(**about)
                )

    def record_status(self, message_sid: str, status: str, error_code: int | None = None) -> Update:
        """Twilio's side: a status callback. Older or repeated ones change nothing."""
        now = time.time()
        status = status.lower()
        rank = _RANK.get(status, 0)
        with self.engine.begin() as conn:
            row = self._row(conn, message_sid)
            if row is None:
                if self._insert(conn, message_sid, status, error_code, now, {}):
                    current = self._row(conn, message_sid)
                    assert current is not None
                    return Update(current, True, current.failed)
                row = self._row(conn, message_sid)  # inserted by a concurrent callback
                assert row is not None
            if row.failed or rank <= _RANK.get(row.status, 0):
                return Update(row, False, False)
            # Compare-and-set on the status read: of two callbacks at once, one moves it.
            moved = (
                conn.execute(
                    sa.update(t.delivery_status)
                    .where(
                        t.delivery_status.c.message_sid == message_sid,
                        t.delivery_status.c.status == row.status,
                    )
                    .values(status=status, error_code=error_code, updated_at=now)
                ).rowcount
                == 1
            )
            current = self._row(conn, message_sid)
            assert current is not None
            return Update(current, moved, moved and current.failed)

    def status(self, message_sid: str) -> DeliveryStatus | None:
        with self.engine.connect() as conn:
            return self._row(conn, message_sid)

    def for_ticket(self, ticket_id: int, failed_only: bool = False) -> list[DeliveryStatus]:
        """The ticket's messages with their state, oldest first (the desk shows failures)."""
        query = sa.select(t.delivery_status).where(t.delivery_status.c.ticket_id == ticket_id)
        if failed_only:
            query = query.where(t.delivery_status.c.status.in_(FAILED_STATUSES))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(t.delivery_status.c.created_at)).all()
        return [_status(r) for r in rows]

    def erase_person(self, person: str) -> int:
        """Forget the delivery reports about a person's tickets ("delete my data")."""
        with self.engine.begin() as conn:
            return conn.execute(
                sa.delete(t.delivery_status).where(t.delivery_status.c.person == person)
            ).rowcount

    def purge_before(self, cutoff: float) -> int:
        """Delete reports last updated before ``cutoff`` (retention)."""
        with self.engine.begin() as conn:
            return conn.execute(
                sa.delete(t.delivery_status).where(t.delivery_status.c.updated_at < cutoff)
            ).rowcount

    def _insert(
        self,
        conn: Connection,
        message_sid: str,
        status: str,
        error_code: int | None,
        now: float,
        about: dict[str, Any],
    ) -> bool:
        try:
            with conn.begin_nested():
                conn.execute(
                    sa.insert(t.delivery_status).values(
                        message_sid=message_sid,
                        status=status,
                        error_code=error_code,
                        created_at=now,
                        updated_at=now,
                        **about,
                    )
                )
        except IntegrityError:
            return False
        return True

    @staticmethod
    def _row(conn: Connection, message_sid: str) -> DeliveryStatus | None:
        row = conn.execute(
            sa.select(t.delivery_status).where(t.delivery_status.c.message_sid == message_sid)
        ).first()
        return _status(row) if row else None

    # --- mediators' windows -----------------------------------------------------------------

    def record_inbound(self, address: str, at: float | None = None) -> None:
        """A mediator's WhatsApp number wrote to the business number (their window opens)."""
        at = time.time() if at is None else at
        with self.engine.begin() as conn:
            known = conn.execute(
                sa.select(t.whatsapp_windows.c.address).where(
                    t.whatsapp_windows.c.address == address
                )
            ).first()
            if known is None:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            sa.insert(t.whatsapp_windows).values(
                                address=address, last_inbound_at=at
                            )
                        )
                    return
                except IntegrityError:  # inserted by another process meanwhile
                    pass
            # The newest time wins, whatever order two processes write in.
            conn.execute(
                sa.update(t.whatsapp_windows)
                .where(
                    t.whatsapp_windows.c.address == address,
                    t.whatsapp_windows.c.last_inbound_at < at,
                )
                .values(last_inbound_at=at)
            )

    def last_inbound(self, address: str) -> float | None:
        """When the mediator at ``address`` last wrote, if ever."""
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(t.whatsapp_windows.c.last_inbound_at).where(
                    t.whatsapp_windows.c.address == address
                )
            ).scalar()


def _status(row: Any) -> DeliveryStatus:
    return DeliveryStatus(
        message_sid=row.message_sid,
        status=row.status,
        error_code=row.error_code,
        ticket_id=row.ticket_id,
        person=row.person,
        recipient=row.recipient,
        mediator_id=row.mediator_id,
        outbox_key=row.outbox_key,
        updated_at=row.updated_at,
    )


@lru_cache(maxsize=4)
def get_delivery_store(database_url: str | None = None) -> DeliveryStore:
    """The process's store for DATABASE_URL (or another URL, in tests)."""
    return DeliveryStore(database_url or get_settings().database_url)


def erase_person(person: str, database_url: str | None = None) -> int:
    """Forget a person's delivery reports: the call "delete my data" makes."""
    return get_delivery_store(database_url).erase_person(person)
