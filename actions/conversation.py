"""Keeping a conversation from dead ends: misunderstandings, emergencies, erasure.

- ``action_count_failures`` (custom slot mapping, run after every message) counts consecutive
  messages the assistant did not understand.
- ``action_handle_fallback``: the first failure asks to rephrase with the likely topics as
  buttons; the second offers a mediator.
- ``action_report_emergency``: the emergency numbers first, before anything else, then the
  offer of a mediator. If the knowledge base cannot be read, the numbers still go out from the
  message catalogue.
- ``action_delete_my_data``: confirms the erasure; the tracker store
  (``bot/tracker_store.py``) deletes the conversation when it sees this action ran.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.constants import SERVICE_INTENT_PREFIX, SLOT_FAILED_TURNS
from actions.handoff import MediatorRequest
from bot.kb.vocabulary import SERVICES
from handoff.service import RELAYABLE_CHANNELS

logger = logging.getLogger(__name__)

FALLBACK_INTENT = "nlu_fallback"
# Offered when the classifier has no likely service to suggest.
DEFAULT_OPTIONS = ("residence_permit", "health_care", "tax_code", "employment")
MAX_OPTIONS = 4


class ActionCountFailures(Action):
    """Custom slot mapping for ``failed_turns``: +1 on a misunderstood message, else 0."""

    def name(self) -> str:
        return "action_count_failures"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        failed = float(tracker.get_slot(SLOT_FAILED_TURNS) or 0)
        value = failed + 1 if intent == FALLBACK_INTENT else 0.0
        return [] if value == failed else [SlotSet(SLOT_FAILED_TURNS, value)]


class ActionHandleFallback(MediatorRequest):
    """Not understood: first a rephrase prompt with options, then a mediator is called."""

    def name(self) -> str:
        return "action_handle_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        named = self.named_service(tracker)
        if named:
            # Unsure of the intent, but the message names a service ("cerere de cetățenie"):
            # answer that rather than ask to rephrase.
            return self.answer_for_town(dispatcher, tracker, named)
        if float(tracker.get_slot(SLOT_FAILED_TURNS) or 0) >= 2:
            if tracker.get_latest_input_channel() in RELAYABLE_CHANNELS:
                # A mediator is called at once (the ticket's message says so).
                await self.open_ticket(dispatcher, tracker, "fallback")
                return [SlotSet(SLOT_FAILED_TURNS, 0)]
            dispatcher.utter_message(response="utter_fallback_offer_mediator")
            return []
        language = self.language(tracker)
        buttons = []
        for service in self.likely_services(tracker):
            name = self.kb.service_name(service, language)
            buttons.append(
                {
                    "title": name.text if name else service,
                    "payload": f"/{SERVICE_INTENT_PREFIX}{service}",
                }
            )
        dispatcher.utter_message(response="utter_fallback_rephrase", buttons=buttons)
        return []

    @staticmethod
    def likely_services(tracker: Tracker) -> list[str]:
        """Services among the classifier's runners-up, else the most asked ones."""
        ranked = [
            str(item.get("name"))[len(SERVICE_INTENT_PREFIX) :]
            for item in tracker.latest_message.get("intent_ranking", [])
            if str(item.get("name", "")).startswith(SERVICE_INTENT_PREFIX)
        ]
        likely = [s for s in ranked if s in SERVICES][:MAX_OPTIONS]
        return likely or list(DEFAULT_OPTIONS)


class ActionReportEmergency(MediatorRequest):
    """Numbers first; then a mediator is called with priority (offered, where none can come)."""

    def name(self) -> str:
        return "action_report_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        language = self.language(tracker)
        try:
            numbers = self.kb.emergency_numbers(language)
        except Exception:  # the numbers must go out whatever is wrong with the database
            logger.exception("emergency numbers unavailable from the knowledge base")
            numbers = ()
        if numbers:
            lines = [
                f"🚨 {n.number} — {n.label}" + (f": {n.when}" if n.when else "") for n in numbers
            ]
            dispatcher.utter_message(
                response="utter_emergency_numbers_intro", numbers="\n".join(lines)
            )
        else:
            dispatcher.utter_message(response="utter_emergency_numbers_static")
        if tracker.get_latest_input_channel() in RELAYABLE_CHANNELS:
            await self.open_ticket(dispatcher, tracker, "emergency")
        else:
            dispatcher.utter_message(response="utter_emergency_offer_mediator")
        return [SlotSet(SLOT_FAILED_TURNS, 0)]


class ActionDeleteMyData(Action):
    """Confirm the erasure; the tracker store then deletes the whole conversation."""

    def name(self) -> str:
        return "action_delete_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_privacy_deleted")
        return []
