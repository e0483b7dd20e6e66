"""Engine and migrations of the handoff tables (the knowledge base's machinery, own folder).

:class:`Database` is what the handoff's stores share: one engine per database, the tables
migrated to the latest revision the first time any store touches them (not at import, not at
construction), SQLite in write-ahead-log mode so the relay's reads do not wait on writers.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection, Engine

from bot.kb import db as kb_db
from bot.sqlite import use_write_ahead_log
from handoff.schema import VERSION_TABLE

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def migrate(url: str | Engine, revision: str = "head") -> Engine:
    """Upgrade the handoff tables of ``url`` to ``revision``; return the engine."""
    return kb_db.migrate(url, revision, scripts=MIGRATIONS_DIR)


def current_revision(engine: Engine) -> str | None:
    """Return the revision of the handoff tables, or ``None`` before the first migration."""
    return kb_db.current_revision(engine, VERSION_TABLE)


class Database:
    """The handoff tables of one database, shared by the stores."""

    def __init__(self, database_url: str | Engine) -> None:
        self._url = database_url
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The engine, with the tables migrated to the latest revision on first use."""
        if self._engine is not None:
            return self._engine
        with self._lock:
            if self._engine is None:
                engine = migrate(self._url)
                use_write_ahead_log(engine)
                self._engine = engine
        return self._engine

    def dispose(self) -> None:
        """Close pooled connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def rows(self, query: Any, conn: Connection | None = None) -> list[Any]:
        """Run a SELECT inside the caller's transaction, or on a connection of its own."""
        if conn is not None:
            return conn.execute(query).all()
        with self.engine.connect() as own:
            return own.execute(query).all()
