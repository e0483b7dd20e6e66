"""Mediators' hours: what the coordinator types, read in Europe/Rome."""

from __future__ import annotations

import datetime as dt

import pytest

from handoff.hours import ROME, Shift, next_start, on_duty, parse_hours

UTC = dt.timezone.utc


def rome(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ROME)


def test_valid_hours() -> None:
    shifts = parse_hours("mon-fri 09:00-17:00, sat 9:00-13:30")

    assert len(shifts) == 6
    assert shifts[0] == Shift(0, dt.time(9), dt.time(17))
    assert shifts[4] == Shift(4, dt.time(9), dt.time(17))
    assert shifts[5] == Shift(5, dt.time(9), dt.time(13, 30))
    assert parse_hours("Mon-Fri 09:00-17:00") == parse_hours("mon-fri 09:00 - 17:00")
    assert parse_hours("") == () and parse_hours("  ") == ()
    assert parse_hours("tue 08:00-12:00, tue 15:00-18:00") == (
        Shift(1, dt.time(8), dt.time(12)),
        Shift(1, dt.time(15), dt.time(18)),
    )


def test_day_ranges_wrap_around_the_week() -> None:
    assert [s.weekday for s in parse_hours("fri-mon 10:00-12:00")] == [4, 5, 6, 0]
    assert [s.weekday for s in parse_hours("sun-tue 10:00-12:00")] == [6, 0, 1]
    assert [s.weekday for s in parse_hours("sat-sun 10:00-12:00")] == [5, 6]
    # Monday morning belongs to "fri-mon", Tuesday does not.
    assert on_duty("fri-mon 10:00-12:00", rome(2026, 11, 30, 11, 0))  # a Monday
    assert not on_duty("fri-mon 10:00-12:00", rome(2026, 12, 1, 11, 0))  # a Tuesday


@pytest.mark.parametrize(
    "text, part",
    [
        ("monday 09:00-17:00", "monday 09:00-17:00"),
        ("mon-fri 9-17", "mon-fri 9-17"),
        ("mon-fri 09:00-17:00; sat 09:00-13:00", "mon-fri 09:00-17:00; sat 09:00-13:00"),
        ("mon-fri 09:00-17:00, xyz 09:00-13:00", "xyz 09:00-13:00"),
        ("mon-xyz 09:00-17:00", "mon-xyz 09:00-17:00"),
        ("mon 09:00", "mon 09:00"),
        ("mon 25:00-26:00", "mon 25:00-26:00"),
        ("mon 09:75-10:00", "mon 09:75-10:00"),
    ],
)
def test_unreadable_hours_name_the_part(text: str, part: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_hours(text)
    assert repr(part) in str(error.value)


@pytest.mark.parametrize("text", ["mon 17:00-09:00", "mon 09:00-09:00", "sat 22:00-02:00"])
def test_a_shift_must_end_after_it_starts(text: str) -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        parse_hours(text)


def test_on_duty_is_judged_in_rome() -> None:
    hours = "mon-fri 09:00-17:00"
    friday_1630_utc = dt.datetime(2026, 11, 27, 16, 30, tzinfo=UTC)  # 17:30 in Rome
    friday_0830_utc = dt.datetime(2026, 11, 27, 8, 30, tzinfo=UTC)  # 09:30 in Rome

    assert not on_duty(hours, friday_1630_utc)
    assert on_duty(hours, friday_0830_utc)
    assert not on_duty(hours, rome(2026, 11, 27, 17, 0))  # the end is exclusive
    assert on_duty(hours, rome(2026, 11, 27, 9, 0))
    assert on_duty("", friday_1630_utc)  # no hours: always


def test_next_start() -> None:
    hours = "mon-fri 09:00-17:00, sat 09:00-13:00"

    assert next_start(hours, rome(2026, 11, 27, 18, 0)) == rome(2026, 11, 28, 9, 0)  # Fri → Sat
    assert next_start(hours, rome(2026, 11, 28, 13, 0)) == rome(2026, 11, 30, 9, 0)  # → Mon
    assert next_start(hours, rome(2026, 11, 30, 8, 59)) == rome(2026, 11, 30, 9, 0)
    assert next_start("wed 10:00-11:00", rome(2026, 11, 25, 10, 30)) == rome(2026, 12, 2, 10, 0)
    assert next_start("", rome(2026, 11, 25, 10, 30)) is None


def test_next_start_across_the_change_to_summer_time() -> None:
    # Clocks go forward on Sunday 29 March 2026: Monday 09:00 in Rome is 07:00 UTC.
    start = next_start("mon-fri 09:00-17:00", dt.datetime(2026, 3, 27, 18, 0, tzinfo=UTC))

    assert start == rome(2026, 3, 30, 9, 0)
    assert start.astimezone(UTC) == dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
