"""Misunderstandings, emergencies and erasure never end in silence."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import (
    ActionCountFailures,
    ActionHandleFallback,
    ActionReportEmergency,
)
from bot.kb.queries import KnowledgeBase
from tests.actions.conftest import cards, responses, tracker


async def test_emergency_numbers_come_first(kb: KnowledgeBase) -> None:
    # Danger of no known kind (the classifier's verdict): every number, then a mediator.
    dispatcher = CollectingDispatcher()
    await ActionReportEmergency(kb).run(
        dispatcher, tracker("aiuto aiuto venite", "report_emergency", language="it"), {}
    )
    first = dispatcher.messages[0]
    assert first["response"] == "utter_emergency_numbers_intro"
    for number in ("112", "118", "1522", "800 290 290", "115", "114"):
        assert number in first["numbers"]
    assert responses(dispatcher) == [
        "utter_emergency_numbers_intro",
        "utter_answer_card",
        "utter_emergency_offer_mediator",
    ]


async def test_an_unsure_danger_gets_the_numbers_then_the_question_beside_it(
    kb: KnowledgeBase,
) -> None:
    # One classifier alone read danger in "the landlord is sending me away, I need a house in
    # Trani": the numbers first all the same, then housing (with the town) and a mediator as
    # buttons, and no priority ticket.
    unsure = {"classes": ["danger"], "source": "danger_model", "sure": False}
    ranking = [
        {"name": "report_emergency", "confidence": 1.0},
        {"name": "ask_housing", "confidence": 0.9},
    ]
    dispatcher = CollectingDispatcher()
    await ActionReportEmergency(kb).run(
        dispatcher,
        tracker(
            "...",
            "report_emergency",
            [{"entity": "city", "value": "Trani"}],
            ranking,
            safety=unsure,
            language="it",
        ),
        {},
    )
    assert responses(dispatcher)[0] == "utter_emergency_numbers_intro"
    assert responses(dispatcher)[-1] == "utter_emergency_unsure"
    buttons = dispatcher.messages[-1]["buttons"]
    assert buttons[0] == {
        "title": kb.service_name("housing", "it").text,
        "payload": '/ask_housing{"city": "Trani"}',
    }
    assert buttons[-1]["payload"] == "/request_mediator"
    dispatcher = CollectingDispatcher()
    await ActionReportEmergency(kb).run(
        dispatcher,
        tracker(
            "...",
            "report_emergency",
            ranking=ranking,
            safety={**unsure, "sure": True},
            language="it",
        ),
        {},
    )
    assert responses(dispatcher)[-1] == "utter_emergency_offer_mediator"  # sure: as before


@pytest.mark.parametrize(
    ("danger", "first_number", "absent", "help_words"),
    [
        ("medical", "118", "1522", "pronto soccorso"),
        ("violence", "1522", "800 290 290", "centro antiviolenza"),
        ("exploitation", "800 290 290", "1522", "casi speciali"),
        ("minor", "114", "800 290 290", "114"),
        ("fire_danger", "115", "1522", "115"),
        ("self_harm", "112", "800 290 290", "Non sei solo"),
    ],
)
async def test_each_danger_gets_its_numbers_first_then_its_help(
    kb: KnowledgeBase, danger: str, first_number: str, absent: str, help_words: str
) -> None:
    dispatcher = CollectingDispatcher()
    await ActionReportEmergency(kb).run(
        dispatcher,
        tracker("...", "report_emergency", language="it", safety={"classes": [danger]}),
        {},
    )
    numbers = dispatcher.messages[0]["numbers"].splitlines()
    assert numbers[0].startswith(f"🚨 {first_number} — ")
    assert all(absent not in line for line in numbers)
    assert help_words in cards(dispatcher)
    assert "utter_answer_ask_city" not in responses(dispatcher)


async def test_care_without_papers_is_promised_without_police(kb: KnowledgeBase) -> None:
    dispatcher = CollectingDispatcher()
    await ActionReportEmergency(kb).run(
        dispatcher,
        tracker(
            "no tengo papeles y tengo un dolor fuerte en el pecho",
            "report_emergency",
            language="es",
            safety={"classes": ["medical"], "undocumented": True},
            city="Lecce",
        ),
        {},
    )
    text = cards(dispatcher)
    assert "STP" in text and "no te denuncia a la policía" in text
    assert "Questura" not in text
    assert "ASL" in text  # the STP office of the town already known, without asking for it


async def test_two_dangers_in_one_message_get_both_helps(kb: KnowledgeBase) -> None:
    dispatcher = CollectingDispatcher()
    await ActionReportEmergency(kb).run(
        dispatcher,
        tracker(
            "...",
            "report_emergency",
            language="en",
            safety={"classes": ["medical", "exploitation"]},
        ),
        {},
    )
    numbers = dispatcher.messages[0]["numbers"]
    assert "118" in numbers and "800 290 290" in numbers
    assert "emergency room" in cards(dispatcher) and "casi speciali" in cards(dispatcher)


async def test_emergency_numbers_go_out_even_without_the_knowledge_base() -> None:
    class Broken(KnowledgeBase):
        def emergency_numbers(self, language: str):  # type: ignore[override]
            raise RuntimeError("database unreachable")

    dispatcher = CollectingDispatcher()
    await ActionReportEmergency(Broken("sqlite://")).run(
        dispatcher, tracker("help", "report_emergency", language="en"), {}
    )
    assert responses(dispatcher)[0] == "utter_emergency_numbers_static"


async def test_first_miss_offers_likely_topics_second_offers_a_mediator(kb: KnowledgeBase) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.4},
        {"name": "ask_health_care", "confidence": 0.3},
        {"name": "greet", "confidence": 0.1},
        {"name": "ask_housing", "confidence": 0.1},
    ]
    first = CollectingDispatcher()
    await ActionHandleFallback(kb).run(
        first, tracker("blah", "nlu_fallback", ranking=ranking, language="fr", failed_turns=1), {}
    )
    assert responses(first) == ["utter_fallback_rephrase"]
    buttons = first.messages[0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/ask_health_care", "/ask_housing"]
    assert buttons[0]["title"] != "health_care"  # the service's name, in French

    second = CollectingDispatcher()
    await ActionHandleFallback(kb).run(
        second, tracker("blah", "nlu_fallback", language="fr", failed_turns=2), {}
    )
    assert responses(second) == ["utter_fallback_offer_mediator"]


async def test_failures_are_counted_and_reset_by_an_understood_message() -> None:
    counter = ActionCountFailures()
    events = await counter.run(
        CollectingDispatcher(), tracker("x", "nlu_fallback", failed_turns=1), {}
    )
    assert events[0]["value"] == 2
    events = await counter.run(CollectingDispatcher(), tracker("ciao", "greet", failed_turns=2), {})
    assert events[0]["value"] == 0


async def test_unsure_intent_but_a_named_service_gets_the_answer(kb: KnowledgeBase) -> None:
    dispatcher = CollectingDispatcher()
    entities = [
        {"entity": "service", "value": "citizenship"},
        {"entity": "city", "value": "Manduria"},
    ]
    events = await ActionHandleFallback(kb).run(
        dispatcher,
        tracker(
            "cum depun cererea de cetățenie italiană? locuiesc în Manduria",
            "nlu_fallback",
            entities,
            language="ro",
            failed_turns=1,
        ),
        {},
    )
    assert "utter_answer_summary" in responses(dispatcher)
    assert any(e.get("name") == "service" and e.get("value") == "citizenship" for e in events)
