"""Rasa's training cache must not hand back a classifier trained on old word lists or code."""

from pathlib import Path

import pytest

from bot.nlu import fingerprint
from bot.nlu.concepts import ConceptFeaturizer
from bot.nlu.gazetteer import GazetteerEntityExtractor
from bot.nlu.language import LanguageDetector
from bot.nlu.tokenizer import CJKWhitespaceTokenizer


@pytest.mark.parametrize(
    "component",
    [LanguageDetector, CJKWhitespaceTokenizer, ConceptFeaturizer, GazetteerEntityExtractor],
)
def test_every_custom_component_adds_the_sources_to_its_fingerprint(component):
    assert component.fingerprint_addon({}) == fingerprint.sources_fingerprint()


def test_a_word_added_to_the_lexicon_changes_the_fingerprint(tmp_path: Path, monkeypatch):
    nlu, territory = tmp_path / "nlu", tmp_path / "territory.yml"
    nlu.mkdir()
    (nlu / "lexicon.yml").write_text("services: {housing: [casa popolare]}\n", encoding="utf-8")
    territory.write_text("aliases: []\n", encoding="utf-8")
    monkeypatch.setattr(fingerprint, "NLU_DIR", nlu)
    monkeypatch.setattr(fingerprint, "TERRITORY_FILE", territory)
    fingerprint.sources_fingerprint.cache_clear()
    try:
        before = fingerprint.sources_fingerprint()
        (nlu / "lexicon.yml").write_text(
            "services: {housing: [casa popolare, cerco casa]}\n", encoding="utf-8"
        )
        fingerprint.sources_fingerprint.cache_clear()
        after_lexicon = fingerprint.sources_fingerprint()
        territory.write_text("aliases: [{comune: Nardò, names: [Nardo]}]\n", encoding="utf-8")
        fingerprint.sources_fingerprint.cache_clear()
        after_alias = fingerprint.sources_fingerprint()
    finally:
        fingerprint.sources_fingerprint.cache_clear()
    assert len({before, after_lexicon, after_alias}) == 3


def test_danger_words_and_faq_retrain_only_their_own_components(tmp_path: Path, monkeypatch):
    from bot.nlu.faq import FaqRetriever
    from bot.nlu.safety import SafetyClassifier

    nlu, faq = tmp_path / "nlu", tmp_path / "faq"
    nlu.mkdir()
    faq.mkdir()
    for name in ("lexicon.yml", "safety.yml", "safety.py", "faq.py", "text.py"):
        (nlu / name).write_text(f"# {name}\n", encoding="utf-8")
    (faq / "housing.yml").write_text("faq: []\n", encoding="utf-8")
    monkeypatch.setattr(fingerprint, "NLU_DIR", nlu)
    monkeypatch.setattr(fingerprint, "FAQ_DIR", faq)
    fingerprint.sources_fingerprint.cache_clear()
    try:
        shared = fingerprint.sources_fingerprint()
        safety = SafetyClassifier.fingerprint_addon({})
        retriever = FaqRetriever.fingerprint_addon({})
        (nlu / "safety.yml").write_text("groups: {fire: {it: [incendio]}}\n", encoding="utf-8")
        (faq / "housing.yml").write_text("faq: [{id: x}]\n", encoding="utf-8")
        fingerprint.sources_fingerprint.cache_clear()
        assert fingerprint.sources_fingerprint() == shared  # DIET's inputs did not change
        assert SafetyClassifier.fingerprint_addon({}) != safety
        assert FaqRetriever.fingerprint_addon({}) != retriever
    finally:
        fingerprint.sources_fingerprint.cache_clear()
