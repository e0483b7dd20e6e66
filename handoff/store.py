"""The handoff's storage, one object per process: mediators, tickets, transcripts, ratings, outbox.

Each job has its own store over the shared :class:`handoff.db.Database`:

=====================  ========================================================================
``store.mediators``    who may claim, how to reach them, desk sign-in (``handoff.mediators``)
``store.tickets``      opening, claiming, releasing, closing, reminders (``handoff.tickets``)
``store.transcripts``  what was said, stored once whatever a webhook redelivers
``store.ratings``      the 1–5 after a mediator closes (``handoff.ratings``)
``store.outbox``       what must still be sent, claimed by the relay (``handoff.outbox``)
=====================  ========================================================================

Every state change is one transaction that also writes what must be sent because of it, so a
crash can never leave a claimed ticket whose person was not told, or a stored message that is
never relayed. Synchronous SQLAlchemy 1.4 in 2.0 style; callers on an event loop use
``asyncio.to_thread``.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.engine import Engine

from bot.settings import get_settings
from handoff.db import Database
from handoff.mediators import MediatorStore
from handoff.outbox import OutboxStore
from handoff.ratings import RatingStore
from handoff.tickets import TicketStore
from handoff.transcripts import TranscriptStore


class HandoffStore:
    """The five stores of one database (see the module docstring); holds no SQL of its own."""

    def __init__(self, database_url: str | Engine) -> None:
        self.db = Database(database_url)
        self.mediators = MediatorStore(self.db)
        self.outbox = OutboxStore(self.db)
        self.tickets = TicketStore(self.db, self.mediators)
        self.transcripts = TranscriptStore(self.db, self.tickets, self.mediators)
        self.ratings = RatingStore(self.db, self.tickets, self.mediators)

    @property
    def engine(self) -> Engine:
        """The engine, with the tables migrated to the latest revision on first use."""
        return self.db.engine

    def dispose(self) -> None:
        """Close pooled connections."""
        self.db.dispose()


@lru_cache(maxsize=4)
def get_handoff_store(database_url: str | None = None) -> HandoffStore:
    """The process's store for DATABASE_URL (or another URL, in tests)."""
    return HandoffStore(database_url or get_settings().database_url)
