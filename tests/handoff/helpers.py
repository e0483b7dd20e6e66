"""Helpers of the handoff tests (imported by the test modules and conftest.py)."""

from __future__ import annotations

import threading
import time as real_time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from bot.settings import Settings, get_settings
from handoff.records import OutboxRow
from handoff.store import HandoffStore


class Clock:
    """Stands in for the ``time`` module of the handoff stores: real time plus ``offset``."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return real_time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def prepare_sqlite(url: str) -> None:
    from handoff.db import migrate

    migrate(url).dispose()


def prepare_postgres(url: str) -> None:
    from handoff.db import migrate

    migrate(url).dispose()


def empty_postgres(url: str) -> None:
    """Empty the handoff tables (ids restart at 1), as if the database were new."""
    from handoff.schema import metadata

    engine = sa.create_engine(url, future=True)
    try:
        with engine.begin() as conn:
            names = ", ".join(table.name for table in metadata.sorted_tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


def settings_for(url: str, **changes: Any) -> Settings:
    """The process settings with this database and, unless given, no mediators' group."""
    values: dict[str, Any] = dict(
        database_url=url,
        telegram_mediator_chat_id=None,
        mediator_group_language="it",
        handoff_reminder_minutes=10,
        handoff_default_wait_minutes=15,
    )
    values.update(changes)
    return replace(get_settings(), **values)


def rows(
    store: HandoffStore, destination: str | None = None, address: str | None = None
) -> list[OutboxRow]:
    """Every queued row (any state) for this destination/address, in order."""
    return [row for row, _ in store.outbox.rows(destination, address)]


def texts(
    store: HandoffStore, destination: str | None = None, address: str | None = None
) -> list[str]:
    return [row.payload["text"] for row in rows(store, destination, address)]


def states(store: HandoffStore) -> dict[int, str]:
    return {row.id: state for row, state in store.outbox.rows()}


def count(store: HandoffStore, table: sa.Table, where: Any = None) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    if where is not None:
        query = query.where(where)
    with store.engine.connect() as conn:
        return conn.execute(query).scalar_one()


def together(*calls: Callable[[], Any], timeout: float = 30.0) -> list[tuple[str, Any]]:
    """Run the calls in threads released at the same instant; ("ok", result) or ("error", exc)."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, Any]] = [("missing", None)] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait(timeout)
        try:
            results[index] = ("ok", call())
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[index] = ("error", exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results
