"""The figures of the dashboard, its JSON and the monthly export, small cells already hidden.

One function, :func:`summary`, makes every figure for a period (days, Europe/Rome, both ends
included) and optionally one province; the page, ``api/summary`` and ``bot report monthly``
all show what it returns, so they cannot disagree, and the k-anonymity rule
(``monitoring.privacy``) is applied here, once. A hidden figure is ``None``.

Definitions:
- people: distinct person ids (one per person per calendar month, ``monitoring.store``);
- conversations: distinct (person, day) pairs; turns: messages a person sent;
- the outcome shares are of turns; handoff waits are from opening to claim, in minutes,
  over the tickets opened in the period and claimed, split by whether they were opened in or
  out of office hours (``monitoring.events.out_of_hours``); the time to close is from opening to
  closing; ratings are those given (1-5).

Speed: a finished month is counted once into ``monitoring_monthly`` (:func:`rollup`, by the
daily job or by the first request that needs it), per province and for all; a period reads the
rollups of its whole finished months and counts only the days at its edges from the turns.
People add up across months because person ids are per month. Days counted from the turns are
read once (one range scan of the columns needed, ``_read_turns``) and every breakdown is
counted from that one read with numpy (``_count_cells``). A GROUP BY per breakdown, or one with
GROUPING SETS, spent 0.5-0.7 s hashing the ~400,000 (value, person) pairs of 30 days of the
benchmark's turns; numpy flags them in a (value, person) table in milliseconds. Measured on a
year of a million turns: ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from monitoring import schema
from monitoring.events import ROME
from monitoring.privacy import K, visible

TOP = 10
ALL = "*"  # the province of rollup rows that cover all provinces
TOTAL, CONVERSATIONS, WEEK_ANSWERED = "total", "conversations", "week_answered"


def _dimensions() -> dict[str, Any]:
    t = schema.turns.c
    return {
        "outcome": t.outcome,
        "service": t.service,
        "faq": t.faq,
        "language": t.language,
        "province": t.province,
        "channel": t.channel,
        "out_of_hours": t.out_of_hours,
        "week": t.week,
    }


def _key(value: Any) -> str:
    """A dimension value as stored in the rollup ("" for none)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _turn_filter(start: dt.date, end: dt.date, province: str | None) -> list[Any]:
    t = schema.turns.c
    where = [t.day >= start, t.day <= end]
    if province:
        where.append(t.province == province)
    return where


def _ticket_filter(start: dt.date, end: dt.date, province: str | None) -> list[Any]:
    c = schema.tickets.c
    where = [c.day >= start, c.day <= end]
    if province:
        where.append(c.province == province)
    return where


Cells = dict[tuple[str, str, str], list[int]]  # (province, dimension, value) → [turns, people]

# Fields of a turn read as one string, joined by ``_JOIN``: each group has few distinct
# combinations (a day's week and services; outcome, channel, language, province, hours), so
# coding a turn's fields costs one dictionary look-up per group rather than one per field.
_GROUPS: tuple[tuple[str, ...], ...] = (
    ("day", "week", "service", "faq"),
    ("outcome", "channel", "language", "province", "out_of_hours"),
)
# ASCII record and unit separators, in no person id, code, province or date; a value holding
# one is noticed (a count that does not add up) and the turns are read as rows instead.
_JOIN, _SEPARATOR = "\x1e", "\x1f"

# The turns of a period, coded: each turn's person, the number of persons, and for each field
# (day and the dimensions) its distinct values and each turn's index into them.
Read = tuple[Any, int, dict[str, tuple[list[str], Any]]]


def _as_text(column: Any, dialect: str) -> Any:
    """``column`` as the text its cells are keyed by (``_key``): "" for none, ISO dates."""
    if isinstance(column.type, sa.Boolean):
        return sa.case((column, "true"), else_="false")
    if isinstance(column.type, sa.Date):
        # ISO on PostgreSQL (``_read_turns`` sets DateStyle); SQLite keeps dates as ISO text.
        return sa.cast(column, sa.String)
    return sa.func.coalesce(column, "") if column.nullable else column


