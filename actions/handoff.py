"""Opening a ticket for a human cultural mediator (``handoff/``) from the dialogue.

Three ways in: the person asks (``action_request_mediator``), the assistant fails to understand
twice (``action_handle_fallback``) or an emergency is reported (``action_report_emergency``).
The ticket carries the conversation's language, topic, town and last messages; the person is
told what happens next and how long it may take, in the ticket's language.

The ticket's language is the conversation's, not the last message's: the ``language`` slot
follows one message the detector is sure of, so a person who wrote Arabic all along and then
"Voglio parlare con un mediatore" would get an Italian ticket, Italian mediators and Italian
notices. When the last message switched the slot by itself (no explicit "write in Italian"), the
ticket keeps the language the person's earlier messages had most often, and the last message's
language goes beside it for the mediators ("ar (last message it)").

From then on the channels hand the person's messages to the handoff, not to Rasa
(``handoff/gate.py``), until the ticket is closed.

Only channels that can write to the person outside a turn (WhatsApp, Telegram, the local web
chat) can hand over; on others (the bare REST API) the person is told honestly that no mediator
can be reached from there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import KnowledgeAction
from actions.constants import (
    DEFAULT_LANGUAGE,
    SLOT_LANGUAGE,
    SUPPORTED_LANGUAGES,
    WEAK_LANGUAGE_SOURCES,
)
from bot.escalation import REASON_EMERGENCY, REASON_REQUEST, can_hand_over
from handoff.service import Handoff, Opened

logger = logging.getLogger(__name__)

TRANSCRIPT_EVENTS = 20  # the last user and bot messages copied into the ticket


class MediatorRequest(KnowledgeAction):
    """What the three actions that open tickets share."""

    handoff: Handoff | None = None  # tests set one; otherwise one per process, made lazily

    def _handoff(self) -> Handoff:
        if self.handoff is None:
            type(self).handoff = Handoff()
        assert self.handoff is not None
        return self.handoff

    async def open_ticket(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, reason: str
    ) -> Opened | None:
        """Open the ticket and tell the person; None (and an honest reply) if impossible."""
        channel = tracker.get_latest_input_channel()
        language, last_language = ticket_languages(tracker)
        if not can_hand_over(channel):
            dispatcher.utter_message(response="utter_handoff_unavailable", language=language)
            return None
        comune = self.comune(tracker)
        try:
            opened = await asyncio.to_thread(
                self._handoff().request,
                tracker.sender_id,
                channel,
                language,
                reason,
                topic=self.service(tracker),
                comune=comune.name if comune else None,
                province=comune.province if comune else None,
                transcript=transcript(tracker),
                last_language=last_language,
            )
        except Exception:
            logger.exception("could not open a mediator ticket for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_handoff_unavailable", language=language)
            return None
        # In the ticket's language, like every notice of the hand-off after it (``language``
        # is read by bot.nlg.CatalogueNLG in place of the slot).
        language = opened.ticket.language
        if reason == REASON_EMERGENCY and opened.created:
            dispatcher.utter_message(
                response="utter_handoff_emergency_opened",
                ticket=opened.ticket.label,
                language=language,
            )
        else:
            dispatcher.utter_message(response=opened.response, language=language, **opened.values)
        return opened


class ActionRequestMediator(MediatorRequest):
    """The person asked for a mediator."""

    def name(self) -> str:
        return "action_request_mediator"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        await self.open_ticket(dispatcher, tracker, REASON_REQUEST)
        return []


def transcript(tracker: Tracker) -> list[tuple[str, str]]:
    """The conversation's last messages as (author, text), oldest first."""
    lines: list[tuple[str, str]] = []
    for event in tracker.events:
        text = event.get("text")
        if not text:
            continue
        if event.get("event") == "user":
            lines.append(("person", text))
        elif event.get("event") == "bot":
            lines.append(("bot", text))
    return lines[-TRANSCRIPT_EVENTS:]


def ticket_languages(tracker: Tracker) -> tuple[str, str | None]:
    """(the conversation's language, the language of the person's last message or None).

    The conversation's language is the ``language`` slot, unless the last message switched it
    by detection alone: then the language the slot had after most of the person's earlier
    messages (the more recent one on a tie). The last message's language is None when the
    detector could not tell ("ok", a town, romanized text).
    """
    current = tracker.get_slot(SLOT_LANGUAGE) or DEFAULT_LANGUAGE
    latest = tracker.latest_message or {}
    detected = latest.get("language") or {}
    code = detected.get("code")
    last = (
        code
        if code in SUPPORTED_LANGUAGES and detected.get("source") not in WEAK_LANGUAGE_SOURCES
        else None
    )
    asked = detected.get("source") == "explicit" or any(
        e.get("entity") == "language" for e in latest.get("entities") or []
    )
    earlier = _earlier_languages(tracker.events)
    if asked or not earlier or earlier[-1] == current:
        return current, last
    return max(set(earlier), key=lambda x: (earlier.count(x), _last_index(earlier, x))), last


def _earlier_languages(events: Iterable[dict[str, Any]]) -> list[str]:
    """The ``language`` slot at the end of each of the person's turns but the last one."""
    slot: str | None = None
    ends: list[str | None] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            ends.append(slot)
        elif kind == "slot" and event.get("name") == SLOT_LANGUAGE:
            slot = event.get("value")
        elif kind in ("restart", "reset_slots"):
            slot = None
            ends.clear()
    # ends[i] is the slot when the person's message i arrived, i.e. at the end of turn i - 1.
    return [x for x in ends[1:] if x]


def _last_index(values: list[str], value: str) -> int:
    return len(values) - 1 - values[::-1].index(value)
