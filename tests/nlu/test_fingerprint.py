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
