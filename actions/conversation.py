"""Keeping a conversation from dead ends: misunderstandings, emergencies, erasure.

- ``action_count_failures`` (custom slot mapping, run after every message) counts consecutive
  messages the assistant did not understand.
- ``action_handle_fallback``: the first failure asks to rephrase with the likely topics as
  buttons; the second offers a mediator.
- ``action_report_emergency``: the emergency numbers for the kind of danger first, before
  anything else, then the help for that kind (care without papers, the anti-violence and
  anti-trafficking routes...), then a mediator with priority. When only one of the two
  classifiers read danger (the parse's ``safety.sure`` is false), no priority ticket: the
  question DIET read beside the danger and a mediator are offered as buttons. If the knowledge
  base cannot be read, the numbers still go out from the message catalogue.
- ``action_delete_my_data``: confirms the erasure; the tracker store
  (``app/tracker_store.py``) deletes the conversation when it sees this action ran.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import render
from actions.constants import SAFETY, SERVICE_INTENT_PREFIX, SLOT_FAILED_TURNS
from actions.handoff import MediatorRequest
from bot.escalation import (
    REASON_EMERGENCY,
    REASON_FALLBACK,
    can_hand_over,
    emergency_opens_ticket,
    fallback_calls_mediator,
)
from bot.kb.queries import Comune, Office
from bot.kb.vocabulary import DANGER_CLASSES, DANGER_GENERAL, SERVICES
from bot.messages import render_with_buttons

logger = logging.getLogger(__name__)

FALLBACK_INTENT = "nlu_fallback"
# Offered when the classifier has no likely service to suggest.
DEFAULT_OPTIONS = ("residence_permit", "health_care", "tax_code", "employment")
MAX_OPTIONS = 4
DANGERS = (*DANGER_CLASSES, DANGER_GENERAL)
# Help for at most this many kinds of danger in one message: the numbers cover them all.
MAX_DANGERS = 2
# An unsure danger offers the service question DIET read beside it, if this likely.
QUESTION_BESIDE_CONFIDENCE = 0.3


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
        choice = self.faq_choice(tracker)
        if choice.answer:
            events = self.answer_faq(dispatcher, tracker, choice.answer, choice.suggestions)
            if events is not None:
                return events
        named = self.named_service(tracker)
        if named:
            # Unsure of the intent, but the message names a service ("cerere de cetățenie"):
            # answer that rather than ask to rephrase.
            return self.answer_for_town(dispatcher, tracker, named)
        calls_mediator = fallback_calls_mediator(tracker.get_slot(SLOT_FAILED_TURNS))
        if choice.suggestions and not calls_mediator:
            # Close to some curated questions: offer them (and a mediator) before "rephrase".
            return self.suggest_faq(dispatcher, tracker, choice.suggestions)
        if calls_mediator:
            if can_hand_over(tracker.get_latest_input_channel()):
                # A mediator is called at once (the ticket's message says so).
                await self.open_ticket(dispatcher, tracker, REASON_FALLBACK)
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
    """Danger: the numbers first, then the help for its kind, then a mediator with priority.

    The kind comes from the parse's ``safety`` field (``bot/nlu/safety.py``); a message the
    classifier alone read as an emergency is the general ``danger``. Nothing here asks for a
    town: a town the conversation already knows only adds the nearest office the help names.
    If the knowledge base cannot be read, the numbers still go out from the message catalogue.
    """

    def name(self) -> str:
        return "action_report_emergency"

    @staticmethod
    def dangers(tracker: Tracker) -> tuple[list[str], bool]:
        """The danger classes of this message, most urgent first, and "no papers"."""
        safety = tracker.latest_message.get(SAFETY) or {}
        classes = [c for c in safety.get("classes") or () if c in DANGERS]
        return classes or [DANGER_GENERAL], bool(safety.get("undocumented"))

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        language = self.language(tracker)
        classes, undocumented = self.dangers(tracker)
        try:
            self.send_help(dispatcher, tracker, language, classes, undocumented)
        except Exception:  # the numbers must go out whatever is wrong with the database
            logger.exception("emergency help unavailable from the knowledge base")
            dispatcher.utter_message(response="utter_emergency_numbers_static")
        if not emergency_opens_ticket(tracker.latest_message.get(SAFETY)):
            # One classifier alone: the numbers went out first all the same, but no priority
            # ticket calls a mediator away; the question the message may have been is one tap
            # away, and so is a mediator.
            self.offer_question_beside(dispatcher, tracker, language)
        elif can_hand_over(tracker.get_latest_input_channel()):
            await self.open_ticket(dispatcher, tracker, REASON_EMERGENCY)
        else:
            dispatcher.utter_message(response="utter_emergency_offer_mediator")
        return [SlotSet(SLOT_FAILED_TURNS, 0)]

    def offer_question_beside(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, language: str
    ) -> None:
        """The service question DIET read beside the danger, and a mediator, as buttons."""
        message = tracker.latest_message
        service = next(
            (
                str(item["name"])[len(SERVICE_INTENT_PREFIX) :]
                for item in message.get("intent_ranking") or []
                if str(item.get("name", "")).startswith(SERVICE_INTENT_PREFIX)
                and str(item["name"])[len(SERVICE_INTENT_PREFIX) :] in SERVICES
                and float(item.get("confidence") or 0) >= QUESTION_BESIDE_CONFIDENCE
            ),
            None,
        )
        buttons = []
        name = self.kb.service_name(service, language) if service else None
        if service and name:
            city = next(
                (e["value"] for e in message.get("entities") or [] if e.get("entity") == "city"),
                None,
            )
            entities = json.dumps({"city": city}, ensure_ascii=False) if city else ""
            buttons.append(
                {"title": name.text, "payload": f"/{SERVICE_INTENT_PREFIX}{service}{entities}"}
            )
        _, mediator = render_with_buttons("utter_emergency_offer_mediator", language)
        dispatcher.utter_message(response="utter_emergency_unsure", buttons=buttons + mediator)

    def send_help(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        language: str,
        classes: list[str],
        undocumented: bool,
    ) -> None:
        """Numbers of every danger named (each with what it is for), then each one's help."""
        helps = [h for h in (self.kb.safety_help(c, language) for c in classes) if h]
        numbers = {n.id: n for n in self.kb.emergency_numbers(language)}
        wanted = list(dict.fromkeys(n for h in helps for n in h.numbers)) or list(numbers)
        lines = [render.number_line(numbers[n]) for n in wanted if n in numbers]
        if not lines:
            raise LookupError("no emergency numbers in the knowledge base")
        dispatcher.utter_message(response="utter_emergency_numbers_intro", numbers="\n".join(lines))
        comune = self.comune(tracker)
        for help_ in helps[:MAX_DANGERS]:
            text = [help_.text]
            if undocumented and help_.undocumented:
                text.append(help_.undocumented)
            if not help_.verified:
                text += render.provenance_lines(None, help_.source, False, language)
            self.say(dispatcher, text)
            office = self.help_office(help_.office_kinds, comune)
            if office:
                self.say(dispatcher, render.office_lines(office, language, location_only=True))

    def help_office(self, kinds: tuple[str, ...], comune: Comune | None) -> Office | None:
        """The office of a kind the help names for the town already known, if any."""
        if comune is None:
            return None
        for kind in kinds:
            for service in SERVICES:
                found = self.kb.office_for(service, comune.istat, kind)
                if found:
                    return found
        return None


class ActionDeleteMyData(Action):
    """Confirm the erasure; the tracker store then deletes the whole conversation."""

    def name(self) -> str:
        return "action_delete_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_privacy_deleted")
        return []
