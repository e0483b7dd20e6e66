"""Where a person's message goes: to Rasa, or to the mediator holding the conversation.

Every channel that can relay (WhatsApp, Telegram, the local web chat) asks :func:`intercept`
before it hands a message to Rasa. While the person has an open ticket (waiting or claimed) the
bot says nothing: the message is stored in the ticket (once, whatever the platform redelivers)
and, when a mediator holds it, relayed to them. One thing still reaches the person at once: if
the message reads as an emergency, the emergency numbers, and the ticket jumps the queue.

After a mediator closes, the next message may be the 1–5 rating the person was asked for;
anything else goes to the bot, which is back.

Both questions ("in hand-off?", "owed a rating?") are answered by one indexed query
(``TicketStore.standing``): a person who is neither, nearly every message, costs that one
SELECT and nothing else. ``benchmarks/reply_latency.py`` prints what it costs.

"Delete my data" always reaches the bot, hand-off or not: a message that reads as that request,
and the answer to the bot's confirmation question, go to Rasa instead of the ticket. When the
erasure is confirmed the tracker store closes the ticket, tells its mediator and erases it
(``Handoff.erase``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.escalation import emergency_in_handoff
from handoff.relay import Relay
from handoff.service import CANCEL_PAYLOAD, RATING_PAYLOAD, Handoff, parse_rating

logger = logging.getLogger(__name__)

ERASURE_INTENT = "delete_my_data"
ERASURE_CONFIDENCE = 0.6
# The bot's question after "delete my data" (data/rules/privacy.yml): the answer is the bot's.
ERASURE_QUESTION = "utter_privacy_confirm_delete"


@dataclass
class Runtime:
    """The process's handoff service and relay worker."""

    handoff: Handoff
    relay: Relay


def get_runtime(database_url: str | None = None) -> Runtime:
    """One runtime per process and database (DATABASE_URL unless given)."""
    from bot.settings import get_settings

    return _runtime(database_url or get_settings().database_url)


@lru_cache(maxsize=4)
def _runtime(database_url: str) -> Runtime:
    from handoff.store import get_handoff_store

    handoff = Handoff(get_handoff_store(database_url))
    return Runtime(handoff, Relay(handoff))


async def intercept(
    app: Any,
    person: str,
    channel: str,
    text: str,
    source_key: str | None,
    *,
    media_kind: str | None = None,
    files: Sequence[tuple[int, str]] = (),
    runtime: Runtime | None = None,
) -> bool:
    """Handle the message if it belongs to the handoff; False means "give it to Rasa".

    ``media_kind`` ("voice", "file", "location") marks what the person sent that cannot be
    passed on; its caption, if any, is ``text``. ``files`` are the files already stored with
    the ticket (``handoff_media`` id, kind): they go to the mediator holding it.
    """
    runtime = runtime or get_runtime()
    handoff = runtime.handoff
    stripped = (text or "").strip()
    if stripped == CANCEL_PAYLOAD:
        await asyncio.to_thread(handoff.cancel, person)
        runtime.relay.wake()
        return True
    # The one question asked of every message: is this person in hand-off, or owed a rating?
    standing = await asyncio.to_thread(handoff.store.tickets.standing, person)
    if standing.idle:
        # The usual case, settled by that one query: the bot's (an old rating button: nobody's).
        return stripped.startswith(RATING_PAYLOAD)
    if stripped.startswith(RATING_PAYLOAD) or parse_rating(stripped) is not None:
        rating = parse_rating(stripped)
        rated = (
            rating is not None
            and standing.awaiting is not None
            and bool(await asyncio.to_thread(handoff.rate, person, rating))
        )
        if rated:
            runtime.relay.wake()
            return True
        if stripped.startswith(RATING_PAYLOAD):
            return True  # an old rating button: nothing to rate, nothing for the bot
    if files:
        media_kind = None  # passed on, not refused
    label = media_kind or (files[0][1] if files else None)
    body = stripped or (f"[{label}]" if label else "")
    if not body:
        return False
    if standing.open is None:
        # A rating was asked for and the person wrote something else instead.
        await asyncio.to_thread(handoff.store.ratings.skip, person)
        return False
    intent: tuple[str | None, float] = (None, 0.0)
    if stripped:
        intent = await _intent(app, stripped)
        if (
            intent[0] == ERASURE_INTENT and intent[1] >= ERASURE_CONFIDENCE
        ) or await _erasure_asked(app, person):
            return False  # "delete my data", or the answer to its question: the bot's
    change = await asyncio.to_thread(handoff.person_wrote, person, body, source_key)
    if change is None:
        # Closed between the two reads: the bot is back, and may be owed a rating.
        await asyncio.to_thread(handoff.store.ratings.skip, person)
        return False
    if change.duplicate:
        logger.info("handoff: message %s already relayed, not again", source_key)
        return True
    if files:
        await asyncio.to_thread(
            handoff.person_sent_files,
            change.ticket,
            files,
            stripped,
            source_key or f"t{change.ticket.id}:{body}",
        )
    elif media_kind:
        await asyncio.to_thread(
            handoff.person_sent_media,
            change.ticket,
            media_kind,
            source_key or f"t{change.ticket.id}:{body}",
        )
    await runtime.relay.flush()
    if emergency_in_handoff(*intent):
        await asyncio.to_thread(
            handoff.emergency, change.ticket, source_key or f"t{change.ticket.id}:sos"
        )
        runtime.relay.wake()
    return True


async def _intent(app: Any, text: str) -> tuple[str | None, float]:
    """Ask Rasa's NLU (no dialogue turn) what the message is: (intent, confidence)."""
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    if agent is None or not agent.is_ready():
        return None, 0.0
    try:
        parsed = await agent.parse_message(text)
    except Exception:
        logger.warning("handoff: could not read a message's intent", exc_info=True)
        return None, 0.0
    intent = parsed.get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


async def _erasure_asked(app: Any, person: str) -> bool:
    """Whether the bot's last action in the conversation asked to confirm an erasure."""
    from rasa.shared.core.events import ActionExecuted, UserUttered

    agent = getattr(getattr(app, "ctx", None), "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return False
    try:
        tracker = await store.retrieve(person)
    except Exception:
        logger.warning("handoff: could not read the conversation of %s", person, exc_info=True)
        return False
    for event in reversed(tracker.events if tracker else []):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, ActionExecuted) and event.action_name != "action_listen":
            return event.action_name == ERASURE_QUESTION
    return False
