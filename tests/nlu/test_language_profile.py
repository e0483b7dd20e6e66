"""The n-gram profile the detector learns from the project's own training examples."""

import logging
import math

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from actions.constants import LANGUAGE_SWITCH_CONFIDENCE
from bot.nlu.language import LanguageDetector, detect
from bot.nlu.profile import LanguageProfile, profile_from_data

ALBANIAN = ["kam nevoje per nje avokat", "ku eshte zyra e punes", "dua te mesoj italisht"]
ENGLISH = ["i need a lawyer", "where is the job centre", "i want to learn italian"]


def _training_data() -> TrainingData:
    messages = [
        Message(data={"text": text, "intent": "x", "metadata": {"intent": {"lang": lang}}})
        for lang, texts in (("sq", ALBANIAN), ("en", ENGLISH), ("pcm", ["abeg help me"]))
        for text in texts
    ]
    return TrainingData(training_examples=messages)


@pytest.mark.parametrize(
    "text, code",
    [("ndihme ligjore pa pagese ne bari", "sq"), ("hay clases de italiano gratis", "es")],
)
def test_with_the_training_data_the_detector_is_sure_enough_to_switch(text, code):
    # Without the profile, fastText and the word lists guess right but too unsure to move a
    # conversation to the person's language.
    assert detect(text)["confidence"] < LANGUAGE_SWITCH_CONFIDENCE
    result = detect(text, profile=profile_from_data())
    assert result["code"] == code
    assert result["confidence"] >= LANGUAGE_SWITCH_CONFIDENCE


def test_profile_learns_only_the_supported_languages_and_survives_json():
    profile = LanguageProfile.from_training_data(_training_data(), ("sq", "en"))
    assert profile.docs == {"sq": 3, "en": 3}  # Pidgin has no reply language to learn
    again = LanguageProfile.from_json(profile.to_json())
    shares = again.log_shares("nevoje per avokat", ("sq", "en", "fr"))
    assert shares == profile.log_shares("nevoje per avokat", ("sq", "en", "fr"))
    assert set(shares) == {"sq", "en"}  # a language it never saw gets no say
    assert math.isclose(sum(math.exp(v) for v in shares.values()), 1.0)
    assert shares["sq"] > shares["en"]
    assert not LanguageProfile({}, {}) and LanguageProfile({}, {}).log_shares("x", ("it",)) == {}


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def test_trained_detector_keeps_its_profile_in_the_model(tmp_path):
    storage, resource = LocalModelStorage(tmp_path), Resource("language_detector")
    trained = LanguageDetector.create({}, storage, resource, _context())
    trained.train(_training_data())
    loaded = LanguageDetector.load({}, storage, resource, _context())
    assert loaded.profile is not None
    assert loaded.profile.to_json() == trained.profile.to_json()
    message = Message(data={"text": "ku eshte zyra e avokatit"})
    loaded.process([message])
    assert message.get("language") == detect("ku eshte zyra e avokatit", profile=loaded.profile)
    assert message.get("language")["code"] == "sq"


def test_a_model_without_a_profile_still_detects_and_says_why(tmp_path, caplog):
    storage = LocalModelStorage(tmp_path)
    with caplog.at_level(logging.WARNING):
        detector = LanguageDetector.load({}, storage, Resource("never_trained"), _context())
    assert detector.profile is None
    assert "language profile missing" in caplog.text
    message = Message(data={"text": "Дуже дякую"})
    detector.process([message])
    assert message.get("language")["code"] == "uk"
