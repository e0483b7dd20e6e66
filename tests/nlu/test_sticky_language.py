"""The conversation's language: sticky, switched by explicit requests, never by "ok"."""

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import constants
from actions.language import ActionSetLanguage, choose_language
from bot.nlu import language
from bot.nlu.language import detect


def test_action_constants_match_the_detector():
    assert constants.SUPPORTED_LANGUAGES == set(language.SUPPORTED)
    assert constants.WEAK_LANGUAGE_SOURCES == language.WEAK_SOURCES


@pytest.mark.parametrize(
    ("current", "text"),
    [
        ("ar", "ok"),
        ("ar", "grazie"),
        ("uk", "merci"),
        ("bn", "3"),
        ("zh", "👍"),
        ("ur", "Lecce"),
        ("fr", "Nardò"),
        ("en", "ciao"),
        ("ru", "questura"),
        ("ar", "permesso di soggiorno"),
        ("ur", "mujhe doctor chahiye"),
        ("fr", "Dama bëgg liggey"),
        ("it", ""),
    ],
)
def test_messages_that_say_nothing_keep_the_conversation_language(current, text):
    assert choose_language(current, detect(text)) == current


@pytest.mark.parametrize(
    ("current", "text", "expected"),
    [
        ("it", "write in English", "en"),
        ("en", "parla italiano", "it"),
        ("fr", "بالعربي لو سمحت", "ar"),
        ("ar", "en français svp", "fr"),
        ("it", "English", "en"),
        ("uk", "請用中文".replace("請", "请"), "zh"),
    ],
)
def test_explicit_request_always_switches(current, text, expected):
    assert choose_language(current, detect(text)) == expected


@pytest.mark.parametrize(
    ("current", "text", "expected"),
    [
        ("it", "where is the questura in Bari", "en"),
        ("en", "Дуже дякую за допомогу", "uk"),
        ("it", "أحتاج إلى طبيب", "ar"),
        ("en", "Caut un avocat, am nevoie de ajutor", "ro"),
    ],
)
def test_a_clear_sentence_in_another_language_switches(current, text, expected):
    assert choose_language(current, detect(text)) == expected


def test_first_message_seeds_the_language_even_when_short():
    assert choose_language(None, detect("grazie")) == "it"
    assert choose_language(None, detect("merci")) == "fr"
    assert choose_language(None, detect("👍", {"language_hint": "uk"})) == "uk"
    assert choose_language(None, detect("👍")) == constants.DEFAULT_LANGUAGE
    # Romanized text no detector reads: English rather than Italian.
    assert choose_language(None, detect("ami kaj chai")) == "en"


def test_language_entity_switches_even_without_detector_result():
    entities = [{"entity": "language", "value": "es"}]
    assert (
        choose_language("it", {"code": None, "confidence": 0, "source": "too_short"}, entities)
        == "es"
    )


def test_low_confidence_guess_does_not_switch():
    assert choose_language("it", {"code": "en", "confidence": 0.4, "source": "fasttext"}) == "it"


async def _run(slot, parse):
    tracker = Tracker("u", {"language": slot}, parse, [], False, None, {}, "action_listen")
    return await ActionSetLanguage().run(CollectingDispatcher(), tracker, {})


async def test_action_sets_slot_only_when_it_changes():
    keep = {"text": "ok", "language": detect("ok"), "entities": []}
    assert await _run("ar", keep) == []
    switch = {"text": "write in English", "language": detect("write in English"), "entities": []}
    assert await _run("ar", switch) == [SlotSet("language", "en")]
