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


def web_conversation(sender: str, *turns: tuple[str, str, str, str | None, str | None]) -> Tracker:
    """What Rasa sends the action server after a web chat conversation of mediator requests.

    Each turn is (text, detected language, its source, the ``language`` slot after the
    message, the bot's reply or None); the detector is sure of every message (0.97, above
    LANGUAGE_SWITCH_CONFIDENCE: the slot may follow it).
    """
    events: list[dict[str, Any]] = []
    latest: dict[str, Any] = {}
    slot = None
    for text, code, source, after, reply in turns:
        latest = {
            "text": text,
            "intent": {"name": "request_mediator", "confidence": 0.9},
            "entities": [],
            "language": {"code": code, "confidence": 0.97, "source": source},
        }
        events.append(
            {"event": "user", "text": text, "parse_data": latest, "input_channel": "webchat"}
        )
        if after != slot:
            events.append({"event": "slot", "name": "language", "value": after})
            slot = after
        if reply:
            events.append({"event": "bot", "text": reply})
    return Tracker(sender, {"language": slot}, latest, events, False, None, {}, "action_listen")
