"""The safety matcher on a small lexicon written here: its rules, not the shipped word lists."""

from __future__ import annotations

from typing import Any

import pytest

from bot.nlu.safety import SafetyLexicon, SafetyLexiconError, classify

LEXICON = """
groups:
  chest: {it: [petto], en: [chest], ar: [صدر], zh: [胸口]}
  pain: {it: ["dolor*", fa male], en: ["pain*", "hurt*"], ar: [ألم, وجع]}
  not_breathing: {it: [non respira], en: ["can't breathe", cannot breathe], xx: [saans nahi]}
  heart_attack: {it: [infarto], fr: [crise cardiaque], ru: ["инфаркт*"]}
  bleeding: {fr: ["saign*"], en: [bleeding], it: [emorragia, "emorragi*"]}
  birth: {fr: [accouche, "accouch*"]}
  die: {en: [dying, die], it: ["muoio", "morire"]}
  want: {en: [want to], it: [voglio]}
  undocumented: {it: [senza permesso], en: [no papers]}
classes:
  medical:
    alone: [not_breathing, heart_attack]
    together:
      - [pain, chest]
      - [bleeding, birth]
  self_harm:
    together:
      - [want, die]
exclude:
  en: [dying to]
  it: [muoio dalla voglia]
"""


@pytest.fixture(scope="module")
def lexicon() -> SafetyLexicon:
    return SafetyLexicon.from_yaml(LEXICON)


@pytest.mark.parametrize(
    "text, classes",
    [
        ("ho un forte DOLORE al petto", ("medical",)),
        ("Tengo dolores en el pecho", ()),  # no Spanish words in this small lexicon
        ("my chest hurts so much", ("medical",)),
        ("mio padre non respira!!!", ("medical",)),
        ("papa saans nahi le raha", ("medical",)),
        ("il a fait un infarctus? non: une crise cardiaque", ("medical",)),
        ("у него инфаркта симптомы", ("medical",)),  # stem with a case ending
        ("عندي ألم في الصدر", ("medical",)),  # الصدر: the article is a prefix
        ("我胸口很痛", ()),  # chest alone is not enough
        ("ma femme accouche elle saigne beaucoup", ("medical",)),
        ("i want to die", ("self_harm",)),
        ("i am dying to learn italian, where is a course", ()),  # idiom
        ("muoio dalla voglia di imparare", ()),
        ("emorragia", ()),  # bleeding alone is a together-only group
        ("mia moglie ha una emoragia e accouche", ("medical",)),  # one typo in a long word
    ],
)
def test_classes(lexicon: SafetyLexicon, text: str, classes: tuple[str, ...]) -> None:
    assert lexicon.assess(text).classes == classes


def test_chinese_is_matched_inside_unspaced_text(lexicon: SafetyLexicon) -> None:
    assert "chest" in lexicon.assess("我胸口很痛").groups


def test_undocumented_is_context_not_danger(lexicon: SafetyLexicon) -> None:
    verdict = lexicon.assess("sono senza permesso e ho dolore al petto")
    assert verdict.classes == ("medical",)
    assert verdict.undocumented
    assert lexicon.assess("sono senza permesso, dove trovo un medico").classes == ()


def test_classifier_intent_is_a_second_net(lexicon: SafetyLexicon) -> None:
    sure = {"name": "report_emergency", "confidence": 0.93}
    unsure = {"name": "report_emergency", "confidence": 0.2}
    assert classify("help please come", sure, lexicon)["classes"] == ["danger"]
    assert classify("help please come", sure, lexicon)["source"] == "classifier"
    assert classify("help please come", unsure, lexicon)["classes"] == []
    assert classify("ho dolore al petto", None, lexicon)["source"] == "lexicon"
    calm = classify("sono senza permesso, dove trovo un medico", None, lexicon)
    assert (calm["classes"], calm["undocumented"]) == ([], True)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("groups: {a: {it: [x]}}\nclasses: {medical: {alone: [b]}}", "group 'b'"),
        ("groups: {a: {de: [x]}}", "unknown language 'de'"),
        ("groups: {a: {it: ['ab*']}}", "stem"),
        ("groups: {}\nclasses: {weather: {}}", "unknown classes"),
        ("groups: [", "not valid YAML"),
    ],
)
def test_broken_lexicon_is_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(SafetyLexiconError, match=problem.replace("*", r"\*")):
        SafetyLexicon.from_yaml(text)


