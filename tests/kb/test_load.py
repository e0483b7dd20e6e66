"""Loading: idempotent, complete (removals too), and all-or-nothing — on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from bot.kb import schema
from bot.kb.db import current_revision, migrate
from bot.kb.load import count_rows, load
from tests.kb.conftest import line_of


def _offices(engine: sa.engine.Engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(
                schema.offices.c.id, schema.offices.c.name, schema.offices.c.address
            ).order_by(schema.offices.c.id)
        ).all()


def test_load_twice_changes_nothing(knowledge: Path, engine: sa.engine.Engine) -> None:
    first = load(knowledge, engine)
    assert not first.problems
    assert first.changes["kb_comuni"].added == 257
    assert first.changes["kb_provinces"].added == 6
    assert first.changes["kb_offices"].added == 9
    before = count_rows(engine)

    second = load(knowledge, engine)
    assert not second.problems
    assert not second.changed
    assert second.summary_lines() == ["nothing changed: the database already matches the files"]
    assert count_rows(engine) == before


def test_edit_and_removal_reach_the_database(knowledge: Path, engine: sa.engine.Engine) -> None:
    load(knowledge, engine)
    fg = knowledge / "offices" / "fg.yml"
    fg.write_text(
        fg.read_text().replace(
            "serves: {provinces: [FG]}",
            'address: "Via Gramsci 1, Foggia"\n    serves: {provinces: [FG]}',
        )
    )
    (knowledge / "offices" / "bt.yml").unlink()

    result = load(knowledge, engine)

    assert not result.problems
    assert result.changes["kb_offices"].updated == 1
    assert result.changes["kb_offices"].removed == 2
    assert result.changes["kb_office_hours"].removed == 10
    ids = [row.id for row in _offices(engine)]
    assert "questura-bat" not in ids and "anagrafe-barletta" not in ids
    assert (
        "questura-foggia",
        "Questura di Foggia - Ufficio Immigrazione",
        "Via Gramsci 1, Foggia",
    ) in _offices(engine)
    with engine.connect() as conn:
        orphans = conn.execute(
            sa.select(sa.func.count())
            .select_from(schema.office_hours)
            .where(schema.office_hours.c.office_id == "questura-bat")
        )
        assert orphans.scalar_one() == 0


def _rejected(
    knowledge: Path, engine: sa.engine.Engine, path: Path, broken: str, expected: str
) -> None:
    """Load good content, break ``path`` (plus a valid edit elsewhere); nothing may change."""
    assert not load(knowledge, engine).problems
    before_counts, before_offices = count_rows(engine), _offices(engine)
    path.write_text(broken)
    regional = knowledge / "offices" / "regional.yml"
    regional.write_text(
        regional.read_text().replace(
            '"Commissione territoriale di Bari"', '"Commissione territoriale - Bari"'
        )
    )

    result = load(knowledge, engine)

    assert expected in [str(p) for p in result.problems], result.problems
    assert count_rows(engine) == before_counts
    assert _offices(engine) == before_offices


def test_close_before_open_is_rejected_with_line(knowledge: Path, engine: sa.engine.Engine) -> None:
    ba = knowledge / "offices" / "ba.yml"
    broken = ba.read_text().replace('close: "12:00"', 'close: "08:00"', 1)  # anagrafe-bari
    line = line_of(ba, "- days: [mon, tue, wed, thu, fri]", 2)
    _rejected(knowledge, engine, ba, broken, f"{ba}:{line}: closes (08:00) before it opens (09:00)")


def test_duplicate_id_across_files_is_rejected(knowledge: Path, engine: sa.engine.Engine) -> None:
    fg = knowledge / "offices" / "fg.yml"
    broken = fg.read_text().replace("id: questura-foggia", "id: questura-bari")
    _rejected(
        knowledge,
        engine,
        fg,
        broken,
        f"{fg}:2: duplicate id 'questura-bari' (first at {knowledge / 'offices' / 'ba.yml'}:2)",
    )


def test_unknown_comune_is_rejected(knowledge: Path, engine: sa.engine.Engine) -> None:
    le = knowledge / "offices" / "le.yml"
    broken = le.read_text().replace(
        "serves: {provinces: [LE]}", 'serves: {comuni: ["Lecce", "Nardox"]}'
    )
    _rejected(
        knowledge,
        engine,
        le,
        broken,
        f"{le}:{line_of(le, 'serves:')}: unknown comune 'Nardox' (did you mean 'Nardò'?)",
    )


def test_migrations_match_the_schema_and_use_their_own_version_table(
    engine: sa.engine.Engine,
) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    migrate(engine)
    assert current_revision(engine) == "0003"
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"version_table": schema.VERSION_TABLE, "compare_type": True}
        )
        diff = compare_metadata(context, schema.metadata)
        tables = set(sa.inspect(conn).get_table_names())
    assert diff == []
    assert "kb_alembic_version" in tables and "alembic_version" not in tables
    assert all(t.startswith("kb_") for t in tables)
