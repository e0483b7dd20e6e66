"""Mediators keep their own profile with commands (issue #17, part 4): the same words on
Telegram (with a slash) and WhatsApp (without), and the next ticket is routed by it."""

from __future__ import annotations

import pytest

from handoff.commands import MediatorCommands
from handoff.records import Mediator
from handoff.service import Handoff
from handoff.texts import mediator_text
from tests.handoff.helpers import rows


@pytest.fixture
def amina(lite: Handoff) -> Mediator:
    return lite.store.mediators.add("Amina", ["ar"], telegram_user_id="111", ui_language="en")


@pytest.fixture
def karim(lite: Handoff) -> Mediator:
    return lite.store.mediators.add("Karim", ["ar"], whatsapp="whatsapp:+39333", ui_language="it")


def run(lite: Handoff, mediator: Mediator, text: str) -> str | None:
    return MediatorCommands(lite).run(lite.store.mediators.get(mediator.id), text, None)


def cards_to(lite: Handoff, channel: str, address: str) -> list[int]:
    return [r.ticket_id for r in rows(lite.store, channel, address) if r.payload["kind"] == "card"]


def test_a_mediator_who_adds_a_language_gets_the_next_ticket_in_it(lite, amina):
    first = lite.request("p-uk-1", "telegram", "uk").ticket
    # Nobody speaks Ukrainian: the card goes to every mediator on call, Amina included.
    assert cards_to(lite, "telegram", "111") == [first.id]
    lite.store.mediators.add("Olena", ["uk"], telegram_user_id="222")
    answer = run(lite, amina, "/languages ar uk")
    assert "ar uk" in answer
    assert lite.store.mediators.get(amina.id).languages == ("ar", "uk")

    second = lite.request("p-uk-2", "telegram", "uk").ticket
    third = lite.request("p-fr", "telegram", "fr").ticket  # nobody speaks French: everyone
    assert cards_to(lite, "telegram", "111") == [first.id, second.id, third.id]

    run(lite, amina, "/languages ar")  # and drops it again: Olena alone gets Ukrainian
    fourth = lite.request("p-uk-3", "telegram", "uk").ticket
    assert fourth.id not in cards_to(lite, "telegram", "111")
    assert fourth.id in cards_to(lite, "telegram", "222")


def test_whatsapp_words_without_a_slash(lite, karim):
    assert "BA LE" in run(lite, karim, "provinces ba le")
    assert "lun-ven" not in run(lite, karim, "hours mon-fri 09:00-17:00")
    m = lite.store.mediators.get(karim.id)
    assert (m.provinces, m.hours) == (("BA", "LE"), "mon-fri 09:00-17:00")
    run(lite, karim, "hours always")
    run(lite, karim, "provinces all")
    m = lite.store.mediators.get(karim.id)
    assert (m.provinces, m.hours) == ((), "")
    # "languages are hard" is a reply to the person, not a command (they hold a ticket).
    ticket = lite.request("p-ar", "whatsapp", "ar").ticket
    lite.claim(ticket.id, m)
    assert run(lite, karim, "languages are hard") is None
    assert lite.store.mediators.get(karim.id).languages == ("ar",)


def test_a_province_outside_puglia_or_bad_hours_change_nothing(lite, amina):
    answer = run(lite, amina, "/provinces BA RM")
    assert answer == mediator_text(
        "profile_bad_provinces", "en", given="RM", known="BA BR BT FG LE TA"
    )
    assert "25:00" in run(lite, amina, "/hours mon 09:00-25:00")
    assert "xx" in run(lite, amina, "/languages ar xx")
    m = lite.store.mediators.get(amina.id)
    assert (m.provinces, m.hours, m.languages) == ((), "", ("ar",))


def test_a_paused_mediator_gets_no_cards_until_they_resume(lite, amina, karim):
    assert run(lite, amina, "/pause") == mediator_text("paused", "en")
    assert "PAUSED" in run(lite, amina, "/me")
    first = lite.request("p-1", "telegram", "ar").ticket
    assert cards_to(lite, "telegram", "111") == []
    assert cards_to(lite, "whatsapp", "whatsapp:+39333") == [first.id]
    # Paused is not switched off: the tickets they hold and their commands still work.
    lite.claim(first.id, lite.store.mediators.get(amina.id))
    assert "#" in run(lite, amina, "/tickets")
    assert run(lite, amina, "resume") == mediator_text("resumed", "en")
    second = lite.request("p-2", "telegram", "ar").ticket
    assert cards_to(lite, "telegram", "111") == [second.id]
