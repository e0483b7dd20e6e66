from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.kb.db import make_engine
from bot.kb.load import load
from bot.kb.queries import KnowledgeBase
from bot.settings import PROJECT_ROOT


@pytest.fixture(scope="session")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The shipped knowledge, loaded into a SQLite file in a temporary folder."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('kb') / 'kb.db'}")
    result = load(PROJECT_ROOT / "knowledge", engine)
    assert not result.problems, result.problems
    return KnowledgeBase(engine, refresh_seconds=None)


def tracker(
    text: str = "",
    intent: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    ranking: list[dict[str, Any]] | None = None,
    **slots: Any,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
        "intent_ranking": ranking or [],
    }
    return Tracker("person", slots, latest, [], False, None, {}, "action_listen")


def city(name: str) -> list[dict[str, Any]]:
    return [{"entity": "city", "value": name}]


def cards(dispatcher: CollectingDispatcher) -> str:
    """Everything composed into utter_answer_card messages, as one text."""
    return "\n".join(
        m["card"] for m in dispatcher.messages if m.get("response") == "utter_answer_card"
    )


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [m.get("response") for m in dispatcher.messages]
