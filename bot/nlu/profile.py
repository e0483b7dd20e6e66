"""What the project's own training data says about languages: a character n-gram profile.

lid.176 learnt its languages from Wikipedia and the web; people here write "permesso scaduto
cosa fare", "keshille ligjore pa pagese", "clases de italiano gratis". The training examples of
``data/nlu`` are written like that and each block says its language (``metadata: {lang: ..}``),
so a multinomial naive Bayes over their character 1–4-grams (n-grams as scikit-learn's
``char_wb`` analyzer cuts them) knows the words of this domain in every supported language.
``bot.nlu.language`` adds its verdict to fastText's and the word lists' for Latin- and
Arabic-script messages.

The profile is trained with the NLU model (``LanguageDetector.train``) and stored in it as
JSON: counts, no pickled code.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.nlu.text import sanitize
from bot.settings import PROJECT_ROOT
from bot.territory import fold

DATA_DIR = PROJECT_ROOT / "data"
NGRAMS = (1, 4)
# Additive smoothing of the n-gram counts. `bot eval language --folds 5` on the training data
# (2026-12-06, profile weight 0.5): 55 errors in 5,730 short messages at 0.1, 53 at 0.5.
ALPHA = 0.5
# A message's language shows in its first few hundred characters. Reading no more, the profile
# adds 2–4 ms to a 2,000-character message (sanitize()'s cap) instead of 9–12 ms.
MAX_CHARS = 400


def lang_of(message: Any) -> str | None:
    """The language a training block's ``metadata: {lang: ...}`` gives its examples, if any."""
    metadata = message.get("metadata") or {}
    intent_meta = metadata.get("intent") if isinstance(metadata, dict) else None
    lang = (intent_meta or {}).get("lang") if isinstance(intent_meta, dict) else None
    return str(lang) if lang else None


def labelled_examples(training_data: Any) -> list[tuple[str, str]]:
    """``(text, language)`` of every example whose block names its language."""
    pairs = []
    for message in training_data.intent_examples:
        lang, text = lang_of(message), message.get("text")
        if lang and text:
            pairs.append((text, lang))
    return pairs


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(analyzer="char_wb", ngram_range=NGRAMS).build_analyzer()


def _ngrams(text: str) -> list[str]:
    return _analyzer()(" ".join(fold(sanitize(text)[:MAX_CHARS]).split()))


class LanguageProfile:
    """Multinomial naive Bayes over character n-grams, one class per language."""

    def __init__(self, docs: dict[str, int], counts: dict[str, dict[str, int]]) -> None:
        """``docs``: examples per language; ``counts``: n-gram counts per language."""
        self.docs = docs
        self.counts = counts
        vocabulary = set().union(*counts.values()) if counts else set()
        self._vocabulary = frozenset(vocabulary)
        total_docs = sum(docs.values()) or 1
        self._log_prior = {lang: math.log(n / total_docs) for lang, n in docs.items() if n}
        self._denominator = {
            lang: math.log(sum(grams.values()) + ALPHA * len(vocabulary))
            for lang, grams in counts.items()
        }

    @classmethod
    def fit(cls, pairs: Iterable[tuple[str, str]]) -> LanguageProfile:
        """Count the n-grams of ``(text, language)`` pairs."""
        docs: Counter[str] = Counter()
        counts: dict[str, Counter[str]] = {}
        for text, lang in pairs:
            docs[lang] += 1
            counts.setdefault(lang, Counter()).update(_ngrams(text))
        return cls(dict(docs), {lang: dict(c) for lang, c in counts.items()})

    @classmethod
    def from_training_data(cls, training_data: Any, languages: Iterable[str]) -> LanguageProfile:
        """Fit on the examples of ``training_data`` whose block names one of ``languages``."""
        wanted = set(languages)
        return cls.fit(pair for pair in labelled_examples(training_data) if pair[1] in wanted)

    def __bool__(self) -> bool:
        return bool(self._log_prior)

    def log_shares(self, text: str, candidates: Iterable[str]) -> dict[str, float]:
        """Log P(language | text), normalised over ``candidates`` (unknown n-grams ignored)."""
        grams = [g for g in _ngrams(text) if g in self._vocabulary]
        scores = {}
        for lang in candidates:
            if lang not in self._log_prior:
                continue
            counts = self.counts[lang]
            denominator = self._denominator[lang]
            scores[lang] = self._log_prior[lang] + sum(
                math.log(counts.get(g, 0) + ALPHA) - denominator for g in grams
            )
        if not scores:
            return {}
        top = max(scores.values())
        log_total = top + math.log(sum(math.exp(s - top) for s in scores.values()))
        return {lang: s - log_total for lang, s in scores.items()}

    def to_json(self) -> str:
        """The counts, as stored in the trained model."""
        return json.dumps({"docs": self.docs, "counts": self.counts}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> LanguageProfile:
        """Read what ``to_json`` wrote."""
        data = json.loads(text)
        return cls(data["docs"], data["counts"])


@lru_cache(maxsize=4)
def profile_from_data(path: Path = DATA_DIR) -> LanguageProfile:
    """The profile of the NLU examples under ``path``, as training would build it (cached)."""
    from bot.nlu.data import load_nlu_data
    from bot.nlu.language import SUPPORTED

    return LanguageProfile.from_training_data(load_nlu_data(path), SUPPORTED)
