"""What the person is told on opening: the expected wait, or when the next mediator starts."""

from __future__ import annotations

import datetime as dt

from bot.i18n import when
from bot.messages import render
from handoff.hours import ROME
from handoff.service import Handoff
from tests.handoff.helpers import Clock

UTC = dt.timezone.utc
FRIDAY_1730_ROME = dt.datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
FRIDAY_0930_ROME = dt.datetime(2026, 11, 27, 8, 30, tzinfo=UTC)


def test_out_of_hours_says_when_the_next_mediator_starts(lite: Handoff) -> None:
    lite.store.mediators.add("Amina", ["ar"], telegram_user_id="111", hours="mon-fri 09:00-17:00")
    lite.store.mediators.add(
        "Karim", ["ar"], telegram_user_id="222", hours="mon 08:00-12:00, sat 10:00-12:00"
    )
    lite.store.mediators.add("Marco", ["it"], telegram_user_id="333", hours="")  # always, no ar

    opened = lite.request("p1", "whatsapp", "ar", now=FRIDAY_1730_ROME)

    assert opened.created
    assert opened.response == "utter_handoff_opened_later"
    saturday_10 = dt.datetime(2026, 11, 28, 10, 0, tzinfo=ROME)  # Karim, in Rome's time
    assert opened.values == {"ticket": f"#{opened.ticket.id}", "when": when(saturday_10, "ar")}
    assert "10:00" in opened.values["when"]
    text = render(opened.response, "ar", **opened.values)
    assert opened.values["when"] in text and "{" not in text


def test_out_of_hours_uses_rome_time_not_utc(lite: Handoff) -> None:
    lite.store.mediators.add("Amina", ["fr"], telegram_user_id="111", hours="mon-fri 09:00-17:00")

    # 16:30 UTC is within 09:00-17:00 in UTC, but it is 17:30 in Rome.
    opened = lite.request("p1", "whatsapp", "fr", now=FRIDAY_1730_ROME)

    assert opened.response == "utter_handoff_opened_later"
    assert opened.values["when"] == when(dt.datetime(2026, 11, 30, 9, 0, tzinfo=ROME), "fr")
    assert "09:00" in opened.values["when"]


def test_within_hours_gives_the_wait_in_the_person_language(lite: Handoff) -> None:
    lite.store.mediators.add(
        "Amina", ["ar", "it", "uk"], telegram_user_id="111", hours="mon-fri 09:00-17:00"
    )

    italian = lite.request("p1", "whatsapp", "it", now=FRIDAY_0930_ROME)
    arabic = lite.request("p2", "whatsapp", "ar", now=FRIDAY_0930_ROME)
    ukrainian = lite.request("p3", "telegram", "uk", now=FRIDAY_0930_ROME)

    assert italian.response == arabic.response == "utter_handoff_opened"
    assert italian.values["wait"] == "15 minuti"  # the default, with no history yet
    assert arabic.values["wait"] == "15 دقيقة"
    assert ukrainian.values["wait"] == "15 хвилин"
    assert "15 minuti" in render("utter_handoff_opened", "it", **italian.values)


def test_nobody_speaks_the_language_but_someone_works_now(lite: Handoff) -> None:
    lite.store.mediators.add("Amina", ["ar"], telegram_user_id="111", hours="mon-fri 09:00-17:00")

    assert (
        lite.request("p1", "whatsapp", "bn", now=FRIDAY_0930_ROME).response
        == "utter_handoff_opened"
    )
    assert (
        lite.request("p2", "whatsapp", "pa", now=FRIDAY_1730_ROME).response
        == "utter_handoff_opened_later"
    )


def test_the_wait_follows_recent_claims(lite: Handoff, clock: Clock) -> None:
    amina = lite.store.mediators.add("Amina", ["en"], telegram_user_id="111")
    for person in ("p1", "p2", "p3"):
        ticket = lite.request(person, "whatsapp", "en").ticket
        clock.advance(40 * 60)
        lite.claim(ticket.id, amina)

    opened = lite.request("p4", "whatsapp", "en", now=FRIDAY_0930_ROME)

    assert opened.response == "utter_handoff_opened"
    assert opened.values["wait"] == "40 minutes"


def test_a_second_request_is_told_it_is_already_waiting(lite: Handoff) -> None:
    first = lite.request("p1", "whatsapp", "ar", now=FRIDAY_0930_ROME)

    again = lite.request("p1", "whatsapp", "ar", now=FRIDAY_0930_ROME)

    assert again.response == "utter_handoff_already_open"
    assert again.values == {"ticket": f"#{first.ticket.id}"}
