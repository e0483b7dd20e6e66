"""Who forgets what when a person asks "delete my data": the erasure hooks, wired here.

The tracker store (``app.tracker_store``) erases the conversation itself; the rest of what is
kept about a person belongs to higher floors: the channel address and inbox (``channels``) and
the mediator tickets, transcripts, files and outbox (``handoff``), the monitoring rows
(``monitoring``). The store does not import them: it
calls every hook registered here, in order, each ``hook(sender_id, database_url)`` in a worker
thread. A hook that fails is logged and the next one still runs, so one broken store does not
keep the others' data. :func:`register_default_hooks` registers this project's four, and is
called by the tracker store when Rasa creates it, so no other start-up code has to remember it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

# ``hook(sender_id, database_url)``: erase what one store keeps about that sender. Blocking.
ErasureHook = Callable[[str, str], None]

_hooks: list[tuple[str, ErasureHook]] = []


def register(what: str, hook: ErasureHook) -> None:
    """Add ``hook``, named ``what`` in the log if it fails; a name registered twice counts once."""
    if all(name != what for name, _ in _hooks):
        _hooks.append((what, hook))


def registered() -> list[tuple[str, ErasureHook]]:
    """The hooks, in the order they run."""
    return list(_hooks)


def forget_channel_address(sender_id: str, database_url: str) -> None:
    """The person's channel address and inbox rows (``channels.store``)."""
    from channels.store import get_store

    get_store(database_url).forget(sender_id)


def forget_handoff(sender_id: str, database_url: str) -> None:
    """Tickets and transcripts; an open ticket is closed and its mediator told.

    Runs after the confirmation was sent (Rasa sends a turn's replies before it saves), so the
    address is still there for that last reply. The relay is woken to tell the mediator now,
    whether or not the erasure succeeded.
    """
    from handoff.gate import get_runtime

    runtime = get_runtime(database_url)
    try:
        runtime.handoff.erase(sender_id)
    finally:
        runtime.relay.wake()


def forget_handoff_files(sender_id: str, database_url: str) -> None:
    """Files the person sent in a hand-off, and the delivery reports of messages to them."""
    from handoff import delivery, media

    media.erase_person(sender_id, database_url)
    delivery.erase_person(sender_id, database_url)


def forget_monitoring(sender_id: str, database_url: str) -> None:
    """The person's rows in the monitoring turns and the unanswered queue (``monitoring``)."""
    from monitoring.store import MonitoringStore

    store = MonitoringStore(database_url)
    try:
        store.forget(sender_id)
    finally:
        store.engine.dispose()


def register_default_hooks() -> None:
    """The channel address, then the hand-off (as before the hooks existed), then the rest."""
    register("channel address", forget_channel_address)
    register("mediator tickets", forget_handoff)
    register("hand-off files", forget_handoff_files)
    register("monitoring rows", forget_monitoring)


async def erase_identifiers(sender_id: str, database_url: str) -> None:
    """Run every registered hook for ``sender_id``; log, never raise, what fails."""
    for what, hook in registered():
        try:
            await asyncio.to_thread(hook, sender_id, database_url)
        except Exception:
            logger.exception("could not erase the %s of %s", what, sender_id)