def test_danger_overrides_an_ambiguous_fallback(lexicon: SafetyLexicon) -> None:
    """DIET sure of two other intents: the fallback says "not understood", danger still wins."""
    from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.safety import SafetyClassifier

    ranking = [
        {"name": "ask_residence_permit", "confidence": 0.5},
        {"name": "ask_family_reunification", "confidence": 0.45},
    ]
    message = Message(
        data={
            "text": "aiuto, mio padre non respira",
            "intent": dict(ranking[0]),
            "intent_ranking": [dict(r) for r in ranking],
        }
    )
    fallback = FallbackClassifier(
        {**FallbackClassifier.get_default_config(), "threshold": 0.4, "ambiguity_threshold": 0.1}
    )
    fallback.process([message])
    assert message.get("intent")["name"] == "nlu_fallback"
    SafetyClassifier(lexicon, None, None).process([message])
    assert message.get("intent") == {"name": "report_emergency", "confidence": 1.0}
    assert [r["name"] for r in message.get("intent_ranking")] == [
        "report_emergency",
        "ask_residence_permit",
        "ask_family_reunification",
    ]


def test_a_calm_message_keeps_the_fallback(lexicon: SafetyLexicon) -> None:
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.safety import SafetyClassifier

    fallback = {"name": "nlu_fallback", "confidence": 0.4}
    message = Message(data={"text": "boh", "intent": fallback, "intent_ranking": [fallback]})
    SafetyClassifier(lexicon, None, None).process([message])
    assert message.get("intent") == fallback
    assert message.get("safety")["classes"] == []


class _Danger:
    """A stand-in danger model that gives one probability to every message."""

    def __init__(self, probability: float) -> None:
        self.value = probability

    def probability(self, text: str) -> float:
        return self.value


def _diet_says_emergency(second: float) -> Any:
    from rasa.shared.nlu.training_data.message import Message

    ranking = [
        {"name": "report_emergency", "confidence": 0.6},
        {"name": "ask_residence_permit", "confidence": second},
    ]
    return Message(
        data={
            "text": "il rinnovo del permesso mi sta sfinendo",
            "intent": dict(ranking[0]),
            "intent_ranking": ranking,
        }
    )


def test_diet_alone_is_overruled_when_the_danger_model_rules_danger_out(
    lexicon: SafetyLexicon,
) -> None:
    """The person asked about their permit: they get the permit, not the emergency numbers."""
    from bot.nlu.safety import SafetyClassifier

    message = _diet_says_emergency(second=0.45)
    SafetyClassifier(lexicon, None, None, _Danger(0.05)).process([message])
    assert message.get("intent") == {"name": "ask_residence_permit", "confidence": 0.45}
    assert message.get("safety")["classes"] == []

    unsure_next = _diet_says_emergency(second=0.3)
    SafetyClassifier(lexicon, None, None, _Danger(0.05)).process([unsure_next])
    assert unsure_next.get("intent")["name"] == "nlu_fallback"


def test_diet_with_some_support_from_the_danger_model_stays_danger(
    lexicon: SafetyLexicon,
) -> None:
    from bot.nlu.safety import SafetyClassifier

    message = _diet_says_emergency(second=0.3)
    SafetyClassifier(lexicon, None, None, _Danger(0.25)).process([message])
    assert message.get("intent") == {"name": "report_emergency", "confidence": 1.0}
    assert message.get("safety")["classes"] == ["danger"]
    assert message.get("safety")["sure"] is False


def test_overruling_uses_the_fallback_threshold_of_the_pipeline() -> None:
    import yaml

    from bot.nlu.safety import FALLBACK_THRESHOLD
    from bot.settings import PROJECT_ROOT

    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    fallback = next(c for c in config["pipeline"] if c["name"] == "FallbackClassifier")
    assert fallback["threshold"] == FALLBACK_THRESHOLD
