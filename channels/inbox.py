"""Acknowledge a webhook at once, answer it in the background, exactly once.

Rasa's own channels await the whole dialogue turn (NLU, actions, every outgoing API call) before
they answer the webhook; a slow action then makes Twilio (15 s) or Telegram time out and send the
same message again. Here the webhook only *claims* the delivery in ``channel_inbox`` and returns;
a task runs the turn and marks the delivery done when the replies have gone out. A delivery whose
task died with its process is taken over at the next start-up (see ``channels.store``).

Two messages of one person sent a second apart must be answered in that order. Rasa's lock store
serialises the turns of a conversation in the order they *reach* it, but a task's first steps
(database calls in worker threads) could overtake each other; so the tasks of one address queue
on a per-address lock taken before anything else (asyncio locks are first come, first served).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.store import ChannelStore, get_store

logger = logging.getLogger(__name__)

# How the channel turns a claimed delivery into a dialogue turn: (sanic app, payload).
Handler = Callable[[Any, dict[str, Any]], Awaitable[None]]

RECOVERY_WAIT_SECONDS = 120.0


class Inbox:
    """Background processing of one channel's deliveries."""

    def __init__(self, channel: str, handler: Handler, store: ChannelStore | None = None):
        self.channel = channel
        self.handler = handler
        self._store = store
        self._tasks: set[asyncio.Task[None]] = set()
        self._order: dict[str, tuple[asyncio.Lock, int]] = {}

    @property
    def store(self) -> ChannelStore:
        """Return the store given at construction, else the process-wide one."""
        if self._store is None:
            self._store = get_store()
        return self._store

    async def accept(self, app: Any, delivery_id: str, payload: dict[str, Any]) -> bool:
        """Claim and schedule a delivery; False if it was a duplicate (already claimed).

        ``payload["order_key"]`` (the sender's address) keeps one sender's turns in order.
        """
        if not await self.store.aclaim(self.channel, delivery_id, payload):
            logger.info("%s: delivery %s already handled, not answering again",
                        self.channel, delivery_id)
            return False
        self._spawn(app, delivery_id, payload)
        return True

    def _spawn(self, app: Any, delivery_id: str, payload: dict[str, Any]) -> None:
        task = asyncio.get_running_loop().create_task(self._run(app, delivery_id, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, app: Any, delivery_id: str, payload: dict[str, Any]) -> None:
        key = str(payload.get("order_key", delivery_id))
        lock, users = self._order.get(key) or (asyncio.Lock(), 0)
        self._order[key] = (lock, users + 1)
        try:
            async with lock:
                await self._turn(app, delivery_id, payload)
        finally:
            lock, users = self._order[key]
            if users == 1:
                del self._order[key]
            else:
                self._order[key] = (lock, users - 1)

    async def _turn(self, app: Any, delivery_id: str, payload: dict[str, Any]) -> None:
        try:
            await self.handler(app, payload)
        except Exception:
            # Left "processing": the next start-up retries it (a bounded number of times).
            logger.exception("%s: delivery %s failed", self.channel, delivery_id)
            return
        try:
            await self.store.afinish(self.channel, delivery_id)
        except Exception:
            logger.exception("%s: could not mark delivery %s done", self.channel, delivery_id)

    def start_recovery(self, app: Any) -> None:
        """Run :meth:`recover` in the background (from a server-start listener)."""
        task = asyncio.get_running_loop().create_task(self.recover(app))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def recover(self, app: Any) -> int:
        """Process deliveries a dead instance left unanswered, once Rasa's agent is ready."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RECOVERY_WAIT_SECONDS
        while not _agent_ready(app):
            if loop.time() > deadline:
                logger.warning("%s: no agent after %.0f s; not recovering deliveries",
                               self.channel, RECOVERY_WAIT_SECONDS)
                return 0
            await asyncio.sleep(0.5)
        pending = await self.store.atake_abandoned(self.channel)
        for delivery in pending:
            logger.info("%s: resuming unanswered delivery %s", self.channel, delivery.delivery_id)
            self._spawn(app, delivery.delivery_id, delivery.payload)
        return len(pending)

    async def drain(self, timeout: float = 10.0) -> None:
        """Let running turns finish (server stopping); unfinished ones are recovered later."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)


def _agent_ready(app: Any) -> bool:
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    if agent is None:
        # Not a Rasa server (a test app): nothing to wait for.
        return not hasattr(getattr(app, "ctx", None), "agent")
    return bool(agent.is_ready())


async def conversation_language(app: Any, sender_id: str) -> str | None:
    """Read the conversation's language slot, for messages the channel sends by itself."""
    from actions.constants import SLOT_LANGUAGE

    agent = getattr(getattr(app, "ctx", None), "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return None
    try:
        tracker = await store.retrieve(sender_id)
    except Exception:
        logger.warning("could not read the conversation of %s", sender_id, exc_info=True)
        return None
    return tracker.get_slot(SLOT_LANGUAGE) if tracker else None
