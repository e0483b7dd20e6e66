"""Is an office open, and when does it next open — in Europe/Rome, whatever the server's zone.

Offices publish wall-clock hours ("08:30-12:30"), so the arithmetic is done on Rome's local
dates and times and only turned into aware datetimes at the end: a DST change then moves
nothing (08:30 stays 08:30, whatever the UTC offset of that day). An office is closed on:

- Italian national public holidays (``holidays.Italy``; Easter Monday included);
- its capoluogo's patron saint, only if the office is *in* that capoluogo. ``holidays`` (0.86)
  knows these per province subdivision (BA San Nicola 6 Dec, BR first Sunday of September,
  FG 22 Mar, LE 26 Aug, TA 10 May) and, for Barletta-Andria-Trani's three capoluoghi, per city
  (Andria third Sunday of September, Barletta 30 Dec, Trani 3 May); the province-level ``BT``
  list mixes the three and is not used;
- the dated closures of its knowledge record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")

# How far ahead to look for the next opening: beyond a year the answer is useless anyway.
SEARCH_DAYS = 400


@dataclass(frozen=True)
class WeeklySlot:
    """A recurring opening: ``weekday`` 0 = Monday; times are Rome wall-clock."""

    weekday: int
    opens: dt.time
    closes: dt.time
    appointment_only: bool


@dataclass(frozen=True)
class ClosedDay:
    """Why an office is shut on a day: ``reason`` is "holiday", "patron_saint" or "closure".

    ``name`` is the holiday's Italian name or the closure's Italian note (may be empty).
    """

    day: dt.date
    reason: str
    name: str


@dataclass(frozen=True)
class Opening:
    """The state of one office at one moment, and what comes next.

    ``open_now`` is ``None`` when the office's hours are not known (no slots in the knowledge
    files): the assistant must say it does not know rather than "closed".
    ``next_opening`` is the start of the next slot after ``at`` (after the current slot when
    open now); ``closed_today`` says why a day that would have slots has none.
    """

    office_id: str
    at: dt.datetime
    open_now: bool | None
    appointment_only_now: bool
    closes_at: dt.datetime | None
    next_opening: dt.datetime | None
    next_closing: dt.datetime | None
    next_opening_appointment_only: bool
    closed_today: ClosedDay | None
    slots: tuple[WeeklySlot, ...]


@lru_cache(maxsize=64)
def _national(year: int) -> Mapping[dt.date, str]:
    from holidays.countries.italy import Italy

    return dict(Italy(years=year, language="it_IT"))


@lru_cache(maxsize=256)
def _patron(subdivision: str, year: int) -> Mapping[dt.date, str]:
    from holidays.countries.italy import Italy

    local = Italy(subdiv=subdivision, years=year, language="it_IT")
    national = _national(year)
    return {day: name for day, name in local.items() if day not in national}


@lru_cache(maxsize=1)
def _subdivisions() -> frozenset[str]:
    from holidays.countries.italy import Italy

    return frozenset(Italy.subdivisions)


def warm_up(subdivisions: Iterable[str | None], today: dt.date | None = None) -> None:
    """Build this year's and next year's holiday lists now, not during someone's question.

    ``holidays`` takes a noticeable fraction of a second the first time it builds a year in
    Italian (it loads its translations); the knowledge base calls this when it loads.
    """
    year = (today or dt.date.today()).year
    for y in (year, year + 1):
        _national(y)
        for sub in set(subdivisions):
            if sub is not None:
                _patron(sub, y)


def patron_subdivision(comune_name: str, province: str, capoluogo: bool) -> str | None:
    """Return the ``holidays`` subdivision holding this comune's patron saint, if any.

    Only a capoluogo gets one. A capoluogo known by name (Andria, Barletta, Trani) uses its own
    list; the others use their province's, which in ``holidays`` is the capoluogo's patron.
    """
    if not capoluogo:
        return None
    subdivisions = _subdivisions()
    if comune_name in subdivisions:
        return comune_name
    return province if province in subdivisions else None


def closed_day(
    day: dt.date, patron: str | None, closures: Mapping[dt.date, str]
) -> ClosedDay | None:
    """Why an office (with patron subdivision ``patron``) is shut on ``day``, or ``None``."""
    if day in closures:
        return ClosedDay(day, "closure", closures[day])
    national = _national(day.year)
    if day in national:
        return ClosedDay(day, "holiday", national[day])
    if patron is not None:
        local = _patron(patron, day.year)
        if day in local:
            return ClosedDay(day, "patron_saint", local[day])
    return None


def to_rome(at: dt.datetime) -> dt.datetime:
    """``at`` in Rome's zone; a naive datetime is taken to be Rome wall-clock time already."""
    if at.tzinfo is None:
        return at.replace(tzinfo=ROME)
    return at.astimezone(ROME)


def _at(day: dt.date, wall: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, wall, tzinfo=ROME)


def opening(
    office_id: str,
    at: dt.datetime,
    slots: Iterable[WeeklySlot],
    patron: str | None,
    closures: Mapping[dt.date, str],
) -> Opening:
    """Compute :class:`Opening` for an office whose weekly ``slots`` are known."""
    now = to_rome(at)
    ordered = tuple(sorted(slots, key=lambda s: (s.weekday, s.opens)))
    by_day: dict[int, list[WeeklySlot]] = {}
    for slot in ordered:
        by_day.setdefault(slot.weekday, []).append(slot)
    today = now.date()
    wall = now.time().replace(tzinfo=None)
    closed_today = closed_day(today, patron, closures) if by_day.get(today.weekday()) else None
    if not ordered:
        return Opening(office_id, now, None, False, None, None, None, False, None, ordered)

    current: WeeklySlot | None = None
    if closed_today is None:
        current = next(
            (s for s in by_day.get(today.weekday(), ()) if s.opens <= wall < s.closes), None
        )
    upcoming: tuple[dt.date, WeeklySlot] | None = None
    for offset in range(SEARCH_DAYS):
        day = today + dt.timedelta(days=offset)
        candidates = [s for s in by_day.get(day.weekday(), ()) if offset or s.opens > wall]
        if candidates and (
            offset == 0
            and closed_today is None
            or offset
            and closed_day(day, patron, closures) is None
        ):
            upcoming = (day, candidates[0])
            break
    return Opening(
        office_id=office_id,
        at=now,
        open_now=current is not None,
        appointment_only_now=bool(current and current.appointment_only),
        closes_at=_at(today, current.closes) if current else None,
        next_opening=_at(upcoming[0], upcoming[1].opens) if upcoming else None,
        next_closing=_at(upcoming[0], upcoming[1].closes) if upcoming else None,
        next_opening_appointment_only=bool(upcoming and upcoming[1].appointment_only),
        closed_today=closed_today,
        slots=ordered,
    )
