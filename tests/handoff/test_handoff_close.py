"""Closing: the person is asked for a 1–5 rating once; cancelling closes without one."""

from __future__ import annotations

from typing import Any

import pytest

from bot.messages import render
from handoff.commands import MediatorCommands
from handoff.records import HandoffError
from handoff.schema import CLOSED
from handoff.service import RATING_PAYLOAD, Handoff, parse_rating
from handoff.texts import mediator_text
from tests.handoff.helpers import rows


def command(handoff: Handoff, *args: Any) -> str | None:
    """What the mediator is answered, as every channel reads their message."""
    return MediatorCommands(handoff).run(*args)


@pytest.mark.parametrize("language", ["ar", "uk", "it"])
def test_close_asks_for_a_rating_in_the_person_language(lite: Handoff, language: str) -> None:
    store = lite.store
    amina = store.mediators.add("Amina", [language], telegram_user_id="111", ui_language="en")
    ticket = lite.request("p1", "whatsapp", language).ticket
    lite.claim(ticket.id, amina)

    change = lite.close(ticket.id, amina)

    assert change.ticket.status == CLOSED and change.ticket.awaiting_rating
    question = rows(store, "person", "p1")[-1].payload
    assert question["text"] == render("utter_handoff_closed", language)
    assert question["text"] != render("utter_handoff_closed", "en")  # translated
    assert [b["payload"] for b in question["buttons"]] == [
        f"{RATING_PAYLOAD} {n}" for n in range(1, 6)
    ]
    assert store.ratings.awaiting("p1").id == ticket.id
    assert store.tickets.open_for("p1") is None  # the bot answers again


def test_rating_is_recorded_once(handoff: Handoff) -> None:
    store = handoff.store
    amina = store.mediators.add("Amina", ["ar"], telegram_user_id="111", ui_language="en")
    ticket = handoff.request("p1", "whatsapp", "ar").ticket
    handoff.claim(ticket.id, amina)
    handoff.close(ticket.id, amina)

    rated = handoff.rate("p1", 4)

    assert rated is not None and rated.ticket.rating == 4
    stored = store.tickets.get(ticket.id)
    assert stored.rating == 4 and not stored.awaiting_rating
    assert store.ratings.awaiting("p1") is None
    assert rows(store, "person", "p1")[-1].payload["text"] == render("utter_handoff_rated", "ar")
    assert mediator_text("person_rated", "en", ticket=f"#{ticket.id}", rating=4) in [
        r.payload["text"] for r in rows(store, "telegram", "111")
    ]
    # A second rating (a double tap) changes nothing and sends nothing.
    before = rows(store)
    assert handoff.rate("p1", 1) is None
    assert store.tickets.get(ticket.id).rating == 4
    assert rows(store) == before
    assert [kind for kind, _, _ in store.tickets.events(ticket.id)].count("rated") == 1


def test_rating_parsing() -> None:
    assert [parse_rating(f"{RATING_PAYLOAD} {n}") for n in range(1, 6)] == [1, 2, 3, 4, 5]
    assert parse_rating(" 3 ") == 3
    for text in ("0", "6", "10", "tre", "", "/handoff_rating 9", "3 stars"):
        assert parse_rating(text) is None, text


def test_skip_rating_when_the_person_writes_something_else(lite: Handoff) -> None:
    amina = lite.store.mediators.add("Amina", ["ar"], telegram_user_id="111")
    ticket = lite.request("p1", "whatsapp", "ar").ticket
    lite.claim(ticket.id, amina)
    lite.close(ticket.id, amina)

    lite.store.ratings.skip("p1")

    assert lite.rate("p1", 5) is None
    assert lite.store.tickets.get(ticket.id).rating is None


def test_cancel_by_the_person_closes_without_rating_and_tells_the_holder(lite: Handoff) -> None:
    handoff = lite
    store = handoff.store
    amina = store.mediators.add("Amina", ["ar"], telegram_user_id="111", ui_language="en")
    ticket = handoff.request("p1", "whatsapp", "ar").ticket
    handoff.claim(ticket.id, amina)

    change = handoff.cancel("p1")

    assert change is not None
    closed = store.tickets.get(ticket.id)
    assert closed.status == CLOSED and not closed.awaiting_rating
    assert store.ratings.awaiting("p1") is None
    assert rows(store, "person", "p1")[-1].payload["text"] == render(
        "utter_handoff_cancelled", "ar"
    )
    assert rows(store, "telegram", "111")[-1].payload["text"] == mediator_text(
        "person_cancelled", "en", ticket=f"#{ticket.id}"
    )
    assert "cancelled" in [kind for kind, _, _ in store.tickets.events(ticket.id)]
    # The mediator can no longer write to it; nothing more to cancel.
    with pytest.raises(HandoffError) as refused:
        handoff.reply(ticket.id, amina, "are you there?", None)
    assert refused.value.code == "not_yours"
    assert handoff.cancel("p1") is None
    # The person may ask again: a new ticket.
    again = handoff.request("p1", "whatsapp", "ar")
    assert again.created and again.ticket.id != ticket.id


def test_cancel_while_waiting_tells_no_mediator(lite: Handoff) -> None:
    lite.store.mediators.add("Amina", ["ar"], telegram_user_id="111")
    ticket = lite.request("p1", "whatsapp", "ar").ticket
    mediator_rows = rows(lite.store, "telegram")

    lite.cancel("p1")

    assert lite.store.tickets.get(ticket.id).status == CLOSED
    assert rows(lite.store, "telegram") == mediator_rows
    assert [r.payload["text"] for r in rows(lite.store, "person", "p1")] == [
        render("utter_handoff_cancelled", "ar")
    ]


def test_reopen_after_close(lite: Handoff) -> None:
    amina = lite.store.mediators.add("Amina", ["ar"], telegram_user_id="111", ui_language="en")
    ticket = lite.request("p1", "whatsapp", "ar").ticket
    lite.claim(ticket.id, amina)
    lite.close(ticket.id, amina)

    assert command(lite, amina, f"reopen {ticket.id}") is None

    reopened = lite.store.tickets.get(ticket.id)
    assert reopened.status == "claimed" and reopened.mediator_id == amina.id
    assert not reopened.awaiting_rating
    # Not when the person has opened another ticket meanwhile.
    lite.close(ticket.id, amina)
    lite.request("p1", "whatsapp", "ar")
    assert command(lite, amina, f"reopen {ticket.id}") == mediator_text(
        "person_has_open_ticket", "en", ticket=f"#{ticket.id}"
    )
