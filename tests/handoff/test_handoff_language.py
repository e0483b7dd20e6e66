"""A ticket in the conversation's language: routing, the expected wait and the cards.

The last message's language, when another, is kept beside it and shown on the cards.
"""

from __future__ import annotations

from handoff.service import Handoff
from handoff.store import HandoffStore
from tests.handoff.helpers import Clock, rows, settings_for


def test_the_ticket_keeps_the_conversation_language_and_notes_the_last_message(
    lite: Handoff,
) -> None:
    ticket = lite.request("p1", "webchat", "ar", last_language="it").ticket

    stored = lite.store.tickets.get(ticket.id)
    assert stored is not None
    assert (stored.language, stored.last_language, stored.mediator_language) == ("ar", "it", "ar")
    # The same language twice is not worth keeping.
    same = lite.request("p2", "webchat", "ar", last_language="ar").ticket
    assert lite.store.tickets.get(same.id).last_language is None  # type: ignore[union-attr]


def test_cards_go_to_speakers_of_the_conversation_language_and_show_both(
    lite_store: HandoffStore, sqlite_url: str
) -> None:
    lite_store.mediators.add("Karim", ["ar"], whatsapp="whatsapp:+393330000001", ui_language="en")
    lite_store.mediators.add("Marco", ["it"], whatsapp="whatsapp:+393330000002", ui_language="it")
    handoff = Handoff(
        lite_store,
        settings_for(sqlite_url, telegram_mediator_chat_id="-100777", mediator_group_language="it"),
    )

    handoff.request(
        "p1",
        "webchat",
        "ar",
        last_language="it",
        transcript=[("person", "مرحبا"), ("person", "Voglio parlare con un mediatore")],
    )

    cards = {r.address: r.payload["text"] for r in rows(lite_store) if r.payload["kind"] == "card"}
    assert set(cards) == {"-100777", "whatsapp:+393330000001"}  # Karim, not Marco
    assert "Language: ar (last message it)" in cards["whatsapp:+393330000001"]
    assert "Lingua: ar (ultimo messaggio it)" in cards["-100777"]


def test_a_card_shows_one_language_when_the_last_message_agrees(lite: Handoff) -> None:
    lite.store.mediators.add("Karim", ["ar"], whatsapp="whatsapp:+393330000001", ui_language="en")

    lite.request("p1", "webchat", "ar", last_language="ar")

    (card,) = rows(lite.store)
    assert "Language: ar ·" in card.payload["text"] and "last message" not in card.payload["text"]


def test_the_expected_wait_is_that_of_the_conversation_language(
    lite: Handoff, clock: Clock
) -> None:
    amina = lite.store.mediators.add("Amina", ["ar", "it"], telegram_user_id="111")
    for person, language, minutes in (
        ("a1", "ar", 50),
        ("a2", "ar", 50),
        ("a3", "ar", 50),
        ("i1", "it", 5),
        ("i2", "it", 5),
        ("i3", "it", 5),
    ):
        ticket = lite.request(person, "whatsapp", language).ticket
        clock.advance(minutes * 60)
        lite.claim(ticket.id, amina)

    arabic = lite.request("p1", "webchat", "ar", last_language="it")
    italian = lite.request("p2", "webchat", "it")
    ukrainian = lite.request("p3", "webchat", "uk")  # no claims yet: all languages' median

    assert arabic.values["wait"] == "50 دقيقة"
    assert italian.values["wait"] == "5 minuti"
    assert ukrainian.values["wait"] == "28 хвилин"
