"""Fixtures of the handoff tests: fresh databases (SQLite and PostgreSQL), stores, a clock.

Every test starts from empty tables. SQLite files are copies of one file migrated once per
session (the migration itself is checked in test_handoff_schema.py); on PostgreSQL one
throwaway database (tests.databases) per session is emptied before each test, ids restarting.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from handoff.service import Handoff
from handoff.store import HandoffStore
from tests.handoff.helpers import (
    Clock,
    empty_postgres,
    prepare_postgres,
    prepare_sqlite,
    settings_for,
)


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("handoff_template") / "template.db"
    prepare_sqlite(f"sqlite:///{path}")
    return path


def _sqlite_url(template: Path, tmp_path: Path) -> str:
    path = tmp_path / "handoff.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def _migrated_postgres() -> Iterator[str]:
    """One throwaway PostgreSQL database per session (created on first use), migrated once."""
    from tests.databases import postgres_database

    with postgres_database("handoff_test") as url:
        prepare_postgres(url)
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, _migrated_sqlite: Path) -> str:
    """An empty database with the handoff tables, of each kind."""
    if request.param == "sqlite":
        return _sqlite_url(_migrated_sqlite, tmp_path)
    url = request.getfixturevalue("_migrated_postgres")
    empty_postgres(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, _migrated_sqlite: Path) -> str:
    """A fresh SQLite database with the handoff tables (for tests whose logic is not SQL)."""
    return _sqlite_url(_migrated_sqlite, tmp_path)


@pytest.fixture
def make_store() -> Iterator[Callable[[str], HandoffStore]]:
    """Stores for a URL (several for one database play several processes); disposed after."""
    made: list[HandoffStore] = []

    def make(url: str) -> HandoffStore:
        store = HandoffStore(url)
        store.engine  # noqa: B018 - migrate (a no-op check) before any timing-sensitive work
        made.append(store)
        return store

    yield make
    for store in made:
        store.dispose()


@pytest.fixture
def store(db_url: str, make_store: Callable[[str], HandoffStore]) -> HandoffStore:
    return make_store(db_url)


@pytest.fixture
def lite_store(sqlite_url: str, make_store: Callable[[str], HandoffStore]) -> HandoffStore:
    return make_store(sqlite_url)


@pytest.fixture
def handoff(store: HandoffStore, db_url: str) -> Handoff:
    """The service over ``store`` (both databases), without a Telegram group."""
    return Handoff(store, settings_for(db_url))


@pytest.fixture
def lite(lite_store: HandoffStore, sqlite_url: str) -> Handoff:
    """The service over a SQLite store, without a Telegram group."""
    return Handoff(lite_store, settings_for(sqlite_url))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The stores' clock, which tests move forward (the real time plus ``offset``)."""
    from handoff import mediators, outbox, ratings, tickets, transcripts

    fake = Clock()
    for store_module in (mediators, outbox, ratings, tickets, transcripts):
        monkeypatch.setattr(store_module, "time", fake)
    return fake
