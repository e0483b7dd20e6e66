"""The one owner of the handoff relay worker: it starts with Rasa's server and stops with it.

The relay (``handoff.relay.Relay``) sends the handoff outbox through an outbound port but
imports no channel; something above both must build the port and hand it over. That is this
module, and only this module: :func:`serve_relay` adds two listeners to a Sanic app, one that
starts the worker of the process's runtime (``handoff.gate.get_runtime``) with a
:class:`channels.outbound.ChannelOutbound` once the server is up, one that lets it finish its
round and closes the port's HTTP clients when the server stops.

:func:`relay_with_every_server` makes every app Rasa's ``configure_app`` builds (``rasa run``,
``bot run``, whichever channels ``credentials.yml`` lists) get those listeners; the entry point
that starts Rasa calls it once. Without a port, the relay sends nothing: the process that owns
one (polling the shared outbox) does, so an action server or a CLI never needs Twilio or
Telegram credentials.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

logger = logging.getLogger(__name__)


def serve_relay(app: Any) -> None:
    """Run this process's relay worker while ``app`` serves."""
    from channels.outbound import ChannelOutbound
    from handoff.gate import get_runtime

    async def start(app: Any, _: Any) -> None:
        try:
            get_runtime().relay.start(ChannelOutbound())
        except Exception:  # the database is down: the relay must not keep the server down
            logger.exception("handoff: the relay could not start; queued messages wait")

    async def stop(app: Any, _: Any) -> None:
        relay = get_runtime().relay
        outbound = relay.outbound
        await relay.stop()
        if outbound is not None:
            await outbound.aclose()

    app.register_listener(start, "after_server_start")
    app.register_listener(stop, "before_server_stop")


def relay_with_every_server() -> None:
    """Make every Sanic app that Rasa configures run the relay worker (idempotent)."""
    import rasa.core.run

    configure = rasa.core.run.configure_app
    if getattr(configure, "_serves_relay", False):
        return

    @functools.wraps(configure)
    def configure_app(*args: Any, **kwargs: Any) -> Any:
        app = configure(*args, **kwargs)
        serve_relay(app)
        return app

    configure_app._serves_relay = True  # type: ignore[attr-defined]
    rasa.core.run.configure_app = configure_app
