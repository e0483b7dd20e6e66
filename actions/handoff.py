"""Opening a ticket for a human cultural mediator (``handoff/``) from the dialogue.

Three ways in: the person asks (``action_request_mediator``), the assistant fails to understand
twice (``action_handle_fallback``) or an emergency is reported (``action_report_emergency``).
The ticket carries the conversation's language, topic, town and last messages; the person is
told what happens next and how long it may take. From then on the channels hand the person's
messages to the handoff, not to Rasa (``handoff/gate.py``), until the ticket is closed.

Only channels that can write to the person outside a turn (WhatsApp, Telegram, the local web
chat) can hand over; on others (the bare REST API) the person is told honestly that no mediator
can be reached from there.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import KnowledgeAction
from handoff.service import RELAYABLE_CHANNELS, Handoff, Opened

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
        language = self.language(tracker)
        if channel not in RELAYABLE_CHANNELS:
            dispatcher.utter_message(response="utter_handoff_unavailable")
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
            )
        except Exception:
            logger.exception("could not open a mediator ticket for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return None
        if reason == "emergency" and opened.created:
            dispatcher.utter_message(
                response="utter_handoff_emergency_opened", ticket=opened.ticket.label
            )
        else:
            dispatcher.utter_message(response=opened.response, **opened.values)
        return opened


class ActionRequestMediator(MediatorRequest):
    """The person asked for a mediator."""

    def name(self) -> str:
        return "action_request_mediator"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        await self.open_ticket(dispatcher, tracker, "request")
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
