"""What mediators type: commands are carried out, everything else reaches the person."""

from __future__ import annotations

from typing import Any

import pytest

from bot.messages import render
from handoff.commands import MediatorCommands
from handoff.records import Mediator, Ticket
from handoff.schema import CLAIMED, CLOSED, WAITING
from handoff.service import Handoff
from handoff.texts import mediator_text
from tests.handoff.helpers import rows


def command(handoff: Handoff, *args: Any) -> str | None:
    """What the mediator is answered, as every channel reads their message."""
    return MediatorCommands(handoff).run(*args)


@pytest.fixture
def amina(lite: Handoff) -> Mediator:
    return lite.store.mediators.add("Amina", ["ar", "fr"], telegram_user_id="111", ui_language="en")


@pytest.fixture
def ticket(lite: Handoff) -> Ticket:
    return lite.request("p1", "telegram", "ar", transcript=[("person", "أحتاج مساعدة")]).ticket


def _person_texts(lite: Handoff, person: str = "p1") -> list[str]:
    return [r.payload["text"] for r in rows(lite.store, "person", person)]


def _mediator_texts(lite: Handoff, address: str = "111") -> list[str]:
    return [
        r.payload["text"]
        for r in rows(lite.store, "telegram", address)
        if r.payload["kind"] != "card"
    ]


def test_unregistered_sender_is_told_so(lite: Handoff, ticket: Ticket) -> None:
    assert command(lite, None, f"claim {ticket.id}") == mediator_text("not_registered", "it")
    assert lite.store.tickets.get(ticket.id).status == WAITING


@pytest.mark.parametrize(
    "text", ["claim {id}", "/claim {id}", "Claim #{id}", "/claim@PugliaBot {id}"]
)
def test_claim(lite: Handoff, amina: Mediator, ticket: Ticket, text: str) -> None:
    assert command(lite, amina, text.format(id=ticket.id)) is None  # confirmation is queued

    assert lite.store.tickets.get(ticket.id).mediator_id == amina.id
    (confirmation,) = _mediator_texts(lite)
    assert confirmation.startswith(f"You now hold ticket #{ticket.id}")
    assert "أحتاج مساعدة" in confirmation


def test_claim_taken_by_someone_else_answers_who_has_it(
    lite: Handoff, amina: Mediator, ticket: Ticket
) -> None:
    marco = lite.store.mediators.add("Marco", ["ar"], whatsapp="whatsapp:+39333", ui_language="it")
    command(lite, amina, f"claim {ticket.id}")

    answer = command(lite, marco, f"claim {ticket.id}")

    assert answer == f"Il ticket #{ticket.id} è già stato preso da Amina."
    assert command(lite, marco, "claim 99999") == "Il ticket #99999 non esiste."


def test_hash_prefix_sends_to_that_ticket(lite: Handoff, amina: Mediator, ticket: Ticket) -> None:
    command(lite, amina, f"claim {ticket.id}")

    assert command(lite, amina, f"#{ticket.id} مرحبا، كيف أساعدك؟", "tg:1:5") is None

    assert _person_texts(lite)[-1] == "مرحبا، كيف أساعدك؟"
    assert lite.store.transcripts.messages(ticket.id)[-1].author == "mediator"
    # A ticket one does not hold is refused, and nothing reaches anyone.
    other = lite.request("p2", "telegram", "ar").ticket
    assert command(lite, amina, f"#{other.id} hello") == f"You do not hold ticket #{other.id}."
    assert _person_texts(lite, "p2") == []


def test_close_asks_the_person_for_a_rating(lite: Handoff, amina: Mediator, ticket: Ticket) -> None:
    command(lite, amina, f"claim {ticket.id}")

    assert command(lite, amina, "close") is None

    closed = lite.store.tickets.get(ticket.id)
    assert closed.status == CLOSED and closed.awaiting_rating
    assert _person_texts(lite)[-1] == render("utter_handoff_closed", "ar")
    assert _mediator_texts(lite)[-1] == mediator_text("closed_by_you", "en", ticket=f"#{ticket.id}")
    assert command(lite, amina, "close") == mediator_text("nothing_held", "en")


def test_release_puts_the_ticket_back(lite: Handoff, amina: Mediator, ticket: Ticket) -> None:
    command(lite, amina, f"claim {ticket.id}")

    assert command(lite, amina, "release") is None

    released = lite.store.tickets.get(ticket.id)
    assert released.status == WAITING and released.mediator_id is None
    assert _person_texts(lite)[-1] == render("utter_handoff_released", "ar", ticket=f"#{ticket.id}")
    assert lite.store.tickets.held_by(amina.id) == []


@pytest.mark.parametrize("text", ["transfer {id} uk", "/transfer uk", "#{id} /transfer uk"])
def test_transfer_to_another_language(
    lite: Handoff, amina: Mediator, ticket: Ticket, text: str
) -> None:
    olena = lite.store.mediators.add("Olena", ["uk"], whatsapp="whatsapp:+393330000002")
    command(lite, amina, f"claim {ticket.id}")

    assert command(lite, amina, text.format(id=ticket.id)) is None

    moved = lite.store.tickets.get(ticket.id)
    assert moved.status == WAITING and moved.wanted_language == "uk"
    assert moved.mediator_language == "uk" and moved.language == "ar"
    assert _person_texts(lite)[-1] == render(
        "utter_handoff_transferred", "ar", ticket=f"#{ticket.id}"
    )
    cards = [r for r in rows(lite.store, "whatsapp", olena.whatsapp) if r.payload["kind"] == "card"]
    assert len(cards) == 1
    assert "Lingua: uk" in cards[0].payload["text"]  # Olena reads Italian (the default)


