"""Keeps the conversation's language sticky.

The NLU component labels each message on its own; this action (a custom slot mapping run by
Rasa's ``action_extract_slots`` after every message) decides whether that label becomes the
conversation's language. A message fastText is unsure of, or one with nothing to go on ("ok",
"👍", "3"), leaves the language as it was.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.constants import DEFAULT_LANGUAGE, LANGUAGE_SWITCH_CONFIDENCE, SLOT_LANGUAGE


def choose_language(current: str | None, detected: dict[str, Any] | None) -> str:
    """The conversation's language after a message whose detection is ``detected``."""
    detected = detected or {}
    code = detected.get("code")
    confidence = float(detected.get("confidence") or 0.0)
    if code and (current is None or confidence >= LANGUAGE_SWITCH_CONFIDENCE):
        return str(code)
    return current or DEFAULT_LANGUAGE


class ActionSetLanguage(Action):
    """Custom slot mapping for ``language``."""

    def name(self) -> str:
        return "action_set_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        current = tracker.get_slot(SLOT_LANGUAGE)
        language = choose_language(current, tracker.latest_message.get("language"))
        return [] if language == current else [SlotSet(SLOT_LANGUAGE, language)]
