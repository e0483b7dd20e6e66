"""Durable state of the public channels, in DATABASE_URL (SQLite locally, PostgreSQL in production).

Two small tables, created idempotently on first use:

``channel_inbox``
    One row per delivery the platform identified (Twilio ``MessageSid``, Telegram ``update_id``).
    Inserting it *claims* the delivery, so a retry of the same id, on this or another instance,
    finds the row and is acknowledged without a second answer. The row stays ``processing`` with
    the message (text and metadata) until Rasa has handled it and the replies went out; then it
    becomes ``done`` and the message is dropped. A row still ``processing`` after ``LEASE_SECONDS``
    belonged to an instance that died: the next retry or start-up takes it over (at most
    ``MAX_ATTEMPTS`` times, so a message that crashes Rasa cannot loop forever).
``channel_contacts``
    Pseudonym → real address, the one place a phone number or chat id is kept, because replying
    needs it. Also when the person last wrote (WhatsApp's 24-hour window) and the payloads of the
    last numbered options sent. :meth:`ChannelStore.forget` erases a person.

Redis (REDIS_URL) is deliberately not used for the inbox: taking over an abandoned message needs
a durable row that can be queried, which the database already gives every instance.

The engine is synchronous SQLAlchemy 1.4 in 2.0 style; the ``a*`` methods run it in a worker
thread so a slow database never blocks Rasa's event loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    create_engine,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from bot.settings import get_settings
from bot.sqlite import use_write_ahead_log

LEASE_SECONDS = 120.0
MAX_ATTEMPTS = 3
DONE_RETENTION_SECONDS = 7 * 24 * 3600  # platforms stop retrying long before this

PROCESSING = "processing"
DONE = "done"

metadata = MetaData()

channel_inbox = Table(
    "channel_inbox",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("delivery_id", String(64), primary_key=True),
    Column("state", String(12), nullable=False),
    Column("claimed_at", Float, nullable=False),
    Column("attempts", Integer, nullable=False, default=1),
    Column("payload", Text, nullable=True),
)

channel_contacts = Table(
    "channel_contacts",
    metadata,
    Column("pseudonym", String(40), primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("address", String(128), nullable=False),
    Column("last_inbound_at", Float, nullable=True),
    Column("last_options", Text, nullable=True),
)


@dataclass(frozen=True)
class Contact:
    """How to reach one person: the channel, the real address, and what the channel remembers."""

    pseudonym: str
    channel: str
    address: str
    last_inbound_at: float | None
    last_options: list[str]


@dataclass(frozen=True)
class PendingDelivery:
    """A delivery this instance has claimed and must process (fresh, retried or recovered)."""

    channel: str
    delivery_id: str
    payload: dict[str, Any]


class ChannelStore:
    """Inbox and contacts; one instance per process and database URL (see :func:`get_store`)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The engine, created with the tables on first use (worker threads may race here)."""
        if self._engine is not None:
            return self._engine
        with self._lock:
            if self._engine is not None:
                return self._engine
            url = make_url(self.database_url)
            connect_args: dict[str, Any] = {}
            if url.get_backend_name() == "sqlite":
                if url.database:
                    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
                # Worker threads share the pool; Rasa's tracker store may hold the write lock.
                connect_args = {"check_same_thread": False, "timeout": 15}
            # hide_parameters: a failed statement must not log addresses and message texts.
            engine = create_engine(url, future=True, connect_args=connect_args,
                                   hide_parameters=True)
            use_write_ahead_log(engine)
            try:
                metadata.create_all(engine, checkfirst=True)
            except (OperationalError, ProgrammingError):
                # Another process created them between the check and the CREATE.
                metadata.create_all(engine, checkfirst=True)
            self._engine = engine
            return engine

    def dispose(self) -> None:
        """Close pooled connections (tests, and processes that fork)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # --- inbox ----------------------------------------------------------------------------

    def claim(self, channel: str, delivery_id: str, payload: dict[str, Any]) -> bool:
        """Return True if this caller must process the delivery, False for a duplicate."""
        now = time.time()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(channel_inbox).values(
                        channel=channel, delivery_id=delivery_id, state=PROCESSING,
                        claimed_at=now, attempts=1, payload=json.dumps(payload),
                    )
                )
            return True
        except IntegrityError:
            pass
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(channel_inbox)
                .where(
                    _key(channel, delivery_id),
                    channel_inbox.c.state == PROCESSING,
                    channel_inbox.c.claimed_at < now - LEASE_SECONDS,
                    channel_inbox.c.attempts < MAX_ATTEMPTS,
                )
                .values(claimed_at=now, attempts=channel_inbox.c.attempts + 1)
            )
            return taken.rowcount == 1

    def finish(self, channel: str, delivery_id: str) -> None:
        """Mark a delivery answered and drop the message it carried."""
        with self.engine.begin() as conn:
            conn.execute(
                update(channel_inbox)
                .where(_key(channel, delivery_id))
                .values(state=DONE, payload=None)
            )

    def take_abandoned(self, channel: str) -> list[PendingDelivery]:
        """Claim deliveries whose instance died before answering; also purge old rows.

        Purged: every row claimed more than ``DONE_RETENTION_SECONDS`` ago, done or not. A row
        that failed for good keeps the address and text in its payload; it must not outlive
        the answered ones.
        """
        now = time.time()
        taken: list[PendingDelivery] = []
        with self.engine.begin() as conn:
            conn.execute(
                delete(channel_inbox).where(
                    channel_inbox.c.claimed_at < now - DONE_RETENTION_SECONDS,
                )
            )
            rows = conn.execute(
                select(channel_inbox.c.delivery_id, channel_inbox.c.claimed_at,
                       channel_inbox.c.payload)
                .where(
                    channel_inbox.c.channel == channel,
                    channel_inbox.c.state == PROCESSING,
                    channel_inbox.c.claimed_at < now - LEASE_SECONDS,
                    channel_inbox.c.attempts < MAX_ATTEMPTS,
                )
            ).all()
        for delivery_id, claimed_at, payload in rows:
            with self.engine.begin() as conn:
                # Compare-and-set on claimed_at: of several instances starting, one wins.
                result = conn.execute(
                    update(channel_inbox)
                    .where(_key(channel, delivery_id), channel_inbox.c.claimed_at == claimed_at)
                    .values(claimed_at=now, attempts=channel_inbox.c.attempts + 1)
                )
            if result.rowcount == 1 and payload:
                taken.append(PendingDelivery(channel, delivery_id, json.loads(payload)))
        return taken

    # --- contacts -------------------------------------------------------------------------

    def lookup(self, pseudonym: str) -> Contact | None:
        """Return the contact behind a pseudonym, or None if unknown or erased."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(channel_contacts).where(channel_contacts.c.pseudonym == pseudonym)
            ).first()
        if row is None:
            return None
        return Contact(
            pseudonym=row.pseudonym,
            channel=row.channel,
            address=row.address,
            last_inbound_at=row.last_inbound_at,
            last_options=json.loads(row.last_options) if row.last_options else [],
        )

    def record_inbound(self, pseudonym: str, channel: str, address: str) -> Contact | None:
        """Remember the address and the time of this message; return the contact as it was."""
        before = self.lookup(pseudonym)
        now = time.time()
        values = {"channel": channel, "address": address, "last_inbound_at": now}
        if before is None:
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(channel_contacts).values(pseudonym=pseudonym, **values))
                return None
            except IntegrityError:  # the same person, on another instance, just now
                pass
        with self.engine.begin() as conn:
            conn.execute(
                update(channel_contacts)
                .where(channel_contacts.c.pseudonym == pseudonym)
                .values(**values)
            )
        return before

    def set_options(self, pseudonym: str, payloads: list[str] | None) -> None:
        """Remember the payloads behind the numbered options just sent (None forgets them)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(channel_contacts)
                .where(channel_contacts.c.pseudonym == pseudonym)
                .values(last_options=json.dumps(payloads) if payloads else None)
            )

    def forget(self, pseudonym: str) -> bool:
        """Erase a person's address, channel state and inbox messages (for "delete my data").

        Inbox rows hold the address and text until they are done (or for good, when they
        failed); they are found by the address in their payload. A done row keeps only its
        delivery id, which names nobody.
        """
        contact = self.lookup(pseudonym)
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(channel_contacts).where(channel_contacts.c.pseudonym == pseudonym)
            )
            if contact is not None:
                rows = conn.execute(
                    select(channel_inbox.c.delivery_id, channel_inbox.c.payload).where(
                        channel_inbox.c.channel == contact.channel,
                        channel_inbox.c.payload.is_not(None))
                ).all()
                theirs = [delivery_id for delivery_id, payload in rows
                          if _addressed_from(payload, contact.address)]
                if theirs:
                    conn.execute(delete(channel_inbox).where(
                        channel_inbox.c.channel == contact.channel,
                        channel_inbox.c.delivery_id.in_(theirs)))
        return result.rowcount > 0

    # --- async wrappers -------------------------------------------------------------------

    async def aclaim(self, channel: str, delivery_id: str, payload: dict[str, Any]) -> bool:
        """Run :meth:`claim` in a worker thread."""
        return await asyncio.to_thread(self.claim, channel, delivery_id, payload)

    async def afinish(self, channel: str, delivery_id: str) -> None:
        """Run :meth:`finish` in a worker thread."""
        await asyncio.to_thread(self.finish, channel, delivery_id)

    async def atake_abandoned(self, channel: str) -> list[PendingDelivery]:
        """Run :meth:`take_abandoned` in a worker thread."""
        return await asyncio.to_thread(self.take_abandoned, channel)

    async def alookup(self, pseudonym: str) -> Contact | None:
        """Run :meth:`lookup` in a worker thread."""
        return await asyncio.to_thread(self.lookup, pseudonym)

    async def arecord_inbound(self, pseudonym: str, channel: str, address: str) -> Contact | None:
        """Run :meth:`record_inbound` in a worker thread."""
        return await asyncio.to_thread(self.record_inbound, pseudonym, channel, address)

    async def aset_options(self, pseudonym: str, payloads: list[str] | None) -> None:
        """Run :meth:`set_options` in a worker thread."""
        await asyncio.to_thread(self.set_options, pseudonym, payloads)

    async def aforget(self, pseudonym: str) -> bool:
        """Run :meth:`forget` in a worker thread."""
        return await asyncio.to_thread(self.forget, pseudonym)


def _addressed_from(payload: str, address: str) -> bool:
    """Whether an inbox payload came from ``address`` (WhatsApp "from", Telegram "chat_id")."""
    try:
        data = json.loads(payload)
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    return any(str(data.get(key)) == address for key in ("from", "chat_id", "order_key")
               if data.get(key) is not None)


def _key(channel: str, delivery_id: str) -> Any:
    return and_(channel_inbox.c.channel == channel, channel_inbox.c.delivery_id == delivery_id)


@lru_cache(maxsize=4)
def get_store(database_url: str | None = None) -> ChannelStore:
    """Return the process's store for DATABASE_URL (or another URL, in tests)."""
    return ChannelStore(database_url or get_settings().database_url)
