"""Hand a person's message to Rasa once per delivery, even when the turn is retried.

Rasa sends a turn's replies while it runs and saves the conversation (the tracker) at its end.
A turn retried after a failure is in one of two cases:

- the tracker does not hold the message: Rasa never finished it, nothing was saved, so it is
  run again from the start; the parts it had sent are skipped (``channels.replies``);
- the tracker holds it (a message with this delivery's ``message_id``): Rasa finished and saved
  it, and what failed came after (releasing the Redis lock, marking the delivery done). Running
  it again would add the message to the conversation twice and answer from a state that
  already includes it; instead the bot messages Rasa recorded after it are sent through the
  output channel, which again skips the parts already sent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage

logger = logging.getLogger(__name__)


class AgentNotReady(Exception):
    """Rasa has no model loaded (yet): it would drop the message without a word."""


async def hand_to_rasa(
    app: Any,
    message: UserMessage,
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    retried: bool,
) -> None:
    """Run ``message`` through Rasa, or, on a retry Rasa already finished, resend its replies."""
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    if agent is not None and not agent.is_ready():
        raise AgentNotReady("no model loaded")
    if retried:
        recorded = await recorded_replies(app, message.sender_id, message.message_id)
        if recorded is not None:
            logger.info(
                "delivery %s: Rasa had already answered it; sending what is missing",
                message.message_id,
            )
            for reply in recorded:
                await message.output_channel.send_response(message.sender_id, reply)
            return
    await on_new_message(message)


async def recorded_replies(
    app: Any, sender_id: str, message_id: str | None
) -> list[dict[str, Any]] | None:
    """The bot messages Rasa saved after the user message ``message_id``; None if not saved.

    Raises if the tracker store cannot be read: then nobody knows, and the turn waits.
    """
    from rasa.shared.core.events import BotUttered, UserUttered

    store = getattr(getattr(getattr(app, "ctx", None), "agent", None), "tracker_store", None)
    if store is None or not message_id:
        return None
    tracker = await store.retrieve_full_tracker(sender_id)
    if tracker is None:
        return None
    replies: list[dict[str, Any]] | None = None
    for event in tracker.events:
        if isinstance(event, UserUttered):
            if replies is not None:
                break
            if event.message_id == message_id:
                replies = []
        elif replies is not None and isinstance(event, BotUttered):
            replies.append(event.message())
    return replies
