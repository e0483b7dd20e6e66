"""What one turn of a conversation means, read from the Rasa events it produced.

A turn is the person's message (a ``user`` event) and what the assistant did until it listened
again: actions run, slots set, responses uttered. Everything recorded is derived from what the
assistant already decided, nothing is guessed again:

- channel: the user event's ``input_channel``; language: the ``language`` slot
  (``actions/language.py`` sets it only when it changes, so the last value is carried);
- service: the ``service`` slot set in the turn (``actions/answers.py``), else a service intent
  (``ask_<service>``); FAQ entry: the ``faq`` slot set in the turn;
- comune: the ``city`` slot (carried), and its province from the ISTAT list (``bot.territory``);
- outcome: ``handover`` when the turn opened (or found) a mediator ticket, which the responses
  ``utter_handoff_*opened`` / ``utter_handoff_already_open`` say; ``fallback`` when the assistant
  asked to rephrase or offered questions instead of answering (``action_handle_fallback`` or
  Rasa's fallback ran and neither a service nor an FAQ entry was answered), or said the
  question is outside what it covers (``out_of_scope``: no answer either, and what editors may
  want to cover next); else ``answered``;
- low confidence: answered although the intent's confidence was under ``LOW_CONFIDENCE``, the
  FallbackClassifier's threshold plus a margin (``config.yml``: 0.4);
- out of hours: outside ``OFFICE_HOURS`` (Europe/Rome), or on an Italian public holiday.

The message text is used for nothing here but the editors' queue (``queue_text``), and only
from a fallback or low-confidence turn; it never goes in the turn row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from bot.kb.vocabulary import SERVICES
from bot.territory import by_folded_name, fold
from monitoring.schema import ANSWERED, FALLBACK, HANDOVER

ROME = ZoneInfo("Europe/Rome")
# Office hours of the public offices and mediators' services the Region reports on: weekdays
# 09:00-17:00 (Monday = 0), Europe/Rome; holidays are out of hours.
OFFICE_DAYS = range(0, 5)
OFFICE_HOURS = (dt.time(9), dt.time(17))
LOW_CONFIDENCE = 0.6

SLOT_LANGUAGE, SLOT_CITY, SLOT_SERVICE, SLOT_FAQ = "language", "city", "service", "faq"
FALLBACK_ACTIONS = frozenset({"action_handle_fallback", "action_default_fallback"})
FALLBACK_RESPONSES = ("utter_fallback_", "utter_default")
HANDOVER_RESPONSES = frozenset(
    {
        "utter_handoff_opened",
        "utter_handoff_opened_later",
        "utter_handoff_emergency_opened",
        "utter_handoff_already_open",
    }
)
SERVICE_INTENT_PREFIX = "ask_"
OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class Turn:
    """One turn, reduced to what the monitoring keeps (``text`` only for the queue)."""

    at: float
    channel: str
    language: str | None
    intent: str | None
    service: str | None
    faq: str | None
    comune: str | None
    province: str | None
    outcome: str
    low_confidence: bool
    out_of_hours: bool
    text: str

    @property
    def queue_text(self) -> str | None:
        """The text for the editors' queue, or None if this turn does not belong there."""
        if self.outcome == HANDOVER or not (self.outcome == FALLBACK or self.low_confidence):
            return None
        if not self.text.strip() or self.text.startswith("/"):  # a button's payload
            return None
        return self.text

    @property
    def queue_reason(self) -> str:
        return FALLBACK if self.outcome == FALLBACK else "low_confidence"


@lru_cache(maxsize=1)
def _italian_holidays() -> Any:
    import holidays

    return holidays.country_holidays("IT")


def out_of_hours(at: float) -> bool:
    """Whether ``at`` (epoch seconds) falls outside office hours in Rome."""
    local = dt.datetime.fromtimestamp(at, ROME)
    if local.weekday() not in OFFICE_DAYS or local.date() in _italian_holidays():
        return True
    return not OFFICE_HOURS[0] <= local.time() < OFFICE_HOURS[1]


def local_day(at: float) -> dt.date:
    """The day of ``at`` in Rome, where the offices and the Region count days."""
    return dt.datetime.fromtimestamp(at, ROME).date()


def province_of(comune: str | None) -> str | None:
    """Plate code of a Puglia comune's province ("Nardò" → "LE"), None if unknown."""
    if not comune:
        return None
    found = by_folded_name().get(fold(comune))
    return found.province if found else None


def read_turn(events: Iterable[Mapping[str, Any]], carried: Mapping[str, Any]) -> Turn | None:
    """The turn that starts at the first ``user`` event of ``events``; None if there is none.

    ``carried`` holds the slots known before the turn (``language``, ``city``); slots set in
    the turn win.
    """
    user: Mapping[str, Any] | None = None
    slots: dict[str, Any] = {}
    actions: set[str] = set()
    responses: list[str] = []
    for event in events:
        kind = event.get("event")
        if kind == "user" and user is None:
            user = event
        elif user is None:
            continue
        elif kind == "slot":
            slots[str(event.get("name"))] = event.get("value")
        elif kind == "action":
            actions.add(str(event.get("name")))
        elif kind == "bot":
            responses.append(str((event.get("metadata") or {}).get("utter_action") or ""))
    if user is None:
        return None
    parse = user.get("parse_data") or {}
    intent_data = parse.get("intent") or {}
    intent = intent_data.get("name")
    confidence = float(intent_data.get("confidence") or 0.0)
    language = (
        slots.get(SLOT_LANGUAGE)
        or carried.get(SLOT_LANGUAGE)
        or ((parse.get("language") or {}).get("code"))
    )
    service = slots.get(SLOT_SERVICE)
    if not service and intent and intent.startswith(SERVICE_INTENT_PREFIX):
        named = intent[len(SERVICE_INTENT_PREFIX) :]
        service = named if named in SERVICES else None
    faq = slots.get(SLOT_FAQ)
    comune = slots.get(SLOT_CITY) or carried.get(SLOT_CITY)
    if any(r in HANDOVER_RESPONSES for r in responses):
        outcome = HANDOVER
    elif (
        any(r.startswith(FALLBACK_RESPONSES) for r in responses)
        or (actions & FALLBACK_ACTIONS and not (slots.get(SLOT_SERVICE) or faq))
        or intent == OUT_OF_SCOPE
    ):
        outcome = FALLBACK
    else:
        outcome = ANSWERED
    at = float(user.get("timestamp") or 0.0)
    return Turn(
        at=at,
        channel=str(user.get("input_channel") or "unknown")[:16],
        language=str(language)[:8] if language else None,
        intent=str(intent)[:60] if intent else None,
        service=str(service)[:40] if service else None,
        faq=str(faq)[:80] if faq else None,
        comune=str(comune)[:80] if comune else None,
        province=province_of(comune),
        outcome=outcome,
        low_confidence=outcome == ANSWERED and confidence < LOW_CONFIDENCE,
        out_of_hours=out_of_hours(at),
        text=str(user.get("text") or ""),
    )
