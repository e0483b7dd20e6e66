"""SQLite settings for the local default database, shared by every engine that opens it.

In SQLite's default rollback-journal mode every commit costs ~14 ms of fsync on this kind of
machine, and a conversation turn commits several times (tracker store, channel inbox); in WAL
mode a commit costs ~1-3 ms and readers no longer block the writer. WAL is a property of the
database file; ``synchronous=NORMAL`` is per connection and, in WAL mode, can lose only the
last commits on a power cut, never corrupt the file. PostgreSQL engines are left alone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


def _write_ahead_log(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def use_write_ahead_log(engine: Engine) -> None:
    """Put every connection of a SQLite file engine in WAL mode (no-op for other databases)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return
    if not event.contains(engine, "connect", _write_ahead_log):
        event.listen(engine, "connect", _write_ahead_log)
        engine.dispose()  # connections opened before the listener reopen with it
