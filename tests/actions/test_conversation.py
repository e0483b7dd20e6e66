"""Misunderstandings, emergencies and erasure never end in silence."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import (
    ActionCountFailures,
    ActionHandleFallback,
    ActionReportEmergency,
)
from bot.kb.queries import KnowledgeBase
from tests.actions.conftest import responses, tracker


async def test_emergency_numbers_come_first(kb: KnowledgeBase) -> None:
    dispatcher = CollectingDispatcher()
    await ActionReportEmergency(kb).run(
        dispatcher, tracker("mi picchiano aiuto", "report_emergency", language="it"), {}
    )
    first = dispatcher.messages[0]
    assert first["response"] == "utter_emergency_numbers_intro"
    for number in ("112", "118", "1522", "800 290 290"):
        assert number in first["numbers"]
    assert responses(dispatcher) == [
        "utter_emergency_numbers_intro",
        "utter_emergency_offer_mediator",
    ]


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
