"""Acknowledge a webhook at once and answer it in the background: at least once, never twice.

Rasa's own channels await the whole dialogue turn (NLU, actions, every outgoing API call) before
they answer the webhook; a slow action then makes Twilio (15 s) or Telegram time out and send the
same message again. Here the webhook only *claims* the delivery in ``channel_inbox`` and
returns; a task runs the turn. A turn is a transaction over that row:

- the row is written before the webhook answers 2xx; with the database down, the delivery is
  written to the local spool instead (``channels.spool``), and only if that fails too does the
  webhook answer 503;
- the task holds a lease on the row and renews it every few seconds;
- a turn that fails (database, Redis, action server away) is retried with growing pauses; its
  replies already sent are not sent again (``channels.replies``), and Rasa does not run a
  message twice (``channels.turns``);
- after ``RETRY_SECONDS`` of failures, or ``MAX_ATTEMPTS`` crashes, the person is told once
  that the message could not be answered (the channel's ``give_up``), and the row is failed;
- the row is done when the replies went out.

Recovery runs all the time, not only at start-up: every ``RECOVERY_SECONDS`` the inbox moves
spooled deliveries into the database and takes over rows whose lease expired, whichever
instance claimed them (that instance died).

Two messages of one person sent a second apart must be answered in that order. Rasa's lock store
serialises the turns of a conversation in the order they *reach* it, but a task's first steps
(database calls in worker threads) could overtake each other; so the tasks of one address queue
on a per-address lock taken before anything else (asyncio locks are first come, first served).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.rasa_outages import RETRYABLE_TURN, TurnInterrupted
from bot.slots import SLOT_LANGUAGE
from channels.replies import FAILURE_NOTICE_PART, LeaseLost, ReplyLog
from channels.spool import Spool
from channels.store import DONE, FAILED, ChannelStore, PendingDelivery, get_store

logger = logging.getLogger(__name__)

RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)  # then 60 s between tries
RETRY_SECONDS = 600.0  # a turn failing for this long is given up
RECOVERY_SECONDS = 5.0  # leases renewed, spool and expired leases checked, this often
CLAIM_TIMEOUT_SECONDS = 5.0  # then the webhook spools: Twilio gives up on it after 15 s
PURGE_SECONDS = 3600.0


@dataclass
class Delivery:
    """One try of a delivery's turn, as the channel's handler gets it.

    ``retried``: an earlier try, here or in a dead process, may have reached Rasa or sent
    replies. Every platform call for the person goes through ``replies``.
    """

    channel: str
    delivery_id: str
    payload: dict[str, Any]
    attempt: int
    replies: ReplyLog
    retried: bool

    async def keep(self, key: str, value: Any) -> None:
        """Remember a decision this try made, for any later try (stored with the message).

        For what a retry could not work out again, such as which option "2" picked.
        """
        self.payload[key] = value
        await self.replies.store.asave_payload(self.channel, self.delivery_id, self.payload)


# How the channel runs a delivery's turn, and tells the person it finally failed.
Handler = Callable[[Any, Delivery], Awaitable[None]]


class Inbox:
    """Background processing of one channel's deliveries."""

    def __init__(
        self,
        channel: str,
        handler: Handler,
        store: ChannelStore | None = None,
        give_up: Handler | None = None,
    ):
        self.channel = channel
        self.handler = handler
        self.give_up = give_up
        self._store = store
        self._tasks: set[asyncio.Task[None]] = set()
        self._order: dict[str, tuple[asyncio.Lock, int]] = {}
        self._held: dict[str, float] = {}  # delivery id → the lease (claimed_at) written
        self._lost: set[str] = set()
        self._maintainer: asyncio.Task[None] | None = None
        self._last_purge = 0.0
        # While deliveries wait in the spool, new ones queue behind them there, so that a
        # person's message written just after an outage is not answered before theirs of
        # during it. None: not looked yet (a previous process may have left some).
        self._spooling: bool | None = None

    @property
    def store(self) -> ChannelStore:
        """Return the store given at construction, else the process-wide one."""
        if self._store is None:
            self._store = get_store()
        return self._store

    @property
    def spool(self) -> Spool:
        return Spool(self.store.spool_dir)

    # --- webhook side -----------------------------------------------------------------------

    async def accept(self, app: Any, delivery_id: str, payload: dict[str, Any]) -> bool:
        """Claim and schedule a delivery; False if it was a duplicate (already claimed).

        ``payload["order_key"]`` (the sender's address) keeps one sender's turns in order.
        Raises only when the delivery could be kept neither in the database nor on disk.
        """
        if delivery_id in self._held:
            return False
        if self._spooling is None:
            self._spooling = bool(await asyncio.to_thread(self.spool.pending, self.channel))
        if self._spooling:
            return await self._spool(app, delivery_id, payload)
        try:
            claimed = await asyncio.wait_for(
                self.store.aclaim(self.channel, delivery_id, payload), CLAIM_TIMEOUT_SECONDS
            )
        except Exception as exc:
            logger.warning(
                "%s: database unavailable (%s); delivery %s kept on local disk",
                self.channel,
                describe(exc),
                delivery_id,
            )
            return await self._spool(app, delivery_id, payload)
        if claimed is None:
            logger.info(
                "%s: delivery %s already handled, not answering again", self.channel, delivery_id
            )
            return False
        self._spawn(app, claimed)
        return True

    async def _spool(self, app: Any, delivery_id: str, payload: dict[str, Any]) -> bool:
        await asyncio.to_thread(self.spool.put, self.channel, delivery_id, payload)
        self._spooling = True
        self.start(app)
        return True

    # --- turns ------------------------------------------------------------------------------

    def _spawn(self, app: Any, pending: PendingDelivery) -> None:
        self._held[pending.delivery_id] = pending.claimed_at
        task = asyncio.get_running_loop().create_task(self._run(app, pending))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, app: Any, pending: PendingDelivery) -> None:
        key = str(pending.payload.get("order_key", pending.delivery_id))
        lock, users = self._order.get(key) or (asyncio.Lock(), 0)
        self._order[key] = (lock, users + 1)
        try:
            async with lock:
                await self._turn(app, pending)
        finally:
            self._held.pop(pending.delivery_id, None)
            self._lost.discard(pending.delivery_id)
            lock, users = self._order[key]
            if users == 1:
                del self._order[key]
            else:
                self._order[key] = (lock, users - 1)

    def _delivery(
        self, pending: PendingDelivery, retried: bool, sent_here: set[int] | None = None
    ) -> Delivery:
        replies = ReplyLog(
            self.store, self.channel, pending.delivery_id, pending.attempt, sent_here
        )
        return Delivery(
            self.channel, pending.delivery_id, pending.payload, pending.attempt, replies, retried
        )

    async def _turn(self, app: Any, pending: PendingDelivery) -> None:
        name = f"{self.channel}: delivery {pending.delivery_id}"
        if pending.exhausted:
            logger.error("%s was interrupted %d times; giving up", name, pending.attempt - 1)
            await self._give_up(app, pending)
            return
        loop = asyncio.get_running_loop()
        started, tries = loop.time(), 0
        sent_here: set[int] = set()  # parts the platform took, whether recorded or not
        while True:
            token = RETRYABLE_TURN.set(True)
            try:
                await self.handler(
                    app, self._delivery(pending, pending.attempt > 1 or tries > 0, sent_here)
                )
                break
            except LeaseLost:
                logger.warning("%s was taken over by another instance; stopping here", name)
                return
            except (Exception, TurnInterrupted) as exc:
                failure = exc
            finally:
                RETRYABLE_TURN.reset(token)
            if pending.delivery_id in self._lost:
                logger.warning("%s failed and was taken over by another instance", name)
                return
            delay = RETRY_DELAYS[min(tries, len(RETRY_DELAYS) - 1)]
            tries += 1
            if loop.time() - started + delay > RETRY_SECONDS:
                logger.error(
                    "%s: giving up after %d failed tries (last: %s)", name, tries, describe(failure)
                )
                await self._give_up(app, pending)
                return
            logger.warning(
                "%s failed (%s); trying again in %.0f s",
                name,
                describe(failure),
                delay,
                exc_info=tries == 1 and not _is_outage(failure),
            )
            await asyncio.sleep(delay)
        await self._settle(pending, DONE)

    async def _give_up(self, app: Any, pending: PendingDelivery) -> None:
        """Tell the person once, then fail the row; if even that fails, a later takeover will."""
        if self.give_up is not None:
            delivery = self._delivery(pending, retried=True)
            delivery.replies.number_from(FAILURE_NOTICE_PART)
            try:
                await self.give_up(app, delivery)
            except Exception as exc:
                logger.error(
                    "%s: could not tell the sender of %s it failed (%s)",
                    self.channel,
                    pending.delivery_id,
                    describe(exc),
                )
                return
        await self._settle(pending, FAILED)

    async def _settle(self, pending: PendingDelivery, state: str) -> None:
        # Not renewed any more: if this cannot be written, the row is taken over after the
        # lease, and that try finds every reply sent.
        self._held.pop(pending.delivery_id, None)
        for delay in (1.0, 2.0, 4.0, None):
            try:
                await self.store.afinish(self.channel, pending.delivery_id, state)
                return
            except Exception as exc:
                if delay is None:
                    logger.error(
                        "%s: could not mark delivery %s %s (%s)",
                        self.channel,
                        pending.delivery_id,
                        state,
                        describe(exc),
                    )
                    return
                await asyncio.sleep(delay)

    # --- leases and recovery ----------------------------------------------------------------

    def start(self, app: Any) -> None:
        """Start renewing leases and recovering deliveries (from a server-start listener)."""
        if self._maintainer is None or self._maintainer.done():
            self._maintainer = asyncio.get_running_loop().create_task(self._maintain(app))

    async def _maintain(self, app: Any) -> None:
        while True:
            steps: list[Callable[[Any], Awaitable[Any]]] = (
                [self._renew, self.recover] if _agent_ready(app) else [self._renew]
            )
            for step in steps:
                try:
                    await step(app)
                except Exception as exc:
                    logger.warning(
                        "%s: %s failed (%s); again in %.0f s",
                        self.channel,
                        step.__name__.strip("_"),
                        describe(exc),
                        RECOVERY_SECONDS,
                    )
            await asyncio.sleep(RECOVERY_SECONDS)

    async def _renew(self, _: Any = None) -> None:
        leases = dict(self._held)
        if not leases:
            return
        kept = await self.store.arenew(self.channel, leases)
        for delivery_id in leases:
            if delivery_id not in self._held:
                continue  # finished meanwhile
            if delivery_id in kept:
                self._held[delivery_id] = kept[delivery_id]
            elif delivery_id not in self._lost:
                logger.warning(
                    "%s: delivery %s was taken over by another instance", self.channel, delivery_id
                )
                self._lost.add(delivery_id)

    async def recover(self, app: Any) -> int:
        """Take in spooled deliveries and those whose instance died; returns how many."""
        count = 0
        while spooled := await asyncio.to_thread(self.spool.pending, self.channel):
            for item in spooled:  # a database error stops here, and the flag stays up
                claimed = None
                if item.delivery_id not in self._held:
                    claimed = await self.store.aclaim(self.channel, item.delivery_id, item.payload)
                await asyncio.to_thread(self.spool.remove, item)
                if claimed is not None:
                    logger.info(
                        "%s: delivery %s moved from the local spool to the inbox",
                        self.channel,
                        item.delivery_id,
                    )
                    self._spawn(app, claimed)
                    count += 1
        self._spooling = False  # drained, including what arrived meanwhile
        for pending in await self.store.atake_abandoned(self.channel, self._held):
            logger.info(
                "%s: taking over unanswered delivery %s (attempt %d)",
                self.channel,
                pending.delivery_id,
                pending.attempt,
            )
            self._spawn(app, pending)
            count += 1
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_purge > PURGE_SECONDS:
            self._last_purge = loop.time()
            await asyncio.to_thread(self.store.purge_done)
        return count

    async def drain(self, timeout: float = 10.0) -> None:
        """Let running turns finish (server stopping); unfinished ones are recovered later."""
        if self._maintainer is not None:
            self._maintainer.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)


def describe(exc: BaseException) -> str:
    """An exception in one short line for the log: its type and first line.

    Never more: database errors list the statement's parameters on later lines.
    """
    first = (str(exc).strip().splitlines() or [""])[0][:160]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _is_outage(exc: BaseException) -> bool:
    # Expected while a server is away: no traceback needed in the log.
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, DBAPIError | TurnInterrupted | ConnectionError) or (
        type(exc).__name__ in ("LockError", "ConnectionError", "TimeoutError")
    )


def _agent_ready(app: Any) -> bool:
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    if agent is None:
        # Not a Rasa server (a test app): nothing to wait for.
        return not hasattr(getattr(app, "ctx", None), "agent")
    return bool(agent.is_ready())


async def conversation_language(app: Any, sender_id: str) -> str | None:
    """Read the conversation's language slot, for messages the channel sends by itself."""
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
