"""The curated word lists in ``lexicon.yml``, read once on first use and folded for lookups."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.nlu.text import key
from bot.settings import PROJECT_ROOT
from bot.territory import fold

LEXICON_FILE = Path(__file__).with_name("lexicon.yml")
# Town aliases (other scripts, misspellings, frazioni), curated with the knowledge base.
TERRITORY_FILE = PROJECT_ROOT / "knowledge" / "territory.yml"


@dataclass(frozen=True)
class Lexicon:
    """Word → languages maps; keys are folded like message tokens."""

    courtesy: dict[str, str | None]
    latin: dict[str, frozenset[str]]
    cyrillic: dict[str, frozenset[str]]
    arabic_script: dict[str, frozenset[str]]
    arabic_courtesy: frozenset[str]
    pashto_markers: frozenset[str]
    romanized: dict[str, dict[str, int]]
    explicit_forms: dict[str, str]
    language_names: dict[str, str]
    cues: frozenset[str]
    request_verbs: frozenset[str]
    blockers: frozenset[str]


def _invert(groups: dict[str, list[str]], fold=fold) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for lang, words in groups.items():
        for word in words:
            out.setdefault(fold(str(word)), set()).add(str(lang))
    return {word: frozenset(langs) for word, langs in out.items()}


def _single(groups: dict[str | None, list[str]]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for lang, words in groups.items():
        for word in words:
            out.setdefault(fold(str(word)), lang)
    return out


def _weighted(groups: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, int]]:
    """Word → {variety: weight}: strong words and phrases count 2, weak ones 1."""
    out: dict[str, dict[str, int]] = {}
    for variety, lists in groups.items():
        for strength, words in lists.items():
            for word in words:
                key = fold(str(word))
                weight = 2 if strength == "strong" else 1
                slot = out.setdefault(key, {})
                slot[variety] = max(slot.get(variety, 0), weight)
    return out


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """Parse ``lexicon.yml`` (once per process)."""
    data = yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8"))
    return Lexicon(
        courtesy=_single(data["courtesy"]),
        # Courtesy words of one language are evidence for it inside longer messages too.
        latin=_invert(
            {
                lang: list(words) + list(data["courtesy"].get(lang) or [])
                for lang, words in data["latin"].items()
            }
        ),
        cyrillic=_invert(data["cyrillic"]),
        arabic_script=_invert(
            {k: v for k, v in data["arabic_script"].items() if k is not None}, fold=key
        ),
        arabic_courtesy=frozenset(key(str(w)) for w in data["arabic_script"][None]),
        pashto_markers=frozenset(key(str(w)) for w in data["pashto_markers"]),
        romanized=_weighted(data["romanized"]),
        explicit_forms={k: v for k, v in _single(data["explicit_forms"]).items() if v},
        language_names={k: v for k, v in _single(data["language_names"]).items() if v},
        cues=frozenset(fold(str(w)) for w in data["language_cues"]),
        request_verbs=frozenset(fold(str(w)) for w in data["language_request_verbs"]),
        blockers=frozenset(fold(str(w)) for w in data["language_blockers"]),
    )
