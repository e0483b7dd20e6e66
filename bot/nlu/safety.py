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

Two learned nets catch what the word lists miss, as the general ``danger`` class: a binary
danger classifier trained with the model (``DangerModel``: every ``report_emergency`` example of
``data/nlu/`` against every other example, character and word n-grams, a threshold chosen for
recall on the development half of the safety set), and DIET's own ``report_emergency``. All of
it together is what ``bot eval safety`` measures.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.escalation import (
    DANGER_CLASSIFIER_CONFIDENCE,
    DANGER_MODEL_PROBABILITY,
    DANGER_MODEL_SUPPORT,
)
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
# DIET's report_emergency confidence, the danger model's probability from which a message is
# danger without any word list, and the support DIET needs from the danger model: part of the
# escalation policy (bot/escalation.py).
CLASSIFIER_THRESHOLD = DANGER_CLASSIFIER_CONFIDENCE
DANGER_THRESHOLD = DANGER_MODEL_PROBABILITY
DIET_SUPPORT = DANGER_MODEL_SUPPORT
# The FallbackClassifier's threshold in config.yml (a test checks they agree): a message whose
# report_emergency is overruled here falls back to DIET's next intent only if that one is as
# sure as the fallback would demand, else to "not understood".
FALLBACK_THRESHOLD = 0.4
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

    def as_dict(self, source: str, sure: bool | None = None) -> dict[str, Any]:
        """The ``safety`` field of the parse output.

        ``sure``: the word lists matched, or both classifiers agree. One classifier alone is
        not sure: on 2026-12-07 it caught real dangers the other missed (a forced marriage, a
        fire; safety dev set) but also read ordinary stories as danger ("the landlord is
        sending me away, I need a house urgently"). The dialogue still gives the numbers first,
        and offers the question it may have been beside them (``actions/conversation.py``).
        """
        return {
            "classes": list(self.classes),
            "undocumented": self.undocumented,
            "source": source,
            "sure": bool(self.classes) if sure is None else sure,
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
    # One-typo index of whole words (never stems: a stem already admits every ending, and one
    # typo more turns "sanguin*" into "sanguigno", "svenut*" into "venuto").
    fuzzy: dict[str, list[Term]] = field(default_factory=dict)
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
            and not term.stems[0]
            and len(first) >= FUZZY_MIN_LEN
            and script_of(first[0]) in _FUZZY_SCRIPTS
        ):
            for variant in {first, *_deletions(first)}:
                self.fuzzy.setdefault(variant, []).append(term)

    # ---------------------------------------------------------------- matching

    def hits(self, text: str) -> list[Hit]:
        """Every term of every group in ``text``, idioms of ``exclude`` taken out."""
        clean = sanitize(text)
        tokens = [_key(t.text) for t in tokenize(clean)]
        found = list(self._find(tokens, self.exact, self.prefix))
        found += self._fuzzy_hits(tokens, {h.first for h in found})
        folded = _key(clean)
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
            term = next(
                (
                    term
                    for variant in (token, *_deletions(token))
                    for term in self.fuzzy.get(variant, ())
                    if _distance_le_one(token, term.words[0])
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
        folded = [_key(t.text) for t in tokenize(part.rstrip("*"))]
        if not folded:
            continue
        # "l'ambulanza" or "sans-papiers" are several tokens, as in a message.
        words.extend(folded)
        stems.extend([False] * (len(folded) - 1) + [stem])
    if not words or any(s and len(w) < 3 for w, s in zip(words, stems, strict=True)):
        return None
    return Term(tuple(words), tuple(stems), group, raw)


def _key(text: str) -> str:
    """Lookup key; Persian words match with or without their zero-width non-joiner."""
    return key(text).replace("\u200c", "")


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
    text: str,
    intent: dict[str, Any] | None,
    lexicon: SafetyLexicon | None = None,
    danger_probability: float | None = None,
) -> dict[str, Any]:
    """The ``safety`` field for a message (``classes`` empty: no danger).

    ``intent`` is DIET's, ``danger_probability`` the danger model's. ``undocumented`` is
    reported whatever the danger: a person without papers who asks for a doctor must reach STP
    care, never the Questura (``actions/answers.py``).
    """
    assessment = (lexicon or safety_lexicon()).assess(text or "")
    if assessment.classes:
        return assessment.as_dict("lexicon")
    diet = bool(
        intent
        and intent.get("name") == EMERGENCY_INTENT
        and float(intent.get("confidence") or 0) >= CLASSIFIER_THRESHOLD
    )
    if _unsupported(intent, danger_probability):
        diet = False
    model = danger_probability is not None and danger_probability >= DANGER_THRESHOLD
    if diet or model:
        return Assessment(
            (GENERAL,), assessment.groups, assessment.undocumented, assessment.terms
        ).as_dict("classifier" if diet else "danger_model", sure=diet and model)
    return assessment.as_dict("none")


class DangerModel:
    """Does a message read as danger at all? A binary classifier learnt with the model.

    Positives are the ``report_emergency`` examples, negatives every other example: the
    examples of 27 intents in 21 language varieties say what ordinary messages look like far
    better than any list of exceptions. Character n-grams carry misspellings and unspaced
    scripts, words carry the rest; a logistic regression gives a probability whose threshold
    (``DANGER_THRESHOLD``) is set for recall.
    """

    def __init__(self, vectorizers: tuple[Any, Any], classifier: Any) -> None:
        self.vectorizers = vectorizers
        self.classifier = classifier

    @staticmethod
    def _normalise(text: str) -> str:
        return _key(sanitize(text))

    @classmethod
    def fit(cls, texts: list[str], labels: list[int]) -> DangerModel:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        clean = [cls._normalise(t) for t in texts]
        chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, dtype=np.float32
        )
        words = TfidfVectorizer(
            analyzer="word",
            ngram_range=(1, 2),
            sublinear_tf=True,
            token_pattern=r"(?u)\b\w+\b",
            min_df=1,
            dtype=np.float32,
        )
        model = cls((chars, words), None)
        chars.fit(clean)
        words.fit(clean)
        model.classifier = LogisticRegression(
            C=10.0, class_weight="balanced", max_iter=2000, solver="liblinear", random_state=42
        )
        model.classifier.fit(model._features(clean), labels)
        return model

    def _features(self, clean: list[str]) -> Any:
        import scipy.sparse

        return scipy.sparse.hstack([v.transform(clean) for v in self.vectorizers]).tocsr()

    def probability(self, text: str) -> float:
        """P(danger) for one message."""
        features = self._features([self._normalise(text)])
        return float(self.classifier.predict_proba(features)[0, 1])


