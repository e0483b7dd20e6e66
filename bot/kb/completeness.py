"""How complete, verified and fresh the offices are, per province and per kind of office.

Part of ``bot kb report``. For each province (where the office is) and each kind, and for the
province as a whole (``"all"``): the share of offices with an address, a phone, opening hours and
a source, and with any contact at all; the share verified; and how old the sources are.

A source's age is counted from the record's ``source_date`` (the source's own date) and, when
the record has none, from ``checked`` (when someone looked), which is younger than the source
itself: ``dated_by`` says how many ages came from each, so a fresh-looking province whose dates
are all ``checked`` dates reads as what it is. Offices a register created carry the register's
date as their ``source_date``.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot import territory
from bot.kb import schema

FIELDS = ("address", "phone", "hours", "source", "contact")
CONTACTS = ("address", "phone", "email", "pec", "website")
TWO_YEARS = 730  # days; sources older than this go to the editors' review queue


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def by_province(conn: Connection, today: dt.date) -> dict[str, dict[str, dict[str, Any]]]:
    """Province code → kind (and "all") → offices, completeness, verified share, source age."""
    province_of = dict(
        conn.execute(sa.select(schema.comuni.c.istat, schema.comuni.c.province)).all()
    )
    with_hours = {r[0] for r in conn.execute(sa.select(schema.office_hours.c.office_id))}
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    o = schema.offices.c
    for row in conn.execute(
        sa.select(
            o.id,
            o.kind,
            o.comune_istat,
            o.address,
            o.phone,
            o.email,
            o.pec,
            o.website,
            o.source,
            o.source_date,
            o.checked,
            o.verified,
            o.imported,
        )
    ):
        record = dict(row._mapping)
        record["hours"] = record["id"] in with_hours
        province = province_of[record["comune_istat"]]
        groups[(province, record["kind"])].append(record)
        groups[(province, "all")].append(record)
    result: dict[str, dict[str, dict[str, Any]]] = {p: {} for p in territory.PROVINCES}
    for (province, kind), records in sorted(groups.items()):
        result[province][kind] = _summary(records, today)
    return result


def _summary(records: list[dict], today: dt.date) -> dict[str, Any]:
    n = len(records)
    has = {
        "address": sum(bool(r["address"]) for r in records),
        "phone": sum(bool(r["phone"]) for r in records),
        "hours": sum(r["hours"] for r in records),
        "source": sum(bool(r["source"]) for r in records),
        "contact": sum(any(r[f] for f in CONTACTS) for r in records),
    }
    ages, dated_by = [], {"source_date": 0, "checked": 0, "undated": 0}
    oldest: dt.date | None = None
    for r in records:
        when = r["source_date"] or r["checked"]
        dated_by[
            "source_date" if r["source_date"] else "checked" if r["checked"] else "undated"
        ] += 1
        if when is not None:
            ages.append((today - when).days)
            oldest = when if oldest is None or when < oldest else oldest
    return {
        "offices": n,
        "imported": sum(bool(r["imported"]) for r in records),
        "complete": {f: _share(has[f], n) for f in FIELDS},
        "verified": _share(sum(bool(r["verified"]) for r in records), n),
        "source_age": {
            "median_days": int(statistics.median(ages)) if ages else None,
            "oldest": oldest.isoformat() if oldest else None,
            "older_than_two_years": sum(a > TWO_YEARS for a in ages),
            "dated_by": dated_by,
        },
    }


def format_lines(table: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    """The per-province table for a terminal (percentages; age in days)."""
    head = (
        f"  {'':<3}{'kind':<25}{'n':>4}{'imp':>5}"
        + "".join(f"{f[:7]:>8}" for f in FIELDS)
        + f"{'verif':>7}{'age(d)':>8}{'>2y':>5}  dated by source_date/checked/none"
    )
    lines = [
        "offices per province and kind (share with each field, verified share, median source age):",
        head,
    ]
    for province, kinds in table.items():
        for kind, s in sorted(kinds.items(), key=lambda kv: (kv[0] != "all", kv[0])):
            age = s["source_age"]
            d = age["dated_by"]
            lines.append(
                f"  {province if kind == 'all' else '':<3}{kind:<25}{s['offices']:>4}"
                f"{s['imported']:>5}"
                + "".join(f"{s['complete'][f] * 100:>7.0f}%" for f in FIELDS)
                + f"{s['verified'] * 100:>6.0f}%"
                + f"{age['median_days'] if age['median_days'] is not None else '-':>8}"
                + f"{age['older_than_two_years']:>5}  "
                f"{d['source_date']}/{d['checked']}/{d['undated']}"
            )
    return lines
