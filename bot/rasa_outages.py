"""What Rasa 3.6 does when the database or the action server is away, and what it does here.

Rasa turns both outages into a silent wrong answer:

- **Database.** Rasa wraps the tracker store in ``FailSafeTrackerStore``: a conversation that
  cannot be read is answered as a new, empty one, and a turn that cannot be saved goes to an
  in-memory store and is lost. :func:`strict_tracker_store` removes that wrapper, so the turn
  fails; the channel's inbox retries it once the database answers (``channels.inbox``).
- **Action server.** A custom action that cannot be reached is logged and skipped ("Bot will
  continue, but the actions events are lost"): the person gets half an answer and the
  conversation is saved without it. :func:`patient_remote_actions` waits for the action
  server instead (``bot run`` restarts a dead one within seconds), and if it stays away, a turn
  the inbox can retry is interrupted (:class:`TurnInterrupted`) before anything is saved. Other
  turns (REST, web chat) keep Rasa's behaviour after the wait.

``app.rasa_main`` applies both before Rasa starts.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import Any

logger = logging.getLogger(__name__)

ACTION_SERVER_WAIT_SECONDS = 20.0

# Set by the channels' inbox around a turn it will retry if the turn is interrupted.
RETRYABLE_TURN: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "retryable_turn", default=False
)


class TurnInterrupted(BaseException):
    """The turn cannot go on now; nothing of it is saved and the inbox runs it again later.

    A BaseException because Rasa runs every action inside ``except Exception``, which would
    swallow it and carry on with a half answer.
    """


def strict_tracker_store() -> None:
    """Give Rasa's agent the configured tracker store itself, without the in-memory fallback."""
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import InMemoryTrackerStore

    if getattr(Agent, "_strict_tracker_store", False):
        return

    def _create_tracker_store(store: Any, domain: Any) -> Any:
        if store is None:
            return InMemoryTrackerStore(domain)
        store.domain = domain
        return store

    Agent._create_tracker_store = staticmethod(_create_tracker_store)  # type: ignore[method-assign]
    Agent._strict_tracker_store = True  # type: ignore[attr-defined]


def patient_remote_actions(wait_seconds: float | None = None) -> None:
    """Make a custom action wait for an unreachable action server (see the module docstring).

    Only a connection that failed or broke counts; an action that answered with an error is
    Rasa's to handle. Calling an action again after a broken connection is safe here: the
    actions read the knowledge base and the conversation, or open the person's one ticket,
    which a second call finds already open.
    """
    import aiohttp
    from rasa.core.actions.action import RemoteAction

    if getattr(RemoteAction, "_patient", False):
        return
    rasa_run = RemoteAction.run

    async def run(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (
            ACTION_SERVER_WAIT_SECONDS if wait_seconds is None else wait_seconds
        )
        delay = 0.25
        while True:
            try:
                return await rasa_run(self, *args, **kwargs)
            except Exception as exc:
                # Rasa raises its own exception while handling aiohttp's (its __context__).
                if not isinstance(exc.__cause__ or exc.__context__, aiohttp.ClientConnectionError):
                    raise  # the action itself failed: Rasa's handling
                if loop.time() + delay > deadline:
                    if RETRYABLE_TURN.get():
                        raise TurnInterrupted(
                            f"action server unreachable for '{self.name()}'"
                        ) from exc
                    raise
                logger.warning(
                    "action server unreachable for '%s'; trying again in %.1f s", self.name(), delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 4.0)

    RemoteAction.run = run  # type: ignore[method-assign]
    RemoteAction._patient = True  # type: ignore[attr-defined]
