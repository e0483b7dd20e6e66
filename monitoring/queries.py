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
  out of office hours (``monitoring.events.out_of_hours``); ratings are those given (1-5).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from monitoring import schema
from monitoring.privacy import K, visible

TOP = 10


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


def _cells(
    conn: Connection, column: Any, where: Sequence[Any], limit: int | None = TOP
) -> dict[str, Any]:
    """Turns and people per value of ``column``; values with fewer than K people hidden."""
    t = schema.turns.c
    rows = conn.execute(
        sa.select(
            column.label("value"),
            sa.func.count().label("turns"),
            sa.func.count(sa.distinct(t.person)).label("people"),
        )
        .where(*where)
        .group_by(column)
        .order_by(sa.func.count().desc())
    ).all()
    shown = [
        {"value": r.value, "turns": r.turns, "people": r.people} for r in rows if r.people >= K
    ]
    return {"rows": shown[:limit] if limit else shown, "hidden_cells": len(rows) - len(shown)}


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0-1) by linear interpolation, None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _waits(rows: Sequence[Any]) -> dict[str, Any]:
    people = len({r.person for r in rows})
    minutes = [(r.claimed_at - r.opened_at) / 60 for r in rows]
    p50, p90 = percentile(minutes, 0.5), percentile(minutes, 0.9)
    return {
        "tickets": visible(len(rows), people),
        "p50_minutes": round(p50, 1) if p50 is not None and people >= K else None,
        "p90_minutes": round(p90, 1) if p90 is not None and people >= K else None,
    }


def handoff_figures(
    conn: Connection, start: dt.date, end: dt.date, province: str | None
) -> dict[str, Any]:
    """Tickets, waits and ratings of the tickets opened in the period."""
    c = schema.tickets.c
    rows = conn.execute(
        sa.select(c.person, c.opened_at, c.claimed_at, c.closed_at, c.rating, c.out_of_hours).where(
            *_ticket_filter(start, end, province)
        )
    ).all()
    people = len({r.person for r in rows})
    claimed = [r for r in rows if r.claimed_at is not None]
    rated = [r for r in rows if r.rating is not None]
    rated_people = len({r.person for r in rated})
    distribution = {}
    for score in range(1, 6):
        cell = [r for r in rated if r.rating == score]
        distribution[str(score)] = visible(len(cell), len({r.person for r in cell}))
    mean = sum(r.rating for r in rated) / len(rated) if rated else None
    return {
        "tickets": visible(len(rows), people),
        "people": visible(people, people),
        "claimed": visible(len(claimed), len({r.person for r in claimed})),
        "wait_all": _waits(claimed),
        "wait_office_hours": _waits([r for r in claimed if not r.out_of_hours]),
        "wait_out_of_hours": _waits([r for r in claimed if r.out_of_hours]),
        "ratings": {
            "count": visible(len(rated), rated_people),
            "mean": round(mean, 2) if mean is not None and rated_people >= K else None,
            "distribution": distribution,
        },
    }


def summary(
    engine: sa.engine.Engine, start: dt.date, end: dt.date, province: str | None = None
) -> dict[str, Any]:
    """Every figure of the dashboard for ``start``..``end`` (and ``province``)."""
    t = schema.turns.c
    where = _turn_filter(start, end, province)
    with engine.connect() as conn:
        total = conn.execute(
            sa.select(sa.func.count(), sa.func.count(sa.distinct(t.person))).where(*where)
        ).one()
        turns, people = int(total[0]), int(total[1])
        conversations = conn.execute(
            sa.select(sa.func.count()).select_from(
                sa.select(t.person, t.day).where(*where).distinct().subquery()
            )
        ).scalar_one()
        outcomes = _cells(conn, t.outcome, where, limit=None)
        for row in outcomes["rows"]:
            row["share"] = round(row["turns"] / turns, 3) if turns else None
        ooh = conn.execute(
            sa.select(sa.func.count(), sa.func.count(sa.distinct(t.person))).where(
                *where, t.out_of_hours.is_(True)
            )
        ).one()
        week_rows = conn.execute(
            sa.select(
                t.week,
                sa.func.count(),
                sa.func.count(sa.distinct(t.person)),
                sa.func.sum(sa.case((t.outcome == schema.ANSWERED, 1), else_=0)),
            )
            .where(*where)
            .group_by(t.week)
            .order_by(t.week)
        ).all()
        weeks = [
            {
                "week": w.isoformat(),
                "turns": visible(int(n), int(p)),
                "people": visible(int(p), int(p)),
                "answered_share": round(int(a) / int(n), 3) if int(p) >= K and n else None,
            }
            for w, n, p, a in week_rows
        ]
        return {
            "period": {"from": start.isoformat(), "to": end.isoformat(), "province": province},
            "k": K,
            "turns": visible(turns, people),
            "people": visible(people, people),
            "conversations": visible(int(conversations), people),
            "outcomes": outcomes,
            "services": _cells(conn, t.service, [*where, t.service.is_not(None)]),
            "faq": _cells(conn, t.faq, [*where, t.faq.is_not(None)]),
            "languages": _cells(conn, t.language, where, limit=None),
            "provinces": _cells(conn, t.province, where, limit=None),
            "channels": _cells(conn, t.channel, where, limit=None),
            "out_of_hours": {
                "turns": visible(int(ooh[0]), int(ooh[1])),
                "people": visible(int(ooh[1]), int(ooh[1])),
                "share": round(int(ooh[0]) / turns, 3) if turns and int(ooh[1]) >= K else None,
            },
            "weeks": weeks,
            "handoff": handoff_figures(conn, start, end, province),
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
