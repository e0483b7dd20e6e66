"""The held-out NLU test set is only worth its numbers if it is well-formed.

A missing intent in one language silently drops it from that language's macro-F1, a misspelled
town value makes a correct prediction look like a miss, and the same text labelled with two
intents caps accuracy below 100 % for no reason. These checks read the YAML files alone (no
model), so they run in any fresh clone.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.kb import vocabulary
from bot.territory import comuni

TEST_SET_DIR = Path(__file__).parent / "heldout"

# The 16 Tier-1 and Tier-2 languages of the design brief: each must cover every intent.
LANGUAGES = vocabulary.LANGUAGES
# Romanized and unsupported-by-detector varieties: partial coverage is expected.
EXTRA_VARIETIES = ("ar-Latn", "ur-Latn", "bn-Latn", "pcm", "wo")

INTENTS = frozenset(
    """
    ask_residence_permit ask_asylum ask_family_reunification ask_citizenship
    ask_residence_registration ask_tax_code ask_health_care ask_italian_course
    ask_school_enrollment ask_employment ask_housing ask_legal_aid
    ask_opening_hours ask_office_location ask_documents_needed
    greet goodbye thank affirm deny inform bot_challenge choose_language
    request_mediator report_emergency delete_my_data out_of_scope
    """.split()
)

# `language` entity values are the codes the assistant replies in.
LANGUAGE_VALUES = frozenset(LANGUAGES) | {"wo"}


# Comune names that are also everyday words ("salve" is a greeting, "panni" are clothes).
COMMON_WORDS = frozenset({"salve", "panni", "troia", "castro", "cavallino"})


def _files() -> list[Path]:
    return sorted(TEST_SET_DIR.glob("*.yml"))


@cache
def _load(path: Path) -> TrainingData:
    """Parsed once per file: Rasa's YAML reader is slow enough to dominate this module."""
    return load_data(str(path))


def test_one_file_per_language_and_variety() -> None:
    codes = {p.stem for p in _files()}
    assert codes >= set(LANGUAGES), f"missing languages: {sorted(set(LANGUAGES) - codes)}"
    unknown = codes - set(LANGUAGES) - set(EXTRA_VARIETIES)
    assert not unknown, f"file names must be <language code>.yml, got {sorted(unknown)}"


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name)
def test_file_loads_with_known_intents(path: Path) -> None:
    data = _load(path)
    assert data.training_examples, f"{path.name} has no examples"
    unknown = data.intents - INTENTS
    assert not unknown, f"{path.name}: intents outside the taxonomy: {sorted(unknown)}"


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_intent_in_every_language(code: str) -> None:
    data = _load(TEST_SET_DIR / f"{code}.yml")
    missing = INTENTS - data.intents
    assert not missing, f"{code}.yml lacks {sorted(missing)}"
    counts = data.number_of_examples_per_intent
    thin = {intent: n for intent, n in counts.items() if n < 3}
    assert not thin, f"{code}.yml has fewer than 3 examples for {thin}"


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name)
def test_entities_have_canonical_values(path: Path) -> None:
    official = {c.name for c in comuni()}
    for example in _load(path).training_examples:
        text = example.get("text")
        for entity in example.get("entities", []):
            value = entity["value"]
            if entity["entity"] == "city":
                assert value in official, f"{path.name}: {text!r}: {value!r} is not a comune"
            elif entity["entity"] == "language":
                assert value in LANGUAGE_VALUES, f"{path.name}: {text!r}: language {value!r}"
            else:
                pytest.fail(f"{path.name}: {text!r}: unexpected entity {entity['entity']!r}")
            # A span with spaces at its edges never matches a predicted entity exactly.
            span = text[entity["start"] : entity["end"]]
            assert span == span.strip(), f"{path.name}: {text!r}: span {span!r} has edge spaces"


def test_every_town_mention_is_annotated() -> None:
    """A town written in Latin letters but left unannotated would be scored as a false positive."""
    folded_names = sorted(
        {c.name.casefold() for c in comuni() if len(c.name) > 4} - COMMON_WORDS,
        key=len,
        reverse=True,
    )
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, folded_names)) + r")\b")
    for path in _files():
        for example in _load(path).training_examples:
            text = example.get("text")
            covered = [(e["start"], e["end"]) for e in example.get("entities", [])]
            for match in pattern.finditer(text.casefold()):
                inside = any(s <= match.start() and match.end() <= e for s, e in covered)
                assert inside, f"{path.name}: {text!r}: {match.group(0)!r} is not annotated"


def test_no_text_labelled_with_two_intents() -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    where: dict[str, set[str]] = defaultdict(set)
    for path in _files():
        for example in _load(path).training_examples:
            key = " ".join(example.get("text").casefold().split())
            seen[key].add(example.get("intent"))
            where[key].add(path.name)
    clashes = {
        text: (sorted(intents), sorted(where[text]))
        for text, intents in seen.items()
        if len(intents) > 1
    }
    assert not clashes, f"same text, different intents: {clashes}"
