"""Rasa lock store chosen by ``REDIS_URL``: the same files run one instance or many.

Rasa serialises the messages of one conversation with a lock. One process can keep it in
memory; several Rasa instances serving one number must share it, in Redis. endpoints.yml names
this class, and ``REDIS_URL`` (``redis://[:password@]host:port/db``) decides which store it
wraps, so no second endpoints file is needed for production.

When Redis is away, taking the lock fails and so does the turn; the channels' inbox retries it
until Redis is back (``channels.inbox``), and nothing stays half done. There is deliberately
no fallback to an in-memory lock: REDIS_URL is set because several instances serve one number,
and two of them running one conversation at once would interleave its saved turns.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.settings import get_settings

KEY_PREFIX = "puglia"
# Rasa calls Redis synchronously, on the event loop that serves every conversation: a Redis
# that stops answering must cost seconds, not Rasa's default of 10 per call.
SOCKET_TIMEOUT_SECONDS = 2.0


def redis_lock_store(url: str) -> RedisLockStore:
    """A RedisLockStore for a ``redis://`` or ``rediss://`` URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"REDIS_URL must start with redis:// or rediss://, got {parts.scheme!r}")
    db = parts.path.lstrip("/")
    return RedisLockStore(
        host=parts.hostname or "localhost",
        port=parts.port or 6379,
        db=int(db) if db else 1,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_ssl=parts.scheme == "rediss",
        key_prefix=KEY_PREFIX,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
    )


class SettingsLockStore(LockStore):
    """Delegates to Redis when ``REDIS_URL`` is set, else to memory."""

    def __init__(self, endpoint_config: EndpointConfig | None = None) -> None:
        url = get_settings().redis_url
        self.inner: LockStore = redis_lock_store(url) if url else InMemoryLockStore()

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return self.inner.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        self.inner.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self.inner.save_lock(lock)
