"""Multi-turn conversations over the REST channel of the running assistant."""

from __future__ import annotations

import json
import urllib.request

import pytest

from bot.messages import render
from tests.stack import Stack, post_json

pytestmark = pytest.mark.e2e


def say(stack: Stack, sender: str, text: str) -> str:
    replies = post_json(
        f"{stack.base_url}/webhooks/rest/webhook", {"sender": sender, "message": text}
    )
    return "\n".join(r.get("text", "") for r in replies)


def tracker_events(stack: Stack, sender: str) -> list[dict]:
    with urllib.request.urlopen(
        f"{stack.base_url}/conversations/{sender}/tracker", timeout=30
    ) as r:
        return json.loads(r.read())["events"]


def test_question_without_town_is_answered_then_the_town_alone_gets_the_office(
    stack: Stack,
) -> None:
    sender = "multi-turn-es"
    first = say(stack, sender, "necesito el código fiscal, ¿adónde voy?")
    assert render("utter_answer_documents_header", "es") in first
    assert render("utter_answer_ask_city_for_office", "es") in first
    assert render("utter_answer_ask_city", "es") not in first
    second = say(stack, sender, "Lecce")
    assert "Agenzia delle Entrate" in second


def test_follow_up_hours_apply_to_the_office_just_discussed(stack: Stack) -> None:
    sender = "follow-up-it"
    answer = say(stack, sender, "il mio permesso scade, vivo a Gallipoli")
    assert "Questura di Lecce" in answer
    hours = say(stack, sender, "e quando è aperto?")
    assert "Questura di Lecce" in hours
    assert "08:30–13:00" in hours  # the Tuesday slot of the weekly hours


def test_a_language_switch_is_followed_by_every_later_reply(stack: Stack) -> None:
    sender = "switch-en-it"
    assert say(stack, sender, "hello, I need help please").startswith(render("utter_greet", "en"))
    switched = say(stack, sender, "parla italiano per favore")
    assert render("utter_language_switched", "it") in switched
    later = say(stack, sender, "ok")
    assert render("utter_anything_else", "it") in later or "?" in later
    answer = say(stack, sender, "codice fiscale, abito a Bari")
    assert render("utter_answer_documents_header", "it") in answer


def test_emergency_numbers_come_first(stack: Stack) -> None:
    replies = post_json(
        f"{stack.base_url}/webhooks/rest/webhook",
        {
            "sender": "emergency-fr",
            "message": "aidez-moi, mon patron me frappe et garde mon passeport",
        },
    )
    first = replies[0]["text"]
    # Violence and exploitation: their own numbers, and 112 (knowledge/safety.yml).
    for number in ("1522", "800 290 290", "112"):
        assert number in first


def test_delete_my_data_erases_the_conversation_after_confirmation(stack: Stack) -> None:
    sender = "erase-it"
    say(stack, sender, "ciao, mi serve il codice fiscale a Bari")
    assert render("utter_privacy_confirm_delete", "it") in say(
        stack, sender, "cancella i miei dati"
    )
    done = say(stack, sender, "/affirm")
    assert render("utter_privacy_deleted", "it") in done
    assert not [e for e in tracker_events(stack, sender) if e["event"] == "user"]
