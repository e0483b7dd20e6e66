"""A Rasa event broker that turns each conversation turn into one monitoring row.

Why an event broker (``endpoints.yml``: ``event_broker``) rather than the tracker store's data
or the action server: Rasa hands the broker every new event of every conversation as it saves
the tracker, user messages with their parse (intent, language, channel), slots set and responses
uttered included, from one place and for every channel; the action server sees only the turns
that run a custom action, and reading the tracker store later means replaying conversations.
The cost is Rasa's: before it publishes, it reads the stored tracker to find the new events.

Events come one by one; a turn ends when the assistant listens again (``action_listen``), and
then it is read (``monitoring.events.read_turn``) and written by one worker thread, so a slow
database delays the monitoring, never a reply, and an error there is logged, never raised into
Rasa. The language and town the conversation already had are remembered per sender (in memory,
for the last ``MAX_SENDERS`` senders), because Rasa only publishes a slot when it changes.
"""

from __future__ import annotations

import logging
import queue
import threading
from asyncio import AbstractEventLoop
from collections import OrderedDict
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from bot.settings import get_settings
from monitoring.events import SLOT_CITY, SLOT_LANGUAGE, read_turn
from monitoring.store import MonitoringStore

logger = logging.getLogger(__name__)

MAX_SENDERS = 50_000
CARRIED_SLOTS = (SLOT_LANGUAGE, SLOT_CITY)
_STOP = object()


class MonitoringEventBroker(EventBroker):
    """Collects each sender's turn and records it in the monitoring tables."""

    def __init__(self, store: MonitoringStore | str):
        # A URL is opened by the worker on its first turn (and again after a failure), so a
        # database that is down when Rasa starts delays the monitoring, never the start.
        self._store = store if isinstance(store, MonitoringStore) else None
        self._url = store if isinstance(store, str) else None
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._carried: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._queue: queue.Queue[Any] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="monitoring", daemon=True)
        self._worker.start()

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig, event_loop: AbstractEventLoop | None = None
    ) -> MonitoringEventBroker:
        url = (broker_config.url if broker_config else None) or get_settings().database_url
        return cls(url)

    def publish(self, event: dict[str, Any]) -> None:
        try:
            self._collect(event)
        except Exception:  # the monitoring must never break a conversation
            logger.exception("monitoring: could not read an event")

    def _collect(self, event: dict[str, Any]) -> None:
        sender = str(event.get("sender_id") or "")
        kind = event.get("event")
        if kind == "slot" and event.get("name") in CARRIED_SLOTS:
            carried = self._carried.setdefault(sender, {})
            self._carried.move_to_end(sender)
            if len(self._carried) > MAX_SENDERS:
                self._carried.popitem(last=False)
            carried[str(event["name"])] = event.get("value")
            if sender in self._pending:  # the turn also reads it as set in the turn
                self._pending[sender].append(event)
            return
        if kind == "user":
            self._finish(sender)
            self._pending[sender] = [{"_carried": dict(self._carried.get(sender, {}))}, event]
            return
        if sender not in self._pending:
            return
        if kind == "action" and event.get("name") == "action_listen":
            self._finish(sender)
        elif kind in ("restart", "session_started"):
            self._pending.pop(sender, None)
        else:
            self._pending[sender].append(event)

    @property
    def store(self) -> MonitoringStore:
        if self._store is None:
            assert self._url is not None
            self._store = MonitoringStore(self._url)
        return self._store

    def _finish(self, sender: str) -> None:
        events = self._pending.pop(sender, None)
        if not events:
            return
        carried = events[0].get("_carried") or {}
        turn = read_turn(events[1:], carried)
        if turn is not None:
            self._queue.put((sender, turn))

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                sender, turn = item
                self.store.record(sender, turn)
            except Exception:
                logger.exception("monitoring: could not record a turn")
            finally:
                self._queue.task_done()

    def flush(self) -> None:
        """Wait until every finished turn is written (tests, shutdown)."""
        self._queue.join()

    async def close(self) -> None:
        self._queue.put(_STOP)
        self._worker.join(timeout=10)
