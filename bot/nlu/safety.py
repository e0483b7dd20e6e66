"""Danger recognised first: medical emergencies, violence, exploitation, self-harm, minors, fire.

A person in danger who gets "which town do you live in?" or a residence-permit procedure may lose
far more than a person shown the emergency numbers needlessly loses seconds. So this layer is
built for recall, and it runs before anything else decides the answer: the ``SafetyClassifier``
component sits after DIET in the pipeline and, when a message reads as danger, makes its intent
``report_emergency`` with the danger classes in a top-level ``safety`` field of the parse. The
dialogue then has one route, whatever topic words ("permesso", "lavoro") the story holds.

What reads as danger is curated in ``safety.yml`` (its header gives the format): per class, word
groups that fire alone ("infarto", "non respira") and rules that need two signals ("dolore" with
"petto", "febbre" with a small child, "passaporto" with the boss). Matching works on folded
tokens (``bot.nlu.text``) in every script: stems with ``*``, Arabic-script words with their
one-letter prefixes, Chinese as substrings, one typo in long Latin or Cyrillic words. Idioms in
``exclude`` ("muoio dalla voglia", "dying to") cancel the words they contain.

The classifier is a second net: DIET's ``report_emergency``, trained on ``data/nlu/emergency.yml``,
fires the ``danger`` class when the word lists do not. Both together are what
``bot eval safety`` measures.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.fingerprint import safety_fingerprint
from bot.nlu.text import key, sanitize, script_of, tokenize

logger = logging.getLogger(__name__)

SAFETY_FILE = Path(__file__).with_name("safety.yml")
SAFETY = "safety"  # key of the parse output
EMERGENCY_INTENT = "report_emergency"
# Danger classes, in the order their help is given when a message fires several.
CLASSES = ("medical", "self_harm", "violence", "minor", "exploitation", "fire_danger")
# DIET said report_emergency but no word list fired: danger of an unknown kind.
GENERAL = "danger"
# Context groups: not danger themselves, but they change the help (care without papers).
CONTEXT_GROUPS = ("undocumented",)
# DIET's report_emergency confidence from which a message is danger without any word list.
CLASSIFIER_THRESHOLD = 0.5
LANGUAGE_KEYS = frozenset("it en fr ar es sq ro uk ru ur bn zh pa hi fa ps xx".split())
# Arabic-script words carry glued prefixes: و (and), ب (with), ل (for), ف (so), ال (the).
_ARABIC_PREFIXES = tuple(key(p) for p in ("وال", "بال", "فال", "لل", "ال", "و", "ب", "ل", "ف", "ک"))
FUZZY_MIN_LEN = 7
_FUZZY_SCRIPTS = ("latin", "cyrillic")


class SafetyLexiconError(ValueError):
    """``safety.yml`` is malformed; the message says where."""


@dataclass(frozen=True)
class Term:
    """One entry of a group: folded words, each exact or a stem (``*``)."""

    words: tuple[str, ...]
    stems: tuple[bool, ...]
    group: str
    text: str

    def word_matches(self, index: int, token: str) -> bool:
        word = self.words[index]
        return token.startswith(word) if self.stems[index] else token == word


@dataclass(frozen=True)
class Hit:
    """A term found in a message: token span [first, last) and what it was."""

    group: str
    first: int
    last: int
    text: str


@dataclass(frozen=True)
class Assessment:
    """What the safety layer made of one message."""

    classes: tuple[str, ...]
    groups: tuple[str, ...]
    undocumented: bool
    terms: tuple[str, ...]

    def as_dict(self, source: str) -> dict[str, Any]:
        """The ``safety`` field of the parse output."""
        return {
            "classes": list(self.classes),
            "undocumented": self.undocumented,
            "source": source,
            "terms": list(self.terms),
        }


@dataclass
class SafetyLexicon:
    """The compiled ``safety.yml``: term indexes and the class rules."""

    alone: dict[str, frozenset[str]] = field(default_factory=dict)
    together: dict[str, tuple[frozenset[str], ...]] = field(default_factory=dict)
    exact: dict[str, list[Term]] = field(default_factory=dict)
    prefix: dict[str, list[Term]] = field(default_factory=dict)
    han: list[Term] = field(default_factory=list)
    # One-typo indexes: whole words, and stems by their length (a stem is compared with the
    # message word cut to about its length).
    fuzzy: dict[str, list[Term]] = field(default_factory=dict)
    fuzzy_stems: dict[int, dict[str, list[Term]]] = field(default_factory=dict)
    excluded: dict[str, list[Term]] = field(default_factory=dict)
    excluded_prefix: dict[str, list[Term]] = field(default_factory=dict)
    excluded_han: list[Term] = field(default_factory=list)

    # ---------------------------------------------------------------- building

    @classmethod
    def from_yaml(cls, text: str, name: str = "safety.yml") -> SafetyLexicon:
        """Compile the YAML text; raise ``SafetyLexiconError`` naming what is wrong."""
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as error:
            raise SafetyLexiconError(f"{name}: not valid YAML: {error}") from error
        if not isinstance(data, dict):
            raise SafetyLexiconError(f"{name}: expected a mapping with groups and classes")
        groups = data.get("groups") or {}
        classes = data.get("classes") or {}
        if not isinstance(groups, dict) or not isinstance(classes, dict):
            raise SafetyLexiconError(f"{name}: 'groups' and 'classes' must be mappings")
        unknown = set(classes) - set(CLASSES)
        if unknown:
            raise SafetyLexiconError(f"{name}: unknown classes {sorted(unknown)}; use {CLASSES}")
        lexicon = cls()
        for group, by_language in groups.items():
            for term in _terms(name, str(group), by_language):
                lexicon._index(term, lexicon.exact, lexicon.prefix, lexicon.han, fuzzy=True)
        for class_name, rules in classes.items():
            rules = rules or {}
            alone = rules.get("alone") or []
            together = rules.get("together") or []
            for group in [*alone, *(g for rule in together for g in rule)]:
                if group not in groups:
                    raise SafetyLexiconError(
                        f"{name}: class {class_name!r} names group {group!r}, which is not defined"
                    )
            lexicon.alone[class_name] = frozenset(alone)
            lexicon.together[class_name] = tuple(frozenset(rule) for rule in together if rule)
        for term in _terms(name, "exclude", data.get("exclude") or {}):
            lexicon._index(term, lexicon.excluded, lexicon.excluded_prefix, lexicon.excluded_han)
        return lexicon

    def _index(
        self,
        term: Term,
        exact: dict[str, list[Term]],
        prefix: dict[str, list[Term]],
        han: list[Term],
        fuzzy: bool = False,
    ) -> None:
        if len(term.words) == 1 and any(script_of(ch) == "han" for ch in term.words[0]):
            han.append(term)
            return
        first = term.words[0]
        if term.stems[0]:
            prefix.setdefault(first[:3], []).append(term)
        else:
            exact.setdefault(first, []).append(term)
        if (
            fuzzy
            and len(term.words) == 1
            and len(first) >= FUZZY_MIN_LEN
            and script_of(first[0]) in _FUZZY_SCRIPTS
        ):
            table = self.fuzzy_stems.setdefault(len(first), {}) if term.stems[0] else self.fuzzy
            for variant in {first, *_deletions(first)}:
                table.setdefault(variant, []).append(term)

    # ---------------------------------------------------------------- matching

    def hits(self, text: str) -> list[Hit]:
        """Every term of every group in ``text``, idioms of ``exclude`` taken out."""
        clean = sanitize(text)
        tokens = [key(t.text) for t in tokenize(clean)]
        found = list(self._find(tokens, self.exact, self.prefix))
        found += self._fuzzy_hits(tokens, {h.first for h in found})
        folded = key(clean)
        found += [Hit(t.group, -1, -1, t.text) for t in self.han if t.words[0] in folded]
        idioms = list(self._find(tokens, self.excluded, self.excluded_prefix))
        idiom_han = [t.words[0] for t in self.excluded_han if t.words[0] in folded]
        return [
            hit
            for hit in found
            if not any(i.first <= hit.first and hit.last <= i.last for i in idioms)
            and not (hit.first < 0 and any(hit.text in idiom for idiom in idiom_han))
        ]

    def _find(
        self, tokens: list[str], exact: dict[str, list[Term]], prefix: dict[str, list[Term]]
    ) -> Iterator[Hit]:
        for start, token in enumerate(tokens):
            for form in _forms(token):
                for term in [*exact.get(form, ()), *prefix.get(form[:3], ())]:
                    if self._matches_at(term, tokens, start, form):
                        yield Hit(term.group, start, start + len(term.words), term.text)

    @staticmethod
    def _matches_at(term: Term, tokens: list[str], start: int, first_form: str) -> bool:
        if not term.word_matches(0, first_form):
            return False
        if start + len(term.words) > len(tokens):
            return False
        return all(
            any(term.word_matches(i, form) for form in _forms(tokens[start + i]))
            for i in range(1, len(term.words))
        )

    def _fuzzy_hits(self, tokens: list[str], taken: set[int]) -> list[Hit]:
        hits = []
        for position, token in enumerate(tokens):
            if (
                position in taken
                or len(token) < FUZZY_MIN_LEN
                or script_of(token[0]) not in _FUZZY_SCRIPTS
            ):
                continue
            probes = [(token, self.fuzzy)]
            for length, table in self.fuzzy_stems.items():
                probes += [(token[:n], table) for n in (length - 1, length, length + 1)]
            term = next(
                (
                    term
                    for probe, table in probes
                    for variant in (probe, *_deletions(probe))
                    for term in table.get(variant, ())
                    if _distance_le_one(probe, term.words[0])
                ),
                None,
            )
            if term is not None:
                hits.append(Hit(term.group, position, position + 1, term.text))
        return hits

    def assess(self, text: str) -> Assessment:
        """The danger classes ``text`` fires, and whether its writer says they have no papers."""
        hits = self.hits(text)
        groups = {hit.group for hit in hits}
        fired = tuple(
            name
            for name in CLASSES
            if groups & self.alone.get(name, frozenset())
            or any(rule <= groups for rule in self.together.get(name, ()))
        )
        return Assessment(
            classes=fired,
            groups=tuple(sorted(groups)),
            undocumented="undocumented" in groups,
            terms=tuple(sorted({hit.text for hit in hits})),
        )


def _terms(name: str, group: str, by_language: Any) -> Iterator[Term]:
    if not isinstance(by_language, dict):
        raise SafetyLexiconError(f"{name}: group {group!r} must map languages to word lists")
    for language, words in by_language.items():
        if str(language) not in LANGUAGE_KEYS:
            raise SafetyLexiconError(
                f"{name}: group {group!r} has unknown language {language!r}; "
                f"use one of {' '.join(sorted(LANGUAGE_KEYS))}"
            )
        if not isinstance(words, list):
            raise SafetyLexiconError(f"{name}: group {group!r}, {language}: expected a list")
        for raw in words:
            term = _term(str(raw), group)
            if term is None:
                raise SafetyLexiconError(
                    f"{name}: group {group!r}, {language}: {raw!r} has no letters, or a stem "
                    "shorter than 3 letters"
                )
            yield term


def _term(raw: str, group: str) -> Term | None:
    words, stems = [], []
    for part in raw.split():
        stem = part.endswith("*")
        folded = [key(t.text) for t in tokenize(part.rstrip("*"))]
        if not folded:
            continue
        # "l'ambulanza" or "sans-papiers" are several tokens, as in a message.
        words.extend(folded)
        stems.extend([False] * (len(folded) - 1) + [stem])
    if not words or any(s and len(w) < 3 for w, s in zip(words, stems, strict=True)):
        return None
    return Term(tuple(words), tuple(stems), group, raw)


def _forms(token: str) -> tuple[str, ...]:
    """A token and, in Arabic script, the token without a glued prefix."""
    if not token or script_of(token[0]) != "arabic":
        return (token,)
    forms = [token]
    for prefix in _ARABIC_PREFIXES:
        if token.startswith(prefix) and len(token) - len(prefix) >= 2:
            forms.append(token[len(prefix) :])
    return tuple(forms)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _distance_le_one(a: str, b: str) -> bool:
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    if len(a) > len(b):
        a, b = b, a
    return any(b[:i] + b[i + 1 :] == a for i in range(len(b)))


_lock = threading.Lock()
_shared: SafetyLexicon | None = None


def safety_lexicon() -> SafetyLexicon:
    """``safety.yml``, compiled once per process."""
    global _shared
    if _shared is None:
        with _lock:
            if _shared is None:
                _shared = SafetyLexicon.from_yaml(
                    SAFETY_FILE.read_text(encoding="utf-8"), SAFETY_FILE.name
                )
    return _shared


def classify(
    text: str, intent: dict[str, Any] | None, lexicon: SafetyLexicon | None = None
) -> dict[str, Any]:
    """The ``safety`` field for a message and its classifier intent (``classes`` empty: no danger).

    ``undocumented`` is reported whatever the danger: a person without papers who asks for a
    doctor must reach STP care, never the Questura (``actions/answers.py``).
    """
    assessment = (lexicon or safety_lexicon()).assess(text or "")
    if assessment.classes:
        return assessment.as_dict("lexicon")
    if (
        intent
        and intent.get("name") == EMERGENCY_INTENT
        and float(intent.get("confidence") or 0) >= CLASSIFIER_THRESHOLD
    ):
        return Assessment(
            (GENERAL,), assessment.groups, assessment.undocumented, assessment.terms
        ).as_dict("classifier")
    return assessment.as_dict("none")


def is_danger(verdict: dict[str, Any] | None) -> bool:
    """Whether a ``safety`` field says the message is danger."""
    return bool(verdict and verdict.get("classes"))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyClassifier(GraphComponent, IntentClassifier):
    """After DIET: danger makes the intent ``report_emergency``, whatever DIET chose."""

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Retrain (in seconds) when the word lists or the matcher change."""
        return safety_fingerprint()

    def __init__(self, lexicon: SafetyLexicon) -> None:
        self.lexicon = lexicon

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyClassifier:
        """The word lists are read at creation: a broken safety.yml fails training, not a turn."""
        return cls(safety_lexicon())

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SafetyClassifier:
        """Stateless: nothing is stored in the model."""
        return cls.create(config, model_storage, resource, execution_context)

    def process(self, messages: list[Message]) -> list[Message]:
        """Set ``safety`` on every message; danger overrides the intent."""
        for message in messages:
            intent = message.get(INTENT)
            verdict = classify(message.get(TEXT) or "", intent, self.lexicon)
            message.set(SAFETY, verdict, add_to_output=True)
            if not is_danger(verdict):
                continue
            ranking = [
                item
                for item in message.get(INTENT_RANKING_KEY) or []
                if item.get("name") != EMERGENCY_INTENT
            ]
            top = {"name": EMERGENCY_INTENT, "confidence": 1.0}
            message.set(INTENT, top, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [top, *ranking], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing to learn: the word lists are curated."""
        return training_data
