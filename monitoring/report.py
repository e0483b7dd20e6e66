"""The monthly report for the Region: CSV files of indicators and a PNG summary with charts.

``bot report monthly --month 2026-11`` writes into ``var/reports/`` (or ``--out``):

- ``indicators-2026-11.csv``: one row per province, language and service (``none``: no service
  named; ``unknown``: no town or language known), with people, messages and how many were
  answered, fell back or were handed over;
- ``handoff-2026-11.csv``: per province (and ``all``): tickets, wait to a claim p50/p90 (all,
  in and out of office hours), time to close p50/p90, ratings;
- ``summary-2026-11.png``: the month's charts (matplotlib, Agg backend: no display needed).

Every figure comes from ``monitoring.queries`` with cells of fewer than 5 people hidden: a row
of fewer than 5 people is left out, a hidden figure is an empty field.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from bot.territory import PROVINCES
from monitoring import queries
from monitoring.store import MonitoringStore

INDICATOR_FIELDS = (
    "month",
    "province",
    "language",
    "service",
    "people",
    "turns",
    "answered",
    "fallback",
    "handover",
)
HANDOFF_FIELDS = (
    "month",
    "province",
    "tickets",
    "people",
    "wait_p50_minutes",
    "wait_p90_minutes",
    "office_hours_p50_minutes",
    "office_hours_p90_minutes",
    "out_of_hours_p50_minutes",
    "out_of_hours_p90_minutes",
    "close_p50_minutes",
    "close_p90_minutes",
    "ratings",
    "mean_rating",
)


def _blank(value: Any) -> Any:
    return "" if value is None else value


def handoff_row(month: str, province: str, figures: dict[str, Any]) -> dict[str, Any]:
    """One row of the handoff CSV from a summary."""
    h = figures["handoff"]
    return {
        "month": month,
        "province": province,
        "tickets": h["tickets"],
        "people": h["people"],
        "wait_p50_minutes": h["wait_all"]["p50_minutes"],
        "wait_p90_minutes": h["wait_all"]["p90_minutes"],
        "office_hours_p50_minutes": h["wait_office_hours"]["p50_minutes"],
        "office_hours_p90_minutes": h["wait_office_hours"]["p90_minutes"],
        "out_of_hours_p50_minutes": h["wait_out_of_hours"]["p50_minutes"],
        "out_of_hours_p90_minutes": h["wait_out_of_hours"]["p90_minutes"],
        "close_p50_minutes": h["time_to_close"]["p50_minutes"],
        "close_p90_minutes": h["time_to_close"]["p90_minutes"],
        "ratings": h["ratings"]["count"],
        "mean_rating": h["ratings"]["mean"],
    }


def _write_csv(path: Path, fields: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _blank(row.get(k)) for k in fields})


def _png(path: Path, month: str, figures: dict[str, Any]) -> None:
    import warnings

    # matplotlib 3.5 calls pyparsing names that pyparsing 3 deprecates: noise, not ours.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    fig.suptitle(f"Puglia services assistant — {month} (cells under 5 people hidden)")
    panels = (
        ("Top services (people)", figures["services"]["rows"]),
        ("Languages (people)", figures["languages"]["rows"]),
        ("Provinces (people)", figures["provinces"]["rows"]),
        ("Outcomes (messages)", [dict(r, people=r["turns"]) for r in figures["outcomes"]["rows"]]),
    )
    for axis, (title, rows) in zip(axes.ravel(), panels, strict=True):
        labels = [str(r["value"] or "unknown") for r in rows][::-1]
        values = [r["people"] for r in rows][::-1]
        axis.barh(labels, values, color="#2f6f9f")
        axis.set_title(title)
        for y, value in enumerate(values):
            axis.text(value, y, f" {value}", va="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def monthly(store: MonitoringStore, month: str, out: Path) -> list[Path]:
    """Write the month's CSVs and PNG into ``out``; return their paths."""
    from monitoring.web import month_period

    start, end = month_period(month)
    store.sync_tickets()
    out.mkdir(parents=True, exist_ok=True)
    indicators = [dict(r, month=month) for r in queries.indicators(store.engine, start, end)]
    overall = queries.summary(store.engine, start, end)
    handoff = [handoff_row(month, "all", overall)] + [
        handoff_row(month, code, queries.summary(store.engine, start, end, code))
        for code in PROVINCES
    ]
    paths = [
        out / f"indicators-{month}.csv",
        out / f"handoff-{month}.csv",
        out / f"summary-{month}.png",
    ]
    _write_csv(paths[0], INDICATOR_FIELDS, indicators)
    _write_csv(paths[1], HANDOFF_FIELDS, handoff)
    _png(paths[2], month, overall)
    return paths


def previous_month(today: dt.date) -> str:
    """The month before ``today``: the default month to report."""
    return (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
