"""Durable state of the public channels, in DATABASE_URL (SQLite locally, PostgreSQL in production).

Three small tables, created idempotently on first use:

``channel_inbox``
    One row per delivery the platform identified (Twilio ``MessageSid``, Telegram ``update_id``).
    Inserting it *claims* the delivery, so a retry of the same id, on this or another instance,
    finds the row and is acknowledged without a second answer. The row stays ``processing`` with
    the message (text and metadata) until the turn is over; then it becomes ``done`` (or
    ``failed``, when the person was told it could not be answered) and the message is dropped.
    ``claimed_at`` is a lease: the instance working on the row renews it every few seconds, so
    a row not renewed for ``LEASE_SECONDS`` belonged to an instance that died, and any instance
    takes it over (compare-and-set on ``claimed_at``: one wins). ``attempts`` counts those
    starts; a message that kills its process every time is given up after ``MAX_ATTEMPTS``.
``channel_replies``
    The reply parts a delivery has sent, numbered in the order the turn produces them. A part
    is recorded ``sending`` before the platform is called and ``sent`` after, so a turn retried
    after a crash or an error skips what already went out; a part left ``sending`` is the one
    whose fate the crash hid (see ``channels.replies``). Dropped with the message when the
    delivery is over.
``channel_contacts``
    Pseudonym → real address, the one place a phone number or chat id is kept, because replying
    needs it. Also when the person last wrote (WhatsApp's 24-hour window) and the payloads of the
    last numbered options sent. :meth:`ChannelStore.forget` erases a person.

Redis (REDIS_URL) is deliberately not used for the inbox: taking over an abandoned message needs
a durable row that can be queried, which the database already gives every instance. When the
database itself is down, the webhook keeps the delivery in a local spool instead
(``channels.spool``, in ``spool_dir``).

The engine is synchronous SQLAlchemy 1.4 in 2.0 style; the ``a*`` methods run it in a worker
thread so a slow database never blocks Rasa's event loop. Pooled connections are pinged before
use: after an outage the first query must not fail on a connection the server closed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import Iterable, Mapping
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

from bot.settings import VAR_DIR, get_settings
from bot.sqlite import use_write_ahead_log

LEASE_SECONDS = 30.0  # renewed every LEASE_SECONDS / 3 by the instance working on the row
MAX_ATTEMPTS = 3  # starts of one delivery (the first and two takeovers after a crash)
DONE_RETENTION_SECONDS = 7 * 24 * 3600  # platforms stop retrying long before this
CONNECT_TIMEOUT_SECONDS = 5  # PostgreSQL: a webhook must fall back to the spool well within 15 s

PROCESSING = "processing"
DONE = "done"
FAILED = "failed"

# What begin_reply finds: send it; already sent; begun by an earlier try whose outcome is
# unknown; or begun by a later attempt (another instance took the delivery over).
NEW, SENT, UNSURE, TAKEN = "new", "sent", "unsure", "taken"

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

channel_replies = Table(
    "channel_replies",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("delivery_id", String(64), primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("state", String(8), nullable=False),  # "sending" | "sent"
    Column("attempt", Integer, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("began_at", Float, nullable=False),
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
    """A delivery this instance has claimed and must process (fresh, retried or recovered).

    ``claimed_at`` is the lease value this instance wrote (renewals compare against it);
    ``attempt`` which start this is; ``exhausted`` that it must not be tried again.
    """

    channel: str
    delivery_id: str
    payload: dict[str, Any]
    attempt: int = 1
    claimed_at: float = 0.0

    @property
    def exhausted(self) -> bool:
        return self.attempt > MAX_ATTEMPTS


@dataclass(frozen=True)
class ReplyClaim:
    """What :meth:`ChannelStore.begin_reply` found; ``began_at`` of an earlier try if UNSURE."""

    state: str
    began_at: float = 0.0


class ChannelStore:
    """Inbox and contacts; one instance per process and database URL (see :func:`get_store`)."""

    def __init__(self, database_url: str, spool_dir: Path | None = None) -> None:
        self.database_url = database_url
        # Deliveries kept while the database is down belong to this database: the folder is
        # named after it, so an instance on another database never takes them.
        digest = hashlib.sha256(database_url.encode("utf-8")).hexdigest()[:16]
        self.spool_dir = spool_dir or VAR_DIR / "inbox-spool" / digest
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
            elif url.get_backend_name() == "postgresql":
                connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
            # hide_parameters: a failed statement must not log addresses and message texts.
            engine = create_engine(
                url,
                future=True,
                pool_pre_ping=True,
                connect_args=connect_args,
                hide_parameters=True,
            )
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

    def claim(
        self, channel: str, delivery_id: str, payload: dict[str, Any]
    ) -> PendingDelivery | None:
        """Return the delivery if this caller must process it, None for a duplicate.

        A row already there is a duplicate unless its lease expired (its instance died): then
        the caller takes it over, as one more attempt.
        """
        now = time.time()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(channel_inbox).values(
                        channel=channel,
                        delivery_id=delivery_id,
                        state=PROCESSING,
                        claimed_at=now,
                        attempts=1,
                        payload=json.dumps(payload),
                    )
                )
            return PendingDelivery(channel, delivery_id, payload, 1, now)
        except IntegrityError:
            pass
        with self.engine.begin() as conn:
            row = conn.execute(
                select(
                    channel_inbox.c.claimed_at, channel_inbox.c.attempts, channel_inbox.c.payload
                ).where(
                    _key(channel, delivery_id),
                    channel_inbox.c.state == PROCESSING,
                    channel_inbox.c.claimed_at < now - LEASE_SECONDS,
                )
            ).first()
        if row is None:
            return None
        return self._take_over(channel, delivery_id, row.claimed_at, row.attempts, row.payload)

    def _take_over(
        self, channel: str, delivery_id: str, claimed_at: float, attempts: int, payload: str | None
    ) -> PendingDelivery | None:
        # Compare-and-set on the lease: of several instances taking it over, one wins.
        now = time.time()
        with self.engine.begin() as conn:
            won = (
                conn.execute(
                    update(channel_inbox)
                    .where(
                        _key(channel, delivery_id),
                        channel_inbox.c.state == PROCESSING,
                        channel_inbox.c.claimed_at == claimed_at,
                    )
                    .values(claimed_at=now, attempts=attempts + 1)
                ).rowcount
                == 1
            )
        if not won or not payload:
            return None
        return PendingDelivery(channel, delivery_id, json.loads(payload), attempts + 1, now)

    def renew(self, channel: str, leases: Mapping[str, float]) -> dict[str, float]:
        """Extend the leases this instance holds (delivery id → the ``claimed_at`` it wrote).

        Returns the new ``claimed_at`` of each lease still held; one missing was taken over by
        another instance or is over.
        """
        now = time.time()
        kept: dict[str, float] = {}
        with self.engine.begin() as conn:
            for delivery_id, claimed_at in leases.items():
                renewed = (
                    conn.execute(
                        update(channel_inbox)
                        .where(
                            _key(channel, delivery_id),
                            channel_inbox.c.state == PROCESSING,
                            channel_inbox.c.claimed_at == claimed_at,
                        )
                        .values(claimed_at=now)
                    ).rowcount
                    == 1
                )
                if renewed:
                    kept[delivery_id] = now
        return kept

    def save_payload(self, channel: str, delivery_id: str, payload: dict[str, Any]) -> None:
        """Replace the message kept with a delivery in progress."""
        with self.engine.begin() as conn:
            conn.execute(
                update(channel_inbox)
                .where(_key(channel, delivery_id), channel_inbox.c.state == PROCESSING)
                .values(payload=json.dumps(payload))
            )

    def finish(self, channel: str, delivery_id: str, state: str = DONE) -> None:
        """Mark a delivery answered (or ``FAILED``) and drop the message and its reply record."""
        with self.engine.begin() as conn:
            conn.execute(
                update(channel_inbox)
                .where(_key(channel, delivery_id))
                .values(state=state, payload=None)
            )
            conn.execute(
                delete(channel_replies).where(
                    channel_replies.c.channel == channel,
                    channel_replies.c.delivery_id == delivery_id,
                )
            )

    def take_abandoned(self, channel: str, held: Iterable[str] = ()) -> list[PendingDelivery]:
        """Claim deliveries whose lease expired (their instance died before answering).

        ``held``: deliveries this instance is working on, whose lease only looks expired
        because the database was away when it should have been renewed. A delivery returned
        ``exhausted`` has had its attempts: the caller tells the person and gives up.
        """
        now = time.time()
        held = set(held)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    channel_inbox.c.delivery_id,
                    channel_inbox.c.claimed_at,
                    channel_inbox.c.attempts,
                    channel_inbox.c.payload,
                )
                .where(
                    channel_inbox.c.channel == channel,
                    channel_inbox.c.state == PROCESSING,
                    channel_inbox.c.claimed_at < now - LEASE_SECONDS,
                )
                .order_by(channel_inbox.c.claimed_at)
            ).all()
        taken = []
        for row in rows:
            if row.delivery_id in held:
                continue
            delivery = self._take_over(
                channel, row.delivery_id, row.claimed_at, row.attempts, row.payload
            )
            if delivery is not None:
                taken.append(delivery)
        return taken

    def purge_done(self) -> int:
        """Delete every row claimed more than ``DONE_RETENTION_SECONDS`` ago, done or not.

        A row that failed for good keeps the address and text in its payload: it must not
        outlive the answered ones.
        """
        with self.engine.begin() as conn:
            return conn.execute(
                delete(channel_inbox).where(
                    channel_inbox.c.claimed_at < time.time() - DONE_RETENTION_SECONDS,
                )
            ).rowcount

    # --- replies sent ---------------------------------------------------------------------

    def begin_reply(
        self, channel: str, delivery_id: str, part: int, attempt: int, digest: str
    ) -> ReplyClaim:
        """Record that part ``part`` of a delivery's replies is about to go out.

        NEW: send it. SENT: an earlier try did. UNSURE: an earlier try began it and recorded
        no outcome (it crashed or lost the database in between); the part now belongs to this
        try. TAKEN: a later attempt (another instance) holds it; this one must stop.
        """
        now = time.time()
        values = {"channel": channel, "delivery_id": delivery_id, "part": part}
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(channel_replies).values(
                        **values, state="sending", attempt=attempt, digest=digest, began_at=now
                    )
                )
            return ReplyClaim(NEW)
        except IntegrityError:
            pass
        where = _part(channel, delivery_id, part)
        with self.engine.begin() as conn:
            row = conn.execute(select(channel_replies).where(where)).first()
            if row is None:  # released meanwhile: ask again
                return self.begin_reply(channel, delivery_id, part, attempt, digest)
            if row.state == "sent":
                return ReplyClaim(SENT)
            if row.attempt > attempt:
                return ReplyClaim(TAKEN)
            conn.execute(update(channel_replies).where(where).values(attempt=attempt))
        return ReplyClaim(UNSURE, row.began_at)

    def reply_sent(self, channel: str, delivery_id: str, part: int) -> None:
        """The platform accepted the part."""
        with self.engine.begin() as conn:
            conn.execute(
                update(channel_replies)
                .where(_part(channel, delivery_id, part))
                .values(state="sent")
            )

    def release_reply(self, channel: str, delivery_id: str, part: int) -> None:
        """The platform refused the part or never got it: it was not sent."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(channel_replies).where(
                    _part(channel, delivery_id, part), channel_replies.c.state == "sending"
                )
            )

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
                        channel_inbox.c.payload.is_not(None),
                    )
                ).all()
                theirs = [
                    delivery_id
                    for delivery_id, payload in rows
                    if _addressed_from(payload, contact.address)
                ]
                if theirs:
                    conn.execute(
                        delete(channel_inbox).where(
                            channel_inbox.c.channel == contact.channel,
                            channel_inbox.c.delivery_id.in_(theirs),
                        )
                    )
        return result.rowcount > 0

    # --- async wrappers -------------------------------------------------------------------

    async def aclaim(
        self, channel: str, delivery_id: str, payload: dict[str, Any]
    ) -> PendingDelivery | None:
        """Run :meth:`claim` in a worker thread."""
        return await asyncio.to_thread(self.claim, channel, delivery_id, payload)

    async def arenew(self, channel: str, leases: Mapping[str, float]) -> dict[str, float]:
        """Run :meth:`renew` in a worker thread."""
        return await asyncio.to_thread(self.renew, channel, dict(leases))

    async def asave_payload(self, channel: str, delivery_id: str, payload: dict[str, Any]) -> None:
        """Run :meth:`save_payload` in a worker thread."""
        await asyncio.to_thread(self.save_payload, channel, delivery_id, payload)

    async def afinish(self, channel: str, delivery_id: str, state: str = DONE) -> None:
        """Run :meth:`finish` in a worker thread."""
        await asyncio.to_thread(self.finish, channel, delivery_id, state)

    async def atake_abandoned(
        self, channel: str, held: Iterable[str] = ()
    ) -> list[PendingDelivery]:
        """Run :meth:`take_abandoned` in a worker thread."""
        return await asyncio.to_thread(self.take_abandoned, channel, set(held))

    async def abegin_reply(
        self, channel: str, delivery_id: str, part: int, attempt: int, digest: str
    ) -> ReplyClaim:
        """Run :meth:`begin_reply` in a worker thread."""
        return await asyncio.to_thread(
            self.begin_reply, channel, delivery_id, part, attempt, digest
        )

    async def areply_sent(self, channel: str, delivery_id: str, part: int) -> None:
        """Run :meth:`reply_sent` in a worker thread."""
        await asyncio.to_thread(self.reply_sent, channel, delivery_id, part)

    async def arelease_reply(self, channel: str, delivery_id: str, part: int) -> None:
        """Run :meth:`release_reply` in a worker thread."""
        await asyncio.to_thread(self.release_reply, channel, delivery_id, part)

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
    return any(
        str(data.get(key)) == address
        for key in ("from", "chat_id", "order_key")
        if data.get(key) is not None
    )


def _key(channel: str, delivery_id: str) -> Any:
    return and_(channel_inbox.c.channel == channel, channel_inbox.c.delivery_id == delivery_id)


def _part(channel: str, delivery_id: str, part: int) -> Any:
    return and_(
        channel_replies.c.channel == channel,
        channel_replies.c.delivery_id == delivery_id,
        channel_replies.c.part == part,
    )


@lru_cache(maxsize=4)
def get_store(database_url: str | None = None) -> ChannelStore:
    """Return the process's store for DATABASE_URL (or another URL, in tests)."""
    return ChannelStore(database_url or get_settings().database_url)