def test_transfer_to_an_unknown_language_is_refused(
    lite: Handoff, amina: Mediator, ticket: Ticket
) -> None:
    command(lite, amina, f"claim {ticket.id}")

    answer = command(lite, amina, "/transfer klingon")

    assert answer == mediator_text("unknown_command", "en", help=mediator_text("help", "en"))
    assert lite.store.tickets.get(ticket.id).status == CLAIMED


@pytest.mark.parametrize(
    "text", ["note {id} needs a lawyer", "/note needs a lawyer", "#{id} /note needs a lawyer"]
)
def test_notes_are_private(lite: Handoff, amina: Mediator, ticket: Ticket, text: str) -> None:
    command(lite, amina, f"claim {ticket.id}")
    person_before = _person_texts(lite)

    answer = command(lite, amina, text.format(id=ticket.id))

    assert answer == mediator_text("note_saved", "en", ticket=f"#{ticket.id}")
    assert [(m.author, m.text) for m in lite.store.transcripts.messages(ticket.id)][-1] == (
        "note",
        "needs a lawyer",
    )
    assert _person_texts(lite) == person_before


def test_tickets_and_help(lite: Handoff, amina: Mediator, ticket: Ticket) -> None:
    other = lite.request("p2", "whatsapp", "fr").ticket
    lite.request("p3", "whatsapp", "zh")  # nobody speaks it: shown to everyone
    lite.store.mediators.add("Olena", ["uk"], whatsapp="whatsapp:+393330000002")
    uk = lite.request("p4", "whatsapp", "uk").ticket  # someone else's language
    command(lite, amina, f"claim {other.id}")

    listing = command(lite, amina, "tickets")

    waiting, yours = listing.split("\n")
    assert waiting.startswith("Waiting: ") and f"#{ticket.id} (ar)" in waiting
    assert "(zh)" in waiting and f"#{uk.id}" not in waiting
    assert yours == f"Yours: #{other.id} (fr)"
    assert command(lite, amina, "help") == mediator_text("help", "en")
    assert command(lite, amina, "/help") == mediator_text("help", "en")


def test_plain_text_with_two_tickets_asks_which(
    lite: Handoff, amina: Mediator, ticket: Ticket
) -> None:
    other = lite.request("p2", "whatsapp", "fr").ticket
    command(lite, amina, f"claim {ticket.id}")
    command(lite, amina, f"claim {other.id}")
    person_before = _person_texts(lite) + _person_texts(lite, "p2")

    answer = command(lite, amina, "bonjour, je suis là")

    assert answer == mediator_text(
        "which_ticket", "en", tickets=f"#{ticket.id}, #{other.id}", example=ticket.id
    )
    assert _person_texts(lite) + _person_texts(lite, "p2") == person_before
    assert command(lite, amina, "close") == answer  # which one?
    assert lite.store.tickets.get(ticket.id).status == CLAIMED
    assert lite.store.tickets.get(other.id).status == CLAIMED


@pytest.mark.parametrize(
    "sentence",
    [
        "close to the station you will find it",
        "Release form is at the desk",
        "note that the office opens at 9",
        "claim the refund at the post office",
        "help is on the way",
    ],
)
def test_a_sentence_that_starts_like_a_command_is_relayed(
    lite: Handoff, amina: Mediator, ticket: Ticket, sentence: str
) -> None:
    command(lite, amina, f"claim {ticket.id}")

    assert command(lite, amina, sentence, "tg:1:9") is None

    assert _person_texts(lite)[-1] == sentence
    assert lite.store.tickets.get(ticket.id).status == CLAIMED
    assert lite.store.transcripts.messages(ticket.id)[-1].author == "mediator"


def test_plain_text_without_a_ticket(lite: Handoff, amina: Mediator) -> None:
    assert command(lite, amina, "hello?") == mediator_text("nothing_held", "en")


def test_unknown_slash_command_is_not_sent_to_the_person(
    lite: Handoff, amina: Mediator, ticket: Ticket
) -> None:
    command(lite, amina, f"claim {ticket.id}")
    person_before = _person_texts(lite)

    answer = command(lite, amina, "/clsoe")

    assert answer == mediator_text("unknown_command", "en", help=mediator_text("help", "en"))
    assert _person_texts(lite) == person_before
    assert lite.store.tickets.get(ticket.id).status == CLAIMED


@pytest.mark.parametrize("text", ["#{id} close", "#{id} /close", "#{id} CLOSE"])
def test_ticket_prefix_with_a_bare_command_word_is_the_command(
    lite: Handoff, amina: Mediator, ticket: Ticket, text: str
) -> None:
    command(lite, amina, f"claim {ticket.id}")

    command(lite, amina, text.format(id=ticket.id))

    assert lite.store.tickets.get(ticket.id).status == CLOSED
    assert "close" not in [t.lower() for t in _person_texts(lite)]


def test_ticket_prefix_with_a_sentence_starting_like_a_command_is_relayed(
    lite: Handoff, amina: Mediator, ticket: Ticket
) -> None:
    command(lite, amina, f"claim {ticket.id}")

    command(lite, amina, f"#{ticket.id} close the door when you leave")

    assert lite.store.tickets.get(ticket.id).status == CLAIMED
    assert _person_texts(lite)[-1] == "close the door when you leave"
