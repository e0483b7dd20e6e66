"""FAQ answers in the dialogue: answered first, the office after, buttons when unsure."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import faq
from actions.answers import ActionAnswerService, ActionHandleInform
from actions.conversation import ActionHandleFallback
from bot.kb.queries import KnowledgeBase
from tests.actions.conftest import cards, city, responses, tracker


def slots(events: list[Any]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def ranking(*rows: tuple[str, str, float]) -> dict[str, Any]:
    return {"ranking": [{"id": i, "service": s, "score": x} for i, s, x in rows]}


@pytest.fixture
def entry(kb: KnowledgeBase):
    """A shipped FAQ entry that points to an office kind and a procedure."""
    for entry_id in kb.faq_ids():
        found = kb.faq(entry_id, "it")
        if found and found.office_kinds and found.procedure:
            return found
    pytest.skip("no FAQ entry with an office kind and a procedure is shipped")


def with_faq(text: str, intent: str, faq_field: dict[str, Any], **kwargs: Any):
    t = tracker(text, intent, **kwargs)
    t.latest_message["faq"] = faq_field
    return t


def test_policy_answers_a_sure_match_and_offers_close_ones() -> None:
    sure = ranking(
        ("a", "citizenship", faq.ANSWER_SCORE),
        ("b", "citizenship", faq.SUGGEST_SCORE),
        ("c", "housing", faq.SUGGEST_SCORE - 0.01),
    )
    assert faq.choose({"text": "x", "faq": sure}, None, None) == faq.FaqChoice(
        answer="a", suggestions=("b",)
    )
    unsure = ranking(
        ("a", "citizenship", faq.SUGGEST_SCORE + 0.01), ("b", "housing", faq.SUGGEST_SCORE - 0.01)
    )
    assert faq.choose({"text": "x", "faq": unsure}, None, None) == faq.FaqChoice(suggestions=("a",))
    assert faq.choose({"text": "x"}, None, None) == faq.FaqChoice()


def test_policy_answers_a_long_story_on_a_lower_score_with_the_next_ones_beside() -> None:
    rows = ranking(
        ("a", "citizenship", faq.STORY_ANSWER_SCORE),
        ("b", "citizenship", faq.STORY_SUGGEST_SCORE),
        ("c", "housing", faq.STORY_SUGGEST_SCORE),
        ("d", "housing", faq.STORY_SUGGEST_SCORE),
    )
    story = " ".join(["parola"] * faq.STORY_WORDS)
    assert faq.choose({"text": story, "faq": rows}, None, None) == faq.FaqChoice(
        answer="a", suggestions=("b", "c")
    )
    short = " ".join(["parola"] * (faq.STORY_WORDS - 1))
    assert faq.choose({"text": short, "faq": rows}, None, None) == faq.FaqChoice()


def test_policy_reads_a_short_follow_up_within_the_service_discussed() -> None:
    rows = ranking(
        ("other", "housing", 0.34),
        ("long", "citizenship", faq.FOLLOW_UP_SCORE),
        ("done", "citizenship", 0.4),
    )
    follow = {"text": "e quanto tempo ci vuole?", "faq": rows}
    assert faq.choose(follow, "citizenship", "done").answer == "long"
    assert faq.choose(follow, None, None).answer is None  # no context: not sure enough
    story = {"text": " ".join(["parola"] * (faq.FOLLOW_UP_WORDS + 1)), "faq": rows}
    assert faq.choose(story, "citizenship", "done").answer is None


async def test_faq_answer_first_then_the_town_is_asked_for_the_office(
    kb: KnowledgeBase, entry
) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerService(kb).run(
        dispatcher,
        with_faq(
            "...", f"ask_{entry.service}", ranking((entry.id, entry.service, 0.9)), language="it"
        ),
        {},
    )
    assert entry.answer in cards(dispatcher)
    assert responses(dispatcher)[-1] == "utter_answer_ask_city_for_office"
    assert "utter_answer_ask_city" not in responses(dispatcher)
    assert slots(events)["faq"] == entry.id
    assert slots(events)["pending_question"] == f"office:{entry.service}"


async def test_faq_answer_with_a_known_town_names_the_office(kb: KnowledgeBase, entry) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerService(kb).run(
        dispatcher,
        with_faq(
            "...",
            f"ask_{entry.service}",
            ranking((entry.id, entry.service, 0.9)),
            entities=city("Bari"),
            language="it",
        ),
        {},
    )
    text = cards(dispatcher)
    assert text.index(entry.answer) < text.index("🏢")  # the answer before the office
    assert slots(events)["city"] == "Bari"
    assert slots(events)["office"]
    assert "utter_answer_summary" in responses(dispatcher)


async def test_the_related_questions_come_as_buttons_under_the_answer(
    kb: KnowledgeBase, entry
) -> None:
    other = next(i for i in kb.faq_ids() if i != entry.id)
    rows = ranking((entry.id, entry.service, 0.9), (other, entry.service, 0.5))
    dispatcher = CollectingDispatcher()
    await ActionAnswerService(kb).run(
        dispatcher, with_faq("...", f"ask_{entry.service}", rows, language="it"), {}
    )
    related = next(m for m in dispatcher.messages if m.get("response") == "utter_faq_related")
    assert related["buttons"] == [
        {"title": kb.faq(other, "it").question, "payload": f'/inform{{"faq_id": "{other}"}}'}
    ]
    assert responses(dispatcher).index("utter_faq_related") < responses(dispatcher).index(
        "utter_answer_ask_city_for_office"
    )


async def test_fallback_offers_the_closest_questions_and_a_mediator(
    kb: KnowledgeBase, entry
) -> None:
    close = faq.SUGGEST_SCORE + 0.01
    dispatcher = CollectingDispatcher()
    await ActionHandleFallback(kb).run(
        dispatcher,
        with_faq("boh", "nlu_fallback", ranking((entry.id, entry.service, close)), language="it"),
        {},
    )
    [message] = dispatcher.messages
    assert message["response"] == "utter_faq_suggest"
    assert message["buttons"][0]["title"] == entry.question
    assert entry.id in message["buttons"][0]["payload"]
    assert message["buttons"][-1]["payload"] == "/request_mediator"


async def test_a_chosen_suggestion_is_answered(kb: KnowledgeBase, entry) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionHandleInform(kb).run(
        dispatcher,
        tracker("/inform", "inform", [{"entity": "faq_id", "value": entry.id}], language="it"),
        {},
    )
    assert entry.answer in cards(dispatcher)
    assert SlotSet("faq", entry.id) in events
