"""Keeps the conversation's language sticky.

The NLU component labels each message on its own; this action (a custom slot mapping run by
Rasa's ``action_extract_slots`` after every message) decides whether that label becomes the
conversation's language:

- an explicit request ("write in English", a ``language`` entity) always switches;
- a message that says nothing about its language — ``too_short`` ("ok", "grazie", a town),
  ``no_letters`` ("3", "👍"), ``romanized``, ``unsupported`` or ``mixed`` — never switches, but
  its guess (or the channel's hint) seeds a conversation that has no language yet; romanized text
  with nothing better falls back to English, which more of those writers read than Italian;
- anything else switches when the detector is at least ``LANGUAGE_SWITCH_CONFIDENCE`` sure.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.constants import (
    DEFAULT_LANGUAGE,
    LANGUAGE_SWITCH_CONFIDENCE,
    ROMANIZED_FALLBACK_LANGUAGE,
    SLOT_LANGUAGE,
    SUPPORTED_LANGUAGES,
    WEAK_LANGUAGE_SOURCES,
)


def _explicit_entity(entities: list[dict[str, Any]] | None) -> str | None:
    for entity in entities or []:
        if entity.get("entity") == "language" and entity.get("value") in SUPPORTED_LANGUAGES:
            return str(entity["value"])
    return None


def choose_language(
    current: str | None,
    detected: dict[str, Any] | None,
    entities: list[dict[str, Any]] | None = None,
) -> str:
    """Return the conversation's language after a message whose detection is ``detected``."""
    detected = detected or {}
    code = detected.get("code")
    code = code if code in SUPPORTED_LANGUAGES else None
    source = detected.get("source")
    confidence = float(detected.get("confidence") or 0.0)
    requested = _explicit_entity(entities)
    if source == "explicit" and code:
        return str(code)
    if requested:
        return requested
    if source in WEAK_LANGUAGE_SOURCES:
        if current:
            return current
        if code:
            return str(code)
        return ROMANIZED_FALLBACK_LANGUAGE if source == "romanized" else DEFAULT_LANGUAGE
    if code and (current is None or confidence >= LANGUAGE_SWITCH_CONFIDENCE):
        return str(code)
    return current or DEFAULT_LANGUAGE


class ActionSetLanguage(Action):
    """Custom slot mapping for ``language``."""

    def name(self) -> str:
        """Name the domain's custom slot mapping refers to."""
        return "action_set_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Set the slot only when the language changes (no event otherwise)."""
        current = tracker.get_slot(SLOT_LANGUAGE)
        latest = tracker.latest_message or {}
        language = choose_language(current, latest.get("language"), latest.get("entities"))
        return [] if language == current else [SlotSet(SLOT_LANGUAGE, language)]
