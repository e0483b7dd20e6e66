"""Answers about a service for the person's town, against the shipped knowledge."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ActionAnswerAspect, ActionAnswerService, ActionHandleInform
from bot.kb.queries import KnowledgeBase
from bot.messages import render
from tests.actions.conftest import cards, city, responses, tracker

ROME = ZoneInfo("Europe/Rome")
# Tuesday 24 November 2026, 10:00 in Rome: inside the Questura di Lecce's Tuesday slot.
TUESDAY_MORNING = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ROME)
# Wednesday 25 November 2026, 10:00: closed; next opening Thursday 14:30.
WEDNESDAY_MORNING = dt.datetime(2026, 11, 25, 10, 0, tzinfo=ROME)


def slots(events) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_permit_question_with_town_gets_the_province_questura(kb: KnowledgeBase) -> None:
    dispatcher = CollectingDispatcher()
    action = ActionAnswerService(kb, clock=lambda: TUESDAY_MORNING)
    events = await action.run(
        dispatcher,
        tracker(
            "il mio permesso scade, vivo a Gallipoli",
            "ask_residence_permit",
            city("Gallipoli"),
            language="it",
        ),
        {},
    )
    text = cards(dispatcher)
    assert "Questura di Lecce" in text
    assert "🟢" in text  # open now, by appointment
    italian_header = render("utter_answer_documents_header", "it")
    assert italian_header != render("utter_answer_documents_header", "en")
    assert italian_header in text and render("utter_answer_steps_header", "it") in text
    summary = next(m for m in dispatcher.messages if m["response"] == "utter_answer_summary")
    assert summary["city"] == "Gallipoli"
    assert "rinnov" in summary["title"].lower()  # "scade" picks the renewal procedure
    assert responses(dispatcher)[-1] == "utter_answer_next"
    assert slots(events)["office"] == "questura-lecce-immigrazione"
    assert slots(events)["service"] == "residence_permit"


async def test_closed_office_says_when_it_opens_next(kb: KnowledgeBase) -> None:
    dispatcher = CollectingDispatcher()
    action = ActionAnswerService(kb, clock=lambda: WEDNESDAY_MORNING)
    await action.run(
        dispatcher,
        tracker("how to renew permit", "ask_residence_permit", city("Nardò"), language="en"),
        {},
    )
    text = cards(dispatcher)
    assert "Closed now. It opens again Thu, Nov 26 14:30 (by appointment only)." in text


async def test_question_without_town_is_answered_first_then_the_office_when_town_arrives(
    kb: KnowledgeBase,
) -> None:
    first = CollectingDispatcher()
    events = await ActionAnswerService(kb).run(
        first, tracker("necesito el código fiscal", "ask_tax_code", language="es"), {}
    )
    # What to do, the documents and the steps come at once; the town only names the office.
    assert responses(first)[0] == "utter_answer_summary_general"
    assert responses(first)[-1] == "utter_answer_ask_city_for_office"
    assert "utter_answer_ask_city" not in responses(first)
    procedure = kb.procedure("tax_code", "es", slots(events)["procedure"])
    assert procedure is not None and procedure.steps[0] in cards(first)
    assert slots(events)["pending_question"] == "office:tax_code"

    second = CollectingDispatcher()
    events = await ActionHandleInform(kb).run(
        second,
        tracker(
            "Nardo",
            "inform",
            city("Nardò"),
            language="es",
            pending_question="office:tax_code",
            service="tax_code",
            procedure=slots(events)["procedure"],
        ),
        {},
    )
    assert "Agenzia" in cards(second)
    assert procedure.steps[0] not in cards(second)  # not repeated
    assert slots(events)["pending_question"] is None
    assert slots(events)["city"] == "Nardò"


async def test_follow_up_hours_apply_to_the_office_just_discussed(kb: KnowledgeBase) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAnswerAspect(kb, clock=lambda: WEDNESDAY_MORNING).run(
        dispatcher,
        tracker(
            "e quando è aperto?",
            "ask_opening_hours",
            language="it",
            service="residence_permit",
            office="questura-lecce-immigrazione",
            city="Nardò",
        ),
        {},
    )
    text = cards(dispatcher)
    assert "Questura di Lecce" in text
    assert "mar: 08:30–13:00" in text.lower()  # Tuesday slot, Italian weekday
    assert "gio: 14:30–16:30" in text.lower()


async def test_unknown_hours_are_said_to_be_unknown_not_closed(kb: KnowledgeBase) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAnswerService(kb, clock=lambda: TUESDAY_MORNING).run(
        dispatcher,
        tracker("permesso di soggiorno", "ask_residence_permit", city("San Severo"), language="en"),
        {},
    )
    text = cards(dispatcher)
    assert "Foggia" in text
    assert "opening hours are not known" in text
    assert "Closed now" not in text


async def test_town_alone_without_pending_question_asks_what_is_needed(kb: KnowledgeBase) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionHandleInform(kb).run(
        dispatcher, tracker("Andria", "inform", city("Andria"), language="it"), {}
    )
    assert responses(dispatcher) == ["utter_answer_city_noted"]
    assert SlotSet("city", "Andria") in events


async def test_unknown_town_is_asked_again(kb: KnowledgeBase) -> None:
    dispatcher = CollectingDispatcher()
    await ActionHandleInform(kb).run(dispatcher, tracker("Milano", "inform", language="it"), {})
    assert responses(dispatcher) == ["utter_answer_city_unknown"]


def _gurmukhi(text: str) -> bool:
    return any("\u0a00" <= ch <= "\u0a7f" for ch in text)


async def test_tier2_card_gives_the_persons_language_first_then_a_note(kb: KnowledgeBase) -> None:
    # The CPIA course is not among the procedures translated in full into Punjabi: its title and
    # summary are in Punjabi, its documents and steps in English after one line saying so.
    dispatcher = CollectingDispatcher()
    await ActionAnswerService(kb, clock=lambda: TUESDAY_MORNING).run(
        dispatcher, tracker("ਇਤਾਲਵੀ ਕੋਰਸ", "ask_italian_course", city("Bari"), language="pa"), {}
    )
    summary = next(m for m in dispatcher.messages if m["response"] == "utter_answer_summary")
    assert _gurmukhi(summary["title"]) and _gurmukhi(summary["summary"])
    card_texts = [
        m["card"] for m in dispatcher.messages if m.get("response") == "utter_answer_card"
    ]
    note = render("utter_answer_line_checklist_fallback", "pa", fallback_language="ਅੰਗਰੇਜ਼ੀ")
    documents = next(i for i, text in enumerate(card_texts) if "📄" in text)
    assert card_texts[documents].startswith(note + "\n")  # the note comes before the checklist
    assert "mediatore" in note
    # The whole-card note ("this text is not in Punjabi") is not said a second time.
    whole = render("utter_answer_line_language_fallback", "pa", fallback_language="ਅੰਗਰੇਜ਼ੀ")
    assert whole not in cards(dispatcher)


async def test_a_procedure_translated_in_full_comes_whole_in_punjabi(kb: KnowledgeBase) -> None:
    # The permit renewal is among the ten procedures translated in full into pa, hi, fa, ps.
    dispatcher = CollectingDispatcher()
    await ActionAnswerService(kb, clock=lambda: TUESDAY_MORNING).run(
        dispatcher, tracker("ਪਰਮਿਟ ਰੀਨਿਊ", "ask_residence_permit", city("Bari"), language="pa"), {}
    )
    summary = next(m for m in dispatcher.messages if m["response"] == "utter_answer_summary")
    assert _gurmukhi(summary["title"])
    steps = next(
        m["card"]
        for m in dispatcher.messages
        if m.get("response") == "utter_answer_card" and m["card"].startswith("👣")
    )
    assert _gurmukhi(steps) and "Questura" in steps
    note = render("utter_answer_line_checklist_fallback", "pa", fallback_language="ਅੰਗਰੇਜ਼ੀ")
    assert note not in cards(dispatcher)


async def test_a_service_named_in_the_message_outranks_an_unsure_intent(
    kb: KnowledgeBase,
) -> None:
    dispatcher = CollectingDispatcher()
    entities = [{"entity": "service", "value": "asylum"}, *city("Torremaggiore")]
    events = await ActionAnswerService(kb).run(
        dispatcher,
        tracker(
            "أريد أن أطلب اللجوء، أسكن في Torremaggiore",
            "ask_housing",
            entities,
            confidence=0.6,
            language="ar",
        ),
        {},
    )
    assert slots(events)["service"] == "asylum"


async def test_a_sure_intent_is_what_was_asked_whatever_the_story_names(
    kb: KnowledgeBase,
) -> None:
    # "Permesso di soggiorno" is part of the story; the question is about a doctor.
    dispatcher = CollectingDispatcher()
    entities = [{"entity": "service", "value": "residence_permit"}, *city("Lecce")]
    events = await ActionAnswerService(kb).run(
        dispatcher,
        tracker(
            "ho il permesso di soggiorno scaduto, a chi mi rivolgo per vedere un dottore?",
            "ask_health_care",
            entities,
            confidence=0.89,
            language="it",
        ),
        {},
    )
    assert slots(events)["service"] == "health_care"


@pytest.mark.parametrize("intent", ["ask_residence_permit", "ask_health_care", "inform"])
async def test_care_without_papers_is_stp_care_never_the_questura(
    kb: KnowledgeBase, intent: str
) -> None:
    dispatcher = CollectingDispatcher()
    entities = [
        {"entity": "service", "value": "residence_permit"},
        {"entity": "service", "value": "health_care"},
        *city("Lecce"),
    ]
    events = await ActionAnswerService(kb).run(
        dispatcher,
        tracker(
            "non ho il permesso di soggiorno, sto male, dove posso andare dal medico a Lecce?",
            intent,
            entities,
            confidence=0.95,
            language="it",
            safety={"classes": [], "undocumented": True},
        ),
        {},
    )
    assert slots(events)["service"] == "health_care"
    assert slots(events)["procedure"] == "health-stp-code"
    office = kb.office(slots(events)["office"])
    assert office is not None and office.kind != "questura"
    assert "Questura" not in cards(dispatcher)


async def test_town_with_a_named_service_read_as_inform_answers_the_service(
    kb: KnowledgeBase,
) -> None:
    dispatcher = CollectingDispatcher()
    entities = [{"entity": "service", "value": "legal_aid"}, *city("Trani")]
    events = await ActionHandleInform(kb).run(
        dispatcher,
        tracker("需要免费的律师咨询，我住在Trani", "inform", entities, language="zh"),
        {},
    )
    assert slots(events)["service"] == "legal_aid"
    assert "utter_answer_summary" in responses(dispatcher)


async def test_two_services_named_leave_it_to_the_intent(kb: KnowledgeBase) -> None:
    dispatcher = CollectingDispatcher()
    entities = [
        {"entity": "service", "value": "health_care"},
        {"entity": "service", "value": "tax_code"},
        *city("Bari"),
    ]
    events = await ActionAnswerService(kb).run(
        dispatcher,
        tracker(
            "per la tessera sanitaria serve il codice fiscale?",
            "ask_health_care",
            entities,
            language="it",
        ),
        {},
    )
    assert slots(events)["service"] == "health_care"


async def test_where_question_about_a_new_service_gets_the_whole_answer(kb: KnowledgeBase) -> None:
    # "Where do I sign up?" with the job centre named, first thing in a conversation: the
    # address alone would leave the person without the procedure they came for.
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerAspect(kb, clock=lambda: WEDNESDAY_MORNING).run(
        dispatcher,
        tracker(
            "looking for work, where is the job centre? I live in Lecce",
            "ask_office_location",
            [{"entity": "service", "value": "employment"}, *city("Lecce")],
            language="en",
        ),
        {},
    )
    assert "utter_answer_summary" in responses(dispatcher)
    assert render("utter_answer_steps_header", "en") in cards(dispatcher)
    assert slots(events)["service"] == "employment"


async def test_where_question_about_the_service_just_discussed_gets_the_address(
    kb: KnowledgeBase,
) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAnswerAspect(kb, clock=lambda: WEDNESDAY_MORNING).run(
        dispatcher,
        tracker(
            "where is the office for the permesso?",
            "ask_office_location",
            [{"entity": "service", "value": "residence_permit"}],
            language="en",
            service="residence_permit",
            office="questura-lecce-immigrazione",
            city="Nardò",
        ),
        {},
    )
    assert "utter_answer_summary" not in responses(dispatcher)
    assert "Questura di Lecce" in cards(dispatcher)
    assert render("utter_answer_steps_header", "en") not in cards(dispatcher)