def _codes(values: list[str]) -> tuple[list[str], Any]:
    """The distinct values and, for each turn, the index of its value (a numpy array)."""
    import numpy as np

    labels = list(set(values))
    index = {value: i for i, value in enumerate(labels)}
    return labels, np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))


def _split(group: tuple[str, ...], joined: list[str]) -> dict[str, tuple[list[str], Any]] | None:
    """Each field of ``group``, coded, from the turns' joined strings (None: does not split)."""
    import numpy as np

    combinations, codes = _codes(joined)
    parts = [combination.split(_JOIN) for combination in combinations]
    if any(len(part) != len(group) for part in parts):
        return None
    fields = {}
    for position, name in enumerate(group):
        labels = list(dict.fromkeys(part[position] for part in parts))
        index = {value: i for i, value in enumerate(labels)}
        of_combination = np.array([index[part[position]] for part in parts], dtype=np.int64)
        fields[name] = (labels, of_combination[codes])
    return fields


def _read_turns(conn: Connection, where: Sequence[Any]) -> Read:
    """The turns ``where`` selects, from one range scan of the few columns needed, coded.

    On PostgreSQL the person ids and each group of fields come back as one string each
    (``string_agg``), split here: quicker than fetching rows, and each column's strings lie
    together in memory, which makes coding them several times faster. The aggregates of one
    query are fed the same rows in the same order, so the columns line up. Elsewhere (SQLite),
    or if a value holds a separator, rows.
    """
    t = schema.turns.c
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(sa.text("SET LOCAL DateStyle = ISO"))  # this transaction only
        joined = [t.person]
        for group in _GROUPS:
            texts = [_as_text(t[name], dialect) for name in group]
            joined.append(sa.func.concat_ws(_JOIN, *texts))
        aggregates = [sa.func.string_agg(column, _SEPARATOR) for column in joined]
        n, *strings = conn.execute(sa.select(sa.func.count(), *aggregates).where(*where)).one()
        columns = [text.split(_SEPARATOR) for text in strings] if n else [[]] * len(joined)
        if all(len(column) == n for column in columns):
            fields: dict[str, tuple[list[str], Any]] = {}
            for group, column in zip(_GROUPS, columns[1:], strict=True):
                split = _split(group, column)
                if split is None:
                    break
                fields.update(split)
            else:
                person_labels, person = _codes(columns[0])
                return person, len(person_labels), fields
    names = [name for group in _GROUPS for name in group]
    rows = conn.execute(
        sa.select(t.person, *(_as_text(t[name], dialect) for name in names)).where(*where)
    ).all()
    columns = [list(column) for column in zip(*rows, strict=True)] or [[]] * (len(names) + 1)
    person_labels, person = _codes(columns[0])
    coded = zip(names, map(_codes, columns[1:]), strict=True)
    return person, len(person_labels), dict(coded)


# Above this many (value, person) slots, distinct pairs are found by sorting, not in a table.
_PAIR_TABLE_SLOTS = 50_000_000


