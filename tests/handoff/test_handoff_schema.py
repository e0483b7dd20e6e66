"""The Alembic migration of the handoff tables creates exactly handoff.schema, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.kb.db import make_engine
from handoff import schema
from handoff.db import current_revision, migrate

HEAD = "0006"


@pytest.fixture
def empty_sqlite(tmp_path: Path) -> Iterator[sa.engine.Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def empty_postgres() -> Iterator[sa.engine.Engine]:
    from tests.databases import postgres_database

    with postgres_database("handoff_schema") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _assert_migration_matches_schema(engine: sa.engine.Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    assert current_revision(engine) is None
    migrate(engine)
    assert current_revision(engine) == HEAD
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"version_table": schema.VERSION_TABLE, "compare_type": True}
        )
        diff = compare_metadata(context, schema.metadata)
        tables = set(sa.inspect(conn).get_table_names())
        indexes = {ix["name"]: ix for ix in sa.inspect(conn).get_indexes("handoff_tickets")}
    assert diff == []
    assert tables == {
        "handoff_alembic_version",
        "handoff_mediators",
        "handoff_tickets",
        "handoff_events",
        "handoff_messages",
        "handoff_outbox",
        "handoff_media",
        "handoff_media_links",
        "handoff_delivery_status",
        "handoff_whatsapp_windows",
    }
    # The partial unique index that keeps one open ticket per person is really there.
    assert indexes["ix_handoff_tickets_one_open_per_person"]["unique"]
    # Migrating again is a no-op.
    migrate(engine)
    assert current_revision(engine) == HEAD


def _one_open_ticket_per_person(engine: sa.engine.Engine) -> None:
    """The index is partial: a second open ticket is refused, a closed one is not."""
    row = dict(
        person="p", channel="telegram", language="ar", reason="request", priority=0, opened_at=1.0
    )
    with engine.begin() as conn:
        conn.execute(sa.insert(schema.tickets).values(status="closed", **row))
        conn.execute(sa.insert(schema.tickets).values(status="closed", **row))
        conn.execute(sa.insert(schema.tickets).values(status="waiting", **row))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.insert(schema.tickets).values(status="claimed", **row))
    with engine.begin() as conn:  # server defaults work (a mediator without explicit flags)
        conn.execute(sa.insert(schema.mediators).values(name="m", languages="ar", created_at=1.0))
        active = conn.execute(sa.select(schema.mediators.c.active)).scalar_one()
        awaiting = conn.execute(sa.select(schema.tickets.c.awaiting_rating)).scalars().all()
        announcements = conn.execute(sa.select(schema.tickets.c.announcements)).scalars().all()
    assert active is True
    assert awaiting == [False, False, False] and announcements == [0, 0, 0]


def test_migration_matches_schema_on_sqlite(empty_sqlite: sa.engine.Engine) -> None:
    _assert_migration_matches_schema(empty_sqlite)
    _one_open_ticket_per_person(empty_sqlite)


@pytest.mark.postgres
def test_migration_matches_schema_on_postgresql(empty_postgres: sa.engine.Engine) -> None:
    _assert_migration_matches_schema(empty_postgres)
    _one_open_ticket_per_person(empty_postgres)
