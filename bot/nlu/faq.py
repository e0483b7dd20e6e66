"""Which curated FAQ question a message asks, long or short, in any of the languages.

People do not ask "where is the Questura"; they ask whether the post-office receipt lets them
travel, or what to do when a citizenship application has been pending for three years, often
inside a long story. ``knowledge/faq/<service>.yml`` holds such questions with curated answers and
the ways people ask them (``variants``, per language). This component learns them with the model
and adds ``faq: {id, service, score, ranking}`` to every parse, best first; the dialogue decides
what score is enough (``actions/``).

How it matches (chosen on the development half of the real questions, ``bot eval faq``):
- documents are every entry's question in each language, its variants and, weighed down, its
  answer (the answer holds the specific words a long question uses: "diffida", "cedolino");
- texts are folded (case, accents, Arabic keyboard variants) and the towns are taken out: a town
  says where, never what is asked;
- features are TF-IDF character n-grams (misspellings, unspaced Chinese, words glued to Italian
  terms) beside word uni- and bigrams; a message is compared with every document by cosine
  similarity and an entry scores the mean of its ``TOP_DOCUMENTS`` best documents (one close
  document is often a story that happens to share the message's words; three are a topic);
- in a long message the sentences that ask (a question mark, or the last sentence) weigh as much
  as the whole story around them.

On the development half (35 questions an entry answers, after the variants of 2026-12-07), the
mean of the three best documents put the right entry first for 43 % (top-3: 63 %), against 34 %
for the single best document; a linear SVM on the same features reached 40 % (69 %) but weighs
about 380 MB; an elastic-net SGD classifier 34 % (57 %). ``bot eval faq`` has the current figures.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.fingerprint import FAQ_DIR, faq_fingerprint
from bot.nlu.gazetteer import CITY, find
from bot.nlu.text import key, sanitize

logger = logging.getLogger(__name__)

FAQ = "faq"  # key of the parse output
RANKING_SIZE = 10
# An answer is a longer, other-voiced text than a question: it counts, but less.
ANSWER_WEIGHT = 0.8
# Weight of the asking sentences against the whole message, when they differ.
QUESTION_PART_WEIGHT = 0.5
# An entry scores the mean of this many of its best documents.
TOP_DOCUMENTS = 3
# The whole-message pass reads this much (the asking sentences are read wherever they are): on
# the development half 600 characters kept top-1 where 1,500 had it, at a third of the cost.
MAX_CHARS = 600
_SENTENCE_END = re.compile(r"(?<=[.!?;？！。؟])\s+|\n+")
_ASKS = ("?", "？", "؟")


@dataclass(frozen=True)
class Document:
    """One text an entry is matched by."""

    entry: str
    text: str
    weight: float


def read_documents(folder: Path = FAQ_DIR) -> tuple[list[Document], dict[str, str]]:
    """Every entry's questions, variants and answers, and each entry's service.

    The files are checked by ``bot kb validate``; here a malformed entry is skipped with a
    warning rather than failing training, so the rest of the FAQ still works.
    """
    documents: list[Document] = []
    services: dict[str, str] = {}
    for path in sorted(folder.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in data.get("faq") or []:
            try:
                entry_id = str(entry["id"])
                questions = dict(entry["question"])
                variants = dict(entry.get("variants") or {})
                answers = dict(entry.get("answer") or {})
            except (KeyError, TypeError, ValueError):
                logger.warning("%s: skipping a malformed FAQ entry (run 'bot kb validate')", path)
                continue
            services[entry_id] = str(entry.get("service") or path.stem)
            texts = [*questions.values(), *(v for vs in variants.values() for v in vs or [])]
            documents += [Document(entry_id, str(t), 1.0) for t in texts if t]
            documents += [Document(entry_id, str(t), ANSWER_WEIGHT) for t in answers.values() if t]
    return documents, services


def normalise(text: str) -> str:
    """Folded text without towns, cut to a length that says all a question says."""
    clean = sanitize(text)[:MAX_CHARS]
    spans = [(m.start, m.end) for m in find(clean) if m.entry.entity == CITY]
    for start, end in sorted(spans, reverse=True):
        clean = clean[:start] + " " + clean[end:]
    return key(clean)


def asking_part(text: str) -> str:
    """The sentences that ask: those with a question mark, else the last sentence."""
    sentences = [s.strip() for s in _SENTENCE_END.split(sanitize(text)) if s.strip()]
    if len(sentences) <= 1:
        return ""
    asking = [s for s in sentences if s.endswith(_ASKS) or any(m in s for m in _ASKS)]
    return " ".join(asking or sentences[-1:])


class FaqIndex:
    """TF-IDF over the FAQ documents; ``rank`` scores every entry for a message."""

    def __init__(
        self,
        entries: list[str],
        services: dict[str, str],
        starts: np.ndarray,
        doc_weight: np.ndarray,
        vectorizers: tuple[Any, Any],
        matrix: Any,
    ) -> None:
        self.entries = entries
        self.services = services
        self.starts = starts  # index of each entry's first document
        self.doc_weight = doc_weight
        self.vectorizers = vectorizers
        self.matrix = matrix

    @classmethod
    def build(cls, documents: list[Document], services: dict[str, str]) -> FaqIndex:
        """Fit the vectorizers on the documents."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        # Each entry's documents side by side, so an entry's best is one reduceat.
        entries = list(dict.fromkeys(d.entry for d in documents))
        position = {e: i for i, e in enumerate(entries)}
        documents = sorted(documents, key=lambda d: position[d.entry])
        texts = [normalise(d.text) for d in documents]
        chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1, dtype=np.float32
        )
        words = TfidfVectorizer(
            analyzer="word",
            ngram_range=(1, 2),
            sublinear_tf=True,
            token_pattern=r"(?u)\b\w+\b",
            min_df=1,
            dtype=np.float32,
        )
        chars.fit(texts)
        words.fit(texts)
        doc_entry = np.array([position[d.entry] for d in documents], dtype=np.int32)
        index = cls(
            entries,
            services,
            np.flatnonzero(np.r_[True, doc_entry[1:] != doc_entry[:-1]]),
            np.array([d.weight for d in documents], dtype=np.float32),
            (chars, words),
            None,
        )
        # Stored transposed: a message's row times this is one sparse product.
        index.matrix = index._vectors(texts).T.tocsr()
        return index

    def _vectors(self, texts: list[str]) -> Any:
        import scipy.sparse
        from sklearn.preprocessing import normalize

        chars, words = self.vectorizers
        return normalize(
            scipy.sparse.hstack([chars.transform(texts), words.transform(texts)]).tocsr()
        )

    def _grid(self) -> np.ndarray:
        """Document indexes per entry, one row each, padded with -1 (built once, cached)."""
        grid = getattr(self, "_grid_cache", None)
        if grid is None:
            ends = [*self.starts[1:], len(self.doc_weight)]
            width = max(int(end - start) for start, end in zip(self.starts, ends, strict=True))
            grid = np.full((len(self.entries), width), -1, dtype=np.int64)
            for row, (start, end) in enumerate(zip(self.starts, ends, strict=True)):
                grid[row, : end - start] = np.arange(start, end)
            self._grid_cache = grid
        return grid

    def _entry_scores(self, text: str) -> np.ndarray:
        sims = (self._vectors([normalise(text)]) @ self.matrix).toarray().ravel()
        sims = np.append(sims * self.doc_weight, -1.0).astype(np.float32)  # [-1]: padding
        grid = self._grid()
        k = min(TOP_DOCUMENTS, grid.shape[1])
        best = -np.partition(-sims[grid], k - 1, axis=1)[:, :k]
        counts = np.minimum((grid >= 0).sum(axis=1), k)
        return np.where(best >= 0, best, 0).sum(axis=1) / counts

    def rank(self, text: str, size: int = RANKING_SIZE) -> list[tuple[str, float]]:
        """The ``size`` best entries for ``text`` with their scores (0..1), best first."""
        if not self.entries or not (text or "").strip():
            return []
        scores = self._entry_scores(text)
        part = asking_part(text)
        if part:
            scores = (1 - QUESTION_PART_WEIGHT) * scores + QUESTION_PART_WEIGHT * (
                self._entry_scores(part)
            )
        best = np.argsort(-scores, kind="stable")[:size]
        return [(self.entries[i], round(float(scores[i]), 4)) for i in best if scores[i] > 0]

    def result(self, text: str) -> dict[str, Any] | None:
        """The ``faq`` field of a parse."""
        ranking = self.rank(text)
        if not ranking:
            return None
        top, score = ranking[0]
        return {
            "id": top,
            "service": self.services.get(top),
            "score": score,
            "ranking": [{"id": e, "service": self.services.get(e), "score": s} for e, s in ranking],
        }


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class FaqRetriever(GraphComponent):
    """Adds ``faq`` (the closest curated questions) to every parse."""

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Retrain (in seconds) when an FAQ file or the retriever changes."""
        return faq_fingerprint()

    INDEX_FILE = "faq_index.joblib"

    def __init__(
        self, model_storage: ModelStorage, resource: Resource, index: FaqIndex | None = None
    ) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self.index = index

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FaqRetriever:
        """An empty retriever, until trained."""
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Index knowledge/faq (the FAQ files are model inputs, not Rasa training data)."""
        import joblib

        documents, services = read_documents()
        self.index = FaqIndex.build(documents, services)
        with self._model_storage.write_to(self._resource) as model_dir:
            joblib.dump(self.index, model_dir / self.INDEX_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> FaqRetriever:
        """The retriever with the index stored at training."""
        import joblib

        try:
            with model_storage.read_from(resource) as model_dir:
                return cls(model_storage, resource, joblib.load(model_dir / cls.INDEX_FILE))
        except (ValueError, OSError) as error:
            logger.warning("FAQ index missing from the model (%s): no FAQ answers", error)
            return cls(model_storage, resource)

    def process(self, messages: list[Message]) -> list[Message]:
        """Rank the FAQ entries for each message."""
        for message in messages:
            result = self.index.result(message.get(TEXT) or "") if self.index else None
            message.set(FAQ, result, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing to add to the training examples."""
        return training_data
