"""Opening tickets: transcript, one open ticket per person, priority, cards for mediators."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from handoff import schema
from handoff.cards import CALLBACK_CLAIM
from handoff.schema import PRIORITY_EMERGENCY, PRIORITY_NORMAL, WAITING
from handoff.service import Handoff
from handoff.store import HandoffStore
from handoff.texts import mediator_text
from tests.handoff.helpers import count, rows, settings_for, together

TRANSCRIPT = [
    ("person", "il permesso è scaduto che devo fare"),
    ("bot", "Puoi rinnovarlo in Questura."),
    ("person", "voglio parlare con una persona"),
]


def test_opening_gives_a_waiting_ticket_with_the_transcript(lite: Handoff) -> None:
    handoff = lite
    opened = handoff.request(
        "p1",
        "whatsapp",
        "it",
        topic="ask_residence_permit",
        comune="Bari",
        province="BA",
        transcript=TRANSCRIPT,
    )

    ticket = opened.ticket
    assert opened.created
    assert ticket.status == WAITING and ticket.mediator_id is None
    assert (ticket.person, ticket.channel, ticket.language) == ("p1", "whatsapp", "it")
    assert (ticket.topic, ticket.comune, ticket.province) == ("ask_residence_permit", "Bari", "BA")
    assert ticket.priority == PRIORITY_NORMAL
    stored = handoff.store.transcripts.messages(ticket.id)
    assert [(m.author, m.text) for m in stored] == TRANSCRIPT
    assert [kind for kind, _, _ in handoff.store.tickets.events(ticket.id)] == ["opened"]
    assert opened.values["ticket"] == f"#{ticket.id}"


def test_second_request_returns_the_open_ticket_and_emergency_raises_priority(
    handoff: Handoff,
) -> None:
    first = handoff.request("p1", "telegram", "ar", transcript=TRANSCRIPT)
    again = handoff.request("p1", "telegram", "ar", transcript=[("person", "hello?")])

    assert again.ticket.id == first.ticket.id
    assert not again.created
    assert again.response == "utter_handoff_already_open"
    assert again.ticket.priority == PRIORITY_NORMAL
    # Nothing of the second request was stored as another ticket or transcript.
    assert count(handoff.store, schema.tickets) == 1
    assert len(handoff.store.transcripts.messages(first.ticket.id)) == len(TRANSCRIPT)

    urgent = handoff.request("p1", "telegram", "ar", "emergency")
    assert urgent.ticket.id == first.ticket.id and not urgent.created
    assert urgent.ticket.priority == PRIORITY_EMERGENCY
    assert urgent.ticket.reason == "emergency"
    assert handoff.store.tickets.get(first.ticket.id).priority == PRIORITY_EMERGENCY
    assert "escalated" in [kind for kind, _, _ in handoff.store.tickets.events(first.ticket.id)]
    # A later, milder request does not lower it.
    handoff.request("p1", "telegram", "ar", "fallback")
    assert handoff.store.tickets.get(first.ticket.id).priority == PRIORITY_EMERGENCY
    # Other people get their own tickets; the most urgent is listed first.
    other = handoff.request("p2", "telegram", "ar")
    assert other.created and other.ticket.id != first.ticket.id
    assert [x.id for x in handoff.store.tickets.in_states()] == [first.ticket.id, other.ticket.id]


def test_cards_go_to_the_group_and_to_whatsapp_mediators_of_the_language(
    lite_store: HandoffStore, sqlite_url: str
) -> None:
    store = lite_store
    amina = store.mediators.add(
        "Amina", ["ar", "fr"], whatsapp="whatsapp:+393330000001", ui_language="en"
    )
    store.mediators.add("Olena", ["uk", "ru"], whatsapp="whatsapp:+393330000002")
    store.mediators.add("Karim", ["ar"], telegram_user_id="111")  # reads the group
    handoff = Handoff(
        store,
        settings_for(sqlite_url, telegram_mediator_chat_id="-100777", mediator_group_language="it"),
    )

    ticket = handoff.request(
        "p1", "whatsapp", "ar", topic="ask_health_care", comune="Foggia", transcript=TRANSCRIPT
    ).ticket

    cards = [r for r in rows(store) if r.payload.get("kind") == "card"]
    assert sorted((r.destination, r.address) for r in cards) == [
        ("telegram", "-100777"),
        ("whatsapp", "whatsapp:+393330000001"),
    ]
    group = next(r for r in cards if r.destination == "telegram")
    whatsapp = next(r for r in cards if r.destination == "whatsapp")
    for card in (group, whatsapp):
        assert card.ticket_id == ticket.id
        assert f"#{ticket.id}" in card.payload["text"]
        assert "ask_health_care" in card.payload["text"] and "Foggia" in card.payload["text"]
        assert "voglio parlare con una persona" in card.payload["text"]  # the last lines
        assert card.payload["buttons"][0]["callback"] == f"{CALLBACK_CLAIM}{ticket.id}"
    # The group reads Italian (its configured language), Amina English (hers).
    assert "Lingua: ar" in group.payload["text"]
    assert mediator_text("reason_request", "it") in group.payload["text"]
    assert "Language: ar" in whatsapp.payload["text"]
    # On WhatsApp there are no buttons to press: the card says what to type.
    assert whatsapp.payload["text"].endswith(f"claim {ticket.id}")
    assert amina.speaks("ar")
    # Nothing to the person yet: the action tells them.
    assert rows(store, "person") == []


def test_without_a_group_telegram_mediators_get_the_card_privately(lite: Handoff) -> None:
    store = lite.store
    store.mediators.add("Karim", ["ar"], telegram_user_id="111")
    store.mediators.add("Olena", ["uk"], telegram_user_id="222")
    store.mediators.add("Sleepy", ["ar"], telegram_user_id="333")
    store.mediators.set_active("Sleepy", False)

    lite.request("p1", "telegram", "ar")

    assert [(r.destination, r.address) for r in rows(store)] == [("telegram", "111")]


def test_when_nobody_speaks_the_language_every_active_mediator_gets_the_card(lite: Handoff) -> None:
    store = lite.store
    store.mediators.add("Amina", ["ar", "fr"], whatsapp="whatsapp:+393330000001")
    store.mediators.add("Olena", ["uk", "ru"], whatsapp="whatsapp:+393330000002")
    store.mediators.add("Karim", ["ar"], telegram_user_id="111")
    store.mediators.add("Gone", ["bn"], whatsapp="whatsapp:+393330000009")
    store.mediators.set_active("Gone", False)  # the only Bengali speaker is not active

    ticket = lite.request("p1", "whatsapp", "bn").ticket

    cards = rows(store)
    assert sorted(r.address for r in cards) == [
        "111",
        "whatsapp:+393330000001",
        "whatsapp:+393330000002",
    ]
    assert all(r.payload["kind"] == "card" and r.ticket_id == ticket.id for r in cards)


@pytest.mark.parametrize("reason", ["fallback", "emergency"])
def test_cards_say_why_the_ticket_opened(lite: Handoff, reason: str) -> None:
    lite.store.mediators.add("Amina", ["ar"], whatsapp="whatsapp:+393330000001", ui_language="en")

    lite.request("p1", "whatsapp", "ar", reason)

    (card,) = rows(lite.store)
    assert mediator_text(f"reason_{reason}", "en") in card.payload["text"]
    assert card.payload["text"].startswith("🚨" if reason == "emergency" else "🆕")


def test_two_simultaneous_requests_of_one_person_open_one_ticket(
    db_url: str, make_store: Callable[[str], HandoffStore]
) -> None:
    """A double tap reaching two processes: one ticket; the mediators learn of the emergency."""
    first, second = make_store(db_url), make_store(db_url)
    first.mediators.add("Amina", ["ar"], whatsapp="whatsapp:+393330000001")
    a, b = Handoff(first, settings_for(db_url)), Handoff(second, settings_for(db_url))

    for round_ in range(5):
        person = f"p{round_}"
        results = together(
            lambda p=person: a.request(p, "whatsapp", "ar"),
            lambda p=person: b.request(p, "whatsapp", "ar", "emergency"),
        )

        assert all(kind == "ok" for kind, _ in results), results
        opened = [value for _, value in results]
        assert sorted(o.created for o in opened) == [False, True]
        assert opened[0].ticket.id == opened[1].ticket.id
        assert first.tickets.get(opened[0].ticket.id).priority == PRIORITY_EMERGENCY
        assert count(first, schema.tickets, schema.tickets.c.person == person) == 1
        # One card; a second, marked as an emergency, when the emergency request came second.
        cards = [r for r in rows(first) if r.ticket_id == opened[0].ticket.id]
        assert len(cards) == (2 if opened[1].created is False else 1)
        assert "🚨" in cards[-1].payload["text"]
