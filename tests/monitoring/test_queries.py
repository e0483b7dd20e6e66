"""A period's figures are the same whether counted from rollups and one read, or turn by turn.

``monitoring.queries.summary`` takes a finished month from its rollup and counts the days
around it from the turns, every breakdown from one read, with numpy. Here the same period is
also counted straight from the turns in SQL, one ``count(DISTINCT person)`` per breakdown,
as the dashboard did before, and every cell and every figure of the summary must agree. On
SQLite and on PostgreSQL, which read the turns differently (rows, ``string_agg``).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
import sqlalchemy as sa

from monitoring import queries, schema
from monitoring.events import ROME
from monitoring.store import MonitoringStore
from tests.databases import postgres_database
from tests.monitoring.factory import turn

# "Today" is 11 November: October is over and inside the period (read from its rollup); the
# last week of September and the first ten days of November are loose days, from the turns.
START, END, TODAY = dt.date(2026, 9, 24), dt.date(2026, 11, 10), dt.date(2026, 11, 11)
DIMENSIONS = ("outcome", "service", "faq", "language", "province", "channel", "out_of_hours")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    """A store holding seven weeks of varied turns, and a few outside the period."""
    if request.param == "sqlite":
        made = MonitoringStore(f"sqlite:///{tmp_path / 'monitoring.db'}")
        _fill(made)
        yield made
        made.engine.dispose()
        return
    with postgres_database("monitoring_queries") as url:
        made = MonitoringStore(url)
        _fill(made)
        yield made
        made.engine.dispose()


def _fill(store: MonitoringStore, seed: int = 18) -> None:
    rng = random.Random(seed)
    first = dt.datetime.combine(START - dt.timedelta(days=3), dt.time(), ROME).timestamp()
    seconds = ((END - START).days + 7) * 86400
    for index in range(700):
        store.record(
            f"sender{rng.randrange(45)}",
            turn(
                at=first + rng.random() * seconds,
                channel=rng.choice(["telegram", "whatsapp", "webchat"]),
                language=rng.choice(["it", "ar", "en", "fr", "uk", None]),
                service=rng.choice(["tax_code", "asylum", "health", "employment", None]),
                faq=rng.choice([None, None, "tax_code-q1", "health-q2", f"rare-{index % 40}"]),
                province=rng.choice(["BA", "LE", "FG", None]),
                outcome=rng.choices(["answered", "fallback", "handover"], [8, 2, 1])[0],
                out_of_hours=rng.random() < 0.3,
                text="",
            ),
        )


def _key(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def counted_directly(
    conn: sa.engine.Connection, start: dt.date, end: dt.date, province: str | None
) -> dict[tuple[str, str], list[int]]:
    """(dimension, value) → [turns, people] of the period, straight from every turn in it."""
    t = schema.turns.c
    where = [t.day >= start, t.day <= end, *([t.province == province] if province else [])]
    people = sa.func.count(sa.distinct(t.person))
    turns, total_people = conn.execute(sa.select(sa.func.count(), people).where(*where)).one()
    conversations = conn.execute(
        sa.select(sa.func.count()).select_from(
            sa.select(t.person, t.day).where(*where).distinct().subquery()
        )
    ).scalar()
    cells = {("total", ""): [turns, total_people], ("conversations", ""): [conversations, 0]}
    for dimension in (*DIMENSIONS, "week"):
        column = t[dimension]
        for value, n, p in conn.execute(
            sa.select(column, sa.func.count(), people).where(*where).group_by(column)
        ):
            cells[(dimension, _key(value))] = [n, p]
    answered = sa.func.sum(sa.case((t.outcome == schema.ANSWERED, 1), else_=0))
    for week, n in conn.execute(sa.select(t.week, answered).where(*where).group_by(t.week)):
        cells[("week_answered", _key(week))] = [n, 0]
    return cells


@pytest.mark.parametrize("province", [None, "BA"])
def test_a_finished_month_with_loose_days_around_it_counts_as_its_turns_one_by_one(
    store, province, monkeypatch
):
    shown = queries.summary(store.engine, START, END, province, today=TODAY)
    with store.engine.connect() as conn:
        rolled_up = conn.execute(sa.select(schema.monthly.c.month).distinct()).scalars().all()
        cells = queries._period_cells(conn, store.engine, START, END, province, TODAY)
        direct = counted_directly(conn, START, END, province)
        loose = [
            conn.execute(
                sa.select(sa.func.count()).where(schema.turns.c.day.between(first, last))
            ).scalar()
            for first, last in ((START, dt.date(2026, 9, 30)), (dt.date(2026, 11, 1), END))
        ]
    assert rolled_up == ["2026-10"]  # October from its rollup...
    assert all(loose)  # ...and turns on the days at both edges
    assert cells == direct

    # The page, the JSON and the CSV show the summary: built from the direct count, the same.
    monkeypatch.setattr(
        queries,
        "_period_cells",
        lambda conn, engine, start, end, province, today: counted_directly(
            conn, start, end, province
        ),
    )
    assert queries.summary(store.engine, START, END, province, today=TODAY) == shown
    assert shown["people"] is not None and shown["faq"]["hidden_cells"] > 0  # both kinds of cell


def test_a_value_holding_a_separator_is_counted_all_the_same(store):
    """PostgreSQL's read joins fields with control characters; such a value makes it read rows."""
    at = dt.datetime(2026, 11, 5, 10, 0, tzinfo=ROME).timestamp()
    for index in range(6):
        store.record(f"odd{index}", turn(at=at, faq="odd\x1evalue\x1fhere", text=""))
    queries.rollup(store.engine, dt.date(2026, 10, 1))
    with store.engine.connect() as conn:
        cells = queries._period_cells(conn, store.engine, START, END, None, TODAY)
        direct = counted_directly(conn, START, END, None)
    assert cells[("faq", "odd\x1evalue\x1fhere")] == [6, 6]
    assert cells == direct
