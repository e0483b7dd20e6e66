"""Open now / next opening, as a person in Puglia would check it against the office door."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.kb.hours import patron_subdivision
from bot.kb.queries import KnowledgeBase

ROME = ZoneInfo("Europe/Rome")
UTC = dt.timezone.utc


def rome(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ROME)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_weekday_morning_is_open_until_the_slot_ends(kb: KnowledgeBase) -> None:
    now = kb.opening("questura-bari", rome("2026-11-24 10:15"))  # Tuesday
    assert now.open_now is True
    assert now.appointment_only_now is False
    assert now.closes_at == rome("2026-11-24 12:30")
    assert now.next_opening == rome("2026-11-24 15:00")
    assert now.next_opening_appointment_only is True


def test_appointment_only_afternoon(kb: KnowledgeBase) -> None:
    now = kb.opening("questura-bari", rome("2026-11-24 16:00"))
    assert now.open_now is True and now.appointment_only_now is True
    assert now.closes_at == rome("2026-11-24 17:00")
    later = kb.opening("questura-bari", rome("2026-11-24 17:00"))  # closing time: closed
    assert later.open_now is False
    assert later.next_opening == rome("2026-11-25 08:30")


def test_sunday_is_closed_and_monday_opens(kb: KnowledgeBase) -> None:
    now = kb.opening("questura-bari", rome("2026-11-22 10:00"))
    assert now.open_now is False
    assert now.closed_today is None  # no slots on Sunday: not a holiday, just closed
    assert now.next_opening == rome("2026-11-23 08:30")
    assert now.next_closing == rome("2026-11-23 12:30")


def test_republic_day_is_a_holiday(kb: KnowledgeBase) -> None:
    now = kb.opening("questura-bari", rome("2027-06-02 10:00"))  # a Wednesday
    assert now.open_now is False
    assert now.closed_today is not None and now.closed_today.reason == "holiday"
    assert now.next_opening == rome("2027-06-03 08:30")


def test_easter_monday_is_a_holiday(kb: KnowledgeBase) -> None:
    now = kb.opening("questura-bat", rome("2027-03-29 09:00"))
    assert now.open_now is False
    assert (now.closed_today.reason, now.closed_today.name) == ("holiday", "Lunedì dell'Angelo")
    assert now.next_opening == rome("2027-03-30 08:30")


def test_san_nicola_closes_bari_but_not_modugno(kb: KnowledgeBase) -> None:
    at = rome("2027-12-06 10:00")  # a Monday
    bari = kb.opening("anagrafe-bari", at)
    modugno = kb.opening("anagrafe-modugno", at)
    assert bari.open_now is False
    assert (bari.closed_today.reason, bari.closed_today.name) == ("patron_saint", "San Nicola")
    assert bari.next_opening == rome("2027-12-07 09:00")
    assert modugno.open_now is True and modugno.closed_today is None


def test_bat_patron_saints_are_per_city(kb: KnowledgeBase) -> None:
    # San Ruggero (30 Dec) is Barletta's, not Andria's, although both are BT capoluoghi.
    at = rome("2027-12-30 10:00")  # a Thursday
    closed = kb.opening("anagrafe-barletta", at)
    assert (closed.closed_today.reason, closed.closed_today.name) == ("patron_saint", "San Ruggero")
    assert kb.opening("questura-bat", at).open_now is True
    assert patron_subdivision("Bari", "BA", True) == "BA"
    assert patron_subdivision("Trani", "BT", True) == "Trani"
    assert patron_subdivision("Modugno", "BA", False) is None


def test_dated_closure(kb: KnowledgeBase) -> None:
    now = kb.opening("questura-bari", rome("2027-12-24 09:00"))
    assert now.open_now is False
    assert (now.closed_today.reason, now.closed_today.name) == (
        "closure",
        "Chiuso la vigilia di Natale",
    )
    # 25, 26 Dec holidays and a weekend: next is Monday 27.
    assert now.next_opening == rome("2027-12-27 08:30")


def test_spring_dst_change(kb: KnowledgeBase) -> None:
    # Saturday 27 March 2027 (UTC+1); clocks go to UTC+2 on Sunday 28; Monday 29 is Easter
    # Monday. The next opening is Tuesday 08:30 in Rome = 06:30 UTC, not 07:30.
    now = kb.opening("questura-bat", utc("2027-03-27 12:00"))
    assert now.next_opening.astimezone(UTC) == utc("2027-03-30 06:30")
    assert kb.opening("questura-bat", utc("2027-03-30 06:35")).open_now is True
    assert kb.opening("questura-bat", utc("2027-03-30 06:25")).open_now is False
    assert kb.opening("questura-bat", utc("2027-03-30 10:35")).open_now is False


def test_autumn_dst_change(kb: KnowledgeBase) -> None:
    # Clocks go back on Sunday 25 October 2026: Monday's 08:30 is 07:30 UTC (it was 06:30).
    now = kb.opening("questura-bat", utc("2026-10-24 12:00"))
    assert now.next_opening.astimezone(UTC) == utc("2026-10-26 07:30")
    assert kb.opening("questura-bat", utc("2026-10-26 07:15")).open_now is False
    assert kb.opening("questura-bat", utc("2026-10-26 07:45")).open_now is True
    friday = kb.opening("questura-bat", utc("2026-10-23 06:45"))  # 08:45 summer time
    assert friday.open_now is True
    assert friday.closes_at.astimezone(UTC) == utc("2026-10-23 10:30")


def test_naive_time_is_rome_wall_clock(kb: KnowledgeBase) -> None:
    assert kb.opening("questura-bari", dt.datetime(2026, 11, 24, 8, 45)).open_now is True


def test_unknown_hours_are_not_closed(kb: KnowledgeBase) -> None:
    now = kb.opening("questura-foggia", rome("2026-11-24 10:00"))
    assert now.open_now is None and now.next_opening is None and now.slots == ()
