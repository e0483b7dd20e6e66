"""Rasa lock store chosen by ``REDIS_URL``: the same files run one instance or many.

Rasa serialises the messages of one conversation with a lock. One process can keep it in
memory; several Rasa instances serving one number must share it, in Redis. endpoints.yml names
this class, and ``REDIS_URL`` (``redis://[:password@]host:port/db``) decides which store it
wraps, so no second endpoints file is needed for production.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.settings import get_settings

KEY_PREFIX = "puglia"


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
