"""Mediators' working hours: "mon-fri 09:00-17:00, sat 09:00-13:00" (Europe/Rome).

An empty string means always available. Used to tell a person, out of hours, when someone
will answer; not to hide tickets (a mediator may always pick one up).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(
    r"^\s*(?P<first>[a-z]{3})(?:\s*-\s*(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)


@dataclass(frozen=True)
class Shift:
    """One weekly shift: weekday 0 = Monday."""

    weekday: int
    start: dt.time
    end: dt.time


def parse_hours(text: str) -> tuple[Shift, ...]:
    """Parse an hours string; raises ``ValueError`` naming the part that is wrong."""
    shifts: list[Shift] = []
    for part in (p for p in (text or "").lower().split(",") if p.strip()):
        match = _PART.match(part)
        if not match or match["first"] not in DAYS or (match["last"] and match["last"] not in DAYS):
            raise ValueError(f"cannot read {part.strip()!r}: expected e.g. 'mon-fri 09:00-17:00'")
        try:
            start, end = (dt.time.fromisoformat(match[k].zfill(5)) for k in ("start", "end"))
        except ValueError as exc:  # "25:00", "09:75": say which part, not just "hour must be…"
            raise ValueError(f"cannot read {part.strip()!r}: {exc}") from exc
        if end <= start:
            raise ValueError(f"{part.strip()!r}: the shift ends before it starts")
        first = DAYS.index(match["first"])
        last = DAYS.index(match["last"] or match["first"])
        days = range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        shifts.extend(Shift(day, start, end) for day in days)
    return tuple(shifts)


def on_duty(text: str, at: dt.datetime) -> bool:
    """Whether someone with these hours works at ``at``."""
    shifts = parse_hours(text)
    if not shifts:
        return True
    local = at.astimezone(ROME)
    return any(s.weekday == local.weekday() and s.start <= local.time() < s.end for s in shifts)


def next_start(text: str, at: dt.datetime) -> dt.datetime | None:
    """When the next shift starts after ``at`` (None: always available, or no shifts)."""
    shifts = parse_hours(text)
    if not shifts:
        return None
    local = at.astimezone(ROME)
    for offset in range(8):
        day = local.date() + dt.timedelta(days=offset)
        starts = sorted(
            dt.datetime.combine(day, s.start, ROME) for s in shifts if s.weekday == day.weekday()
        )
        for start in starts:
            if start > local:
                return start
    return None
