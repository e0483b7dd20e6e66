from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher


def tracker(
    text: str = "",
    intent: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    ranking: list[dict[str, Any]] | None = None,
    confidence: float = 0.9,
    safety: dict[str, Any] | None = None,
    **slots: Any,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "intent_ranking": ranking or [],
        "safety": safety,
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
