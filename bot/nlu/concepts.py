"""Cross-lingual concept features for the intent classifier.

Each language has only a handful of training examples per intent, so DIET cannot learn from
Arabic examples alone that "وين" asks for a place. This featurizer adds one feature per concept
— every office kind and service of the gazetteer, a town, an explicit language request, and the
concepts of ``lexicon.yml`` (hours, location, documents, greet, thank, emergency...) — that fires
whatever language or script the concept is written in. Words the classifier has never seen in
one language then still point at the intent it learnt from the others.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse
import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.explicit import explicit_language
from bot.nlu.fingerprint import SourcesFingerprint
from bot.nlu.gazetteer import CITY, Entry, Gazetteer, find
from bot.nlu.lexicon import LEXICON_FILE

_lock = threading.Lock()
_concepts: Gazetteer | None = None


@lru_cache(maxsize=1)
def concept_names() -> tuple[str, ...]:
    """Feature names, in a fixed order derived from lexicon.yml."""
    lex = yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8"))
    names = [CITY, "language_request"]
    names += [f"office:{k}" for k in lex["offices"]]
    names += [f"service:{k}" for k in lex["services"]]
    names += [f"concept:{k}" for k in lex["concepts"]]
    return tuple(names)


def _concept_gazetteer() -> Gazetteer:
    global _concepts
    if _concepts is None:
        with _lock:
            if _concepts is None:
                lex = yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8"))
                gaz = Gazetteer()
                for name, words in lex["concepts"].items():
                    for word in words:
                        gaz.add(str(word), Entry("concept", f"concept:{name}"))
                _concepts = gaz
    return _concepts


def concept_spans(text: str) -> list[tuple[str, int, int]]:
    """(concept name, start, end) of every concept in ``text``."""
    spans = []
    for match in find(text):
        name = CITY if match.entry.entity == CITY else f"{match.entry.entity}:{match.entry.value}"
        spans.append((name, match.start, match.end))
    for match in find(text, _concept_gazetteer()):
        spans.append((match.entry.value, match.start, match.end))
    mention = explicit_language(text)
    if mention is not None:
        spans.append(("language_request", mention.start, mention.end))
    return spans


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class ConceptFeaturizer(SourcesFingerprint, SparseFeaturizer, GraphComponent):
    """Sparse sequence and sentence features: which concepts each token and message hold."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Only the featurizer alias, like every Rasa featurizer."""
        return {**SparseFeaturizer.get_default_config()}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to configure."""

    def __init__(self, config: dict[str, Any], name: str) -> None:
        SparseFeaturizer.__init__(self, name, config)
        self._index = {name: i for i, name in enumerate(concept_names())}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ConceptFeaturizer:
        """Stateless: the concepts come from lexicon.yml, which is a model input."""
        return cls(config, execution_context.node_name)

    def _featurize(self, message: Message) -> None:
        text = message.get(TEXT)
        tokens = message.get(TOKENS_NAMES[TEXT])
        if not text or not tokens:
            return
        width = len(self._index)
        sequence = np.zeros((len(tokens), width))
        sentence = np.zeros((1, width))
        for name, start, end in concept_spans(text):
            column = self._index.get(name)
            if column is None:
                continue
            sentence[0, column] = 1.0
            for row, token in enumerate(tokens):
                if token.start < end and token.end > start:
                    sequence[row, column] = 1.0
        self.add_features_to_message(
            scipy.sparse.coo_matrix(sequence), scipy.sparse.coo_matrix(sentence), TEXT, message
        )

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurize incoming messages."""
        for message in messages:
            self._featurize(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize the training examples the same way."""
        for message in training_data.training_examples:
            self._featurize(message)
        return training_data