def _people_per_value(values: Any, labels: int, person: Any, persons: int) -> Any:
    """How many distinct persons each of ``labels`` values has (numpy arrays of codes).

    A table of (value, person) flags is filled in one pass and summed by value: for 30 days
    of turns (~90 values by 20,000 persons, under 2 MB) that took 8 ms where sorting the
    pairs took 95 ms; sorting remains for tables too big to allocate.
    """
    import numpy as np

    if labels * persons <= _PAIR_TABLE_SLOTS:
        seen = np.zeros(labels * persons, dtype=bool)
        seen[values * persons + person] = True
        return seen.reshape(labels, persons).sum(axis=1)
    return np.bincount(np.unique(values * persons + person) // persons, minlength=labels)


def _tally(province: str, read: Read, rows: Any) -> Cells:
    """The cells of one province (or ``ALL``) over the turns at ``rows`` (a numpy selector)."""
    import numpy as np

    person, persons, fields = read
    who = person[rows]
    if not len(who):
        return {}
    people = int(np.count_nonzero(np.bincount(who, minlength=persons)))
    cells: Cells = {(province, TOTAL, ""): [len(who), people]}
    days, day = fields["day"]
    conversations = _people_per_value(day[rows], len(days), who, persons).sum()
    cells[(province, CONVERSATIONS, "")] = [int(conversations), 0]
    for dimension in _dimensions():
        labels, codes = fields[dimension]
        index = codes[rows]
        turns = np.bincount(index, minlength=len(labels))
        people_of = _people_per_value(index, len(labels), who, persons)
        for i in np.flatnonzero(turns):
            cells[(province, dimension, labels[i])] = [int(turns[i]), int(people_of[i])]
    week_labels, week = fields["week"]
    outcome_labels, outcome = fields["outcome"]
    answered = outcome[rows] == (
        outcome_labels.index(schema.ANSWERED) if schema.ANSWERED in outcome_labels else -1
    )
    weeks = week[rows]
    answered_by_week = np.bincount(weeks[answered], minlength=len(week_labels))
    for i in np.flatnonzero(np.bincount(weeks, minlength=len(week_labels))):
        cells[(province, WEEK_ANSWERED, week_labels[i])] = [int(answered_by_week[i]), 0]
    return cells


def _count_cells(read: Read, by_province: bool) -> Cells:
    """Turns and people of every dimension's values among the turns of ``read``.

    ``by_province``: one set of cells per known province (turns of no province left out),
    else one set for all (``ALL``).
    """
    import numpy as np

    if not by_province:
        return _tally(ALL, read, slice(None))
    cells: Cells = {}
    labels, codes = read[2]["province"]
    for i, province in enumerate(labels):
        if province:
            cells.update(_tally(province, read, np.equal(codes, i)))
    return cells


def _month_bounds(month_start: dt.date) -> tuple[dt.date, dt.date]:
    following = (month_start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return month_start, following - dt.timedelta(days=1)


def _full_months(start: dt.date, end: dt.date, today: dt.date) -> list[dt.date]:
    """First days of the months wholly inside ``start``..``end`` and over before ``today``."""
    months: list[dt.date] = []
    month = start if start.day == 1 else _month_bounds(start.replace(day=1))[1] + dt.timedelta(1)
    while True:
        first, last = _month_bounds(month)
        if last > end or last >= today:
            return months
        months.append(first)
        month = last + dt.timedelta(days=1)


def rollup(engine: sa.engine.Engine, month_start: dt.date) -> None:
    """Count a finished month once into ``monitoring_monthly`` (no-op if already there)."""
    label = month_start.strftime("%Y-%m")
    table = schema.monthly
    with engine.connect() as conn:
        if conn.execute(sa.select(table.c.month).where(table.c.month == label).limit(1)).first():
            return
        read = _read_turns(conn, _turn_filter(*_month_bounds(month_start), None))
    cells = _count_cells(read, by_province=False)
    cells.update(_count_cells(read, by_province=True))
    rows = [
        {
            "month": label,
            "province": p,
            "dimension": d,
            "value": v[:80],
            "turns": n,
            "people": people,
        }
        for (p, d, v), (n, people) in cells.items()
    ] or [
        {"month": label, "province": ALL, "dimension": TOTAL, "value": "", "turns": 0, "people": 0}
    ]
    try:
        with engine.begin() as conn:
            conn.execute(table.insert(), rows)
    except sa.exc.IntegrityError:  # made by another request meanwhile
        pass


def rollup_finished_months(engine: sa.engine.Engine, today: dt.date | None = None) -> int:
    """Roll up every finished month that has turns; return how many were made or found."""
    today = today or dt.datetime.now(ROME).date()
    t = schema.turns.c
    with engine.connect() as conn:
        first = conn.execute(sa.select(sa.func.min(t.day))).scalar()
    if first is None:
        return 0
    months = _full_months(first.replace(day=1), today, today)
    for month in months:
        rollup(engine, month)
    return len(months)


def _period_cells(
    conn: Connection,
    engine: sa.engine.Engine,
    start: dt.date,
    end: dt.date,
    province: str | None,
    today: dt.date,
) -> dict[tuple[str, str], list[int]]:
    """(dimension, value) → [turns, people] over the period: rollups plus raw edges."""
    months = _full_months(start, end, today)
    wanted = province or ALL
    cells: dict[tuple[str, str], list[int]] = {}

    def add(dimension: str, value: str, turns: int, people: int) -> None:
        cell = cells.setdefault((dimension, value), [0, 0])
        cell[0] += turns
        cell[1] += people

    raw_ranges = [(start, end)]
    if months:
        labels = [m.strftime("%Y-%m") for m in months]
        m = schema.monthly.c
        for d, v, n, people in conn.execute(
            sa.select(m.dimension, m.value, m.turns, m.people).where(
                m.month.in_(labels), m.province == wanted
            )
        ):
            add(d, v, n, people)
        raw_ranges = [
            (start, months[0] - dt.timedelta(days=1)),
            (_month_bounds(months[-1])[1] + dt.timedelta(days=1), end),
        ]
    for first, last in raw_ranges:
        if first > last:
            continue
        read = _read_turns(conn, _turn_filter(first, last, province))
        raw = _count_cells(read, by_province=False)
        for (_, d, v), (n, people) in raw.items():
            add(d, v, n, people)
    return cells


def _shown(
    cells: dict[tuple[str, str], list[int]],
    dimension: str,
    limit: int | None = TOP,
    keep_empty: bool = False,
) -> dict[str, Any]:
    """The cells of one dimension, most people first, those under K people hidden."""
    rows = sorted(
        ((v, n, p) for (d, v), (n, p) in cells.items() if d == dimension and (v or keep_empty)),
        key=lambda r: (-r[2], -r[1], r[0]),
    )
    shown = [{"value": v or None, "turns": n, "people": p} for v, n, p in rows if p >= K]
    return {"rows": shown[:limit] if limit else shown, "hidden_cells": len(rows) - len(shown)}


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0-1) by linear interpolation, None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# Fields of a ticket row in ``handoff_figures``.
_PERSON, _OPENED, _CLAIMED, _CLOSED, _RATING, _OUT_OF_HOURS = range(6)


def _waits(rows: Sequence[tuple[Any, ...]], until: int = _CLAIMED) -> dict[str, Any]:
    """Tickets and p50/p90 minutes from opening to ``until`` (claim, or close)."""
    people = len({r[_PERSON] for r in rows})
    minutes = [(r[until] - r[_OPENED]) / 60 for r in rows]
    p50, p90 = percentile(minutes, 0.5), percentile(minutes, 0.9)
    return {
        "tickets": visible(len(rows), people),
        "p50_minutes": round(p50, 1) if p50 is not None and people >= K else None,
        "p90_minutes": round(p90, 1) if p90 is not None and people >= K else None,
    }


def handoff_figures(
    conn: Connection, start: dt.date, end: dt.date, province: str | None
) -> dict[str, Any]:
    """Tickets, waits and ratings of the tickets opened in the period.

    Rows are plain tuples read by position: a year's 20,000 tickets through attribute access
    on SQLAlchemy rows took 0.25 s of a 0.3 s request.
    """
    c = schema.tickets.c
    rows = [
        tuple(r)
        for r in conn.execute(
            sa.select(
                c.person, c.opened_at, c.claimed_at, c.closed_at, c.rating, c.out_of_hours
            ).where(*_ticket_filter(start, end, province))
        )
    ]
    people = len({r[_PERSON] for r in rows})
    claimed = [r for r in rows if r[_CLAIMED] is not None]
    rated = [r for r in rows if r[_RATING] is not None]
    rated_people = len({r[_PERSON] for r in rated})
    by_score: dict[int, list[tuple[Any, ...]]] = {}
    for r in rated:
        by_score.setdefault(r[_RATING], []).append(r)
    distribution = {}
    for score in range(1, 6):
        cell = by_score.get(score, [])
        distribution[str(score)] = visible(len(cell), len({r[_PERSON] for r in cell}))
    mean = sum(r[_RATING] for r in rated) / len(rated) if rated else None
    return {
        "tickets": visible(len(rows), people),
        "people": visible(people, people),
        "claimed": visible(len(claimed), len({r[_PERSON] for r in claimed})),
        "wait_all": _waits(claimed),
        "wait_office_hours": _waits([r for r in claimed if not r[_OUT_OF_HOURS]]),
        "wait_out_of_hours": _waits([r for r in claimed if r[_OUT_OF_HOURS]]),
        "time_to_close": _waits([r for r in rows if r[_CLOSED] is not None], _CLOSED),
        "ratings": {
            "count": visible(len(rated), rated_people),
            "mean": round(mean, 2) if mean is not None and rated_people >= K else None,
            "distribution": distribution,
        },
    }


def summary(
    engine: sa.engine.Engine,
    start: dt.date,
    end: dt.date,
    province: str | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Every figure of the dashboard for ``start``..``end`` (and ``province``)."""
    today = today or dt.datetime.now(ROME).date()
    for month in _full_months(start, end, today):
        rollup(engine, month)
    with engine.connect() as conn:
        cells = _period_cells(conn, engine, start, end, province, today)
        handoff = handoff_figures(conn, start, end, province)
    turns, people = cells.get((TOTAL, ""), [0, 0])
    conversations = cells.get((CONVERSATIONS, ""), [0, 0])[0]
    outcomes = _shown(cells, "outcome", limit=None)
    for row in outcomes["rows"]:
        row["share"] = round(row["turns"] / turns, 3) if turns else None
    ooh_turns, ooh_people = cells.get(("out_of_hours", "true"), [0, 0])
    weeks = []
    for (dimension, week), (n, p) in sorted(cells.items()):
        if dimension != "week":
            continue
        answered = cells.get((WEEK_ANSWERED, week), [0, 0])[0]
        weeks.append(
            {
                "week": week,
                "turns": visible(n, p),
                "people": visible(p, p),
                "answered_share": round(answered / n, 3) if p >= K and n else None,
            }
        )
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat(), "province": province},
        "k": K,
        "turns": visible(turns, people),
        "people": visible(people, people),
        "conversations": visible(conversations, people),
        "outcomes": outcomes,
        "services": _shown(cells, "service"),
        "faq": _shown(cells, "faq"),
        "languages": _shown(cells, "language", limit=None, keep_empty=True),
        "provinces": _shown(cells, "province", limit=None, keep_empty=True),
        "channels": _shown(cells, "channel", limit=None),
        "out_of_hours": {
            "turns": visible(ooh_turns, ooh_people),
            "people": visible(ooh_people, ooh_people),
            "share": round(ooh_turns / turns, 3) if turns and ooh_people >= K else None,
        },
        "weeks": weeks,
        "handoff": handoff,
    }


def indicators(engine: sa.engine.Engine, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Rows of the monthly CSV: per province, language and service, small cells hidden."""
    t = schema.turns.c

    def by_outcome(outcome: str) -> list[Any]:
        """Turns and people of one outcome in the cell: a figure of its own, hidden alike."""
        hit = t.outcome == outcome
        return [
            sa.func.sum(sa.case((hit, 1), else_=0)),
            sa.func.count(sa.distinct(sa.case((hit, t.person), else_=None))),
        ]

    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                t.province,
                t.language,
                t.service,
                sa.func.count(),
                sa.func.count(sa.distinct(t.person)),
                *by_outcome(schema.ANSWERED),
                *by_outcome(schema.FALLBACK),
                *by_outcome(schema.HANDOVER),
            )
            .where(*_turn_filter(start, end, None))
            .group_by(t.province, t.language, t.service)
            .order_by(t.province, t.language, t.service)
        ).all()
    out = []
    for province, language, service, n, people, a, ap, f, fp, h, hp in rows:
        if people < K:
            continue
        out.append(
            {
                "province": province or "unknown",
                "language": language or "unknown",
                "service": service or "none",
                "people": int(people),
                "turns": int(n),
                "answered": visible(int(a), int(ap)),
                "fallback": visible(int(f), int(fp)),
                "handover": visible(int(h), int(hp)),
            }
        )
    return out