def is_danger(verdict: dict[str, Any] | None) -> bool:
    """Whether a ``safety`` field says the message is danger."""
    return bool(verdict and verdict.get("classes"))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class SafetyClassifier(GraphComponent, IntentClassifier):
    """After DIET: danger makes the intent ``report_emergency``, whatever DIET chose."""

    MODEL_FILE = "danger_model.joblib"

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Retrain (in seconds) when the word lists or the matcher change."""
        return safety_fingerprint()

    def __init__(
        self,
        lexicon: SafetyLexicon,
        model_storage: ModelStorage,
        resource: Resource,
        danger_model: DangerModel | None = None,
    ) -> None:
        self.lexicon = lexicon
        self._model_storage = model_storage
        self._resource = resource
        self.danger_model = danger_model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyClassifier:
        """The word lists are read at creation: a broken safety.yml fails training, not a turn."""
        return cls(safety_lexicon(), model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Learn the danger model from the intent examples (report_emergency or not)."""
        import joblib

        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        self.danger_model = DangerModel.fit(
            [m.get(TEXT) for m in examples],
            [int(m.get(INTENT) == EMERGENCY_INTENT) for m in examples],
        )
        with self._model_storage.write_to(self._resource) as model_dir:
            joblib.dump(self.danger_model, model_dir / self.MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SafetyClassifier:
        """The word lists, and the danger model stored at training."""
        import joblib

        try:
            with model_storage.read_from(resource) as model_dir:
                model = joblib.load(model_dir / cls.MODEL_FILE)
        except (ValueError, OSError) as error:
            logger.warning("danger model missing from the model (%s): word lists only", error)
            model = None
        return cls(safety_lexicon(), model_storage, resource, model)

    def process(self, messages: list[Message]) -> list[Message]:
        """Set ``safety`` on every message; danger overrides the intent.

        The component runs after the ``FallbackClassifier`` (``config.yml``): danger overrides
        "not understood" too. Placed before it, a danger message that DIET read as another intent
        with 0.95 became ``nlu_fallback`` (1.0 against 0.95 is "ambiguous"), and the person got
        a residence-permit procedure instead of the emergency numbers.
        """
        for message in messages:
            ranking = [
                item
                for item in message.get(INTENT_RANKING_KEY) or []
                if item.get("name") != DEFAULT_NLU_FALLBACK_INTENT_NAME
            ]
            diet = ranking[0] if ranking else message.get(INTENT)
            text = message.get(TEXT) or ""
            probability = self.danger_model.probability(text) if self.danger_model else None
            verdict = classify(text, diet, self.lexicon, probability)
            message.set(SAFETY, verdict, add_to_output=True)
            if not is_danger(verdict):
                if (message.get(INTENT) or {}).get("name") == EMERGENCY_INTENT and _unsupported(
                    diet, probability
                ):
                    _overrule_emergency(message, ranking)
                continue
            ranking = [item for item in ranking if item.get("name") != EMERGENCY_INTENT]
            top = {"name": EMERGENCY_INTENT, "confidence": 1.0}
            message.set(INTENT, top, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [top, *ranking], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples need no safety verdict."""
        return training_data


def _unsupported(diet: dict[str, Any] | None, danger_probability: float | None) -> bool:
    """DIET is sure of report_emergency but the danger model all but rules it out."""
    return bool(
        diet
        and diet.get("name") == EMERGENCY_INTENT
        and float(diet.get("confidence") or 0) >= CLASSIFIER_THRESHOLD
        and danger_probability is not None
        and danger_probability < DIET_SUPPORT
    )


def _overrule_emergency(message: Message, ranking: list[dict[str, Any]]) -> None:
    """DIET said report_emergency but the safety layer found no danger: DIET's next intent.

    Without this the dialogue would run the emergency route on DIET's word alone, which is what
    the rule in :func:`classify` refuses. The next intent must clear the fallback's threshold,
    as it would have had to were it first; otherwise the message is "not understood".
    """
    rest = [item for item in ranking if item.get("name") != EMERGENCY_INTENT]
    if rest and float(rest[0].get("confidence") or 0) >= FALLBACK_THRESHOLD:
        top = rest[0]
    else:
        top = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": FALLBACK_THRESHOLD}
    message.set(INTENT, top, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [top, *[r for r in rest if r is not top]], add_to_output=True)
