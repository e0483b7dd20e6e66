"""The relay worker runs with every server Rasa builds, sends through the channels' port, and
stops with the server (``channels.relay_worker``), whichever channels are served."""

from __future__ import annotations

import asyncio

import rasa.core.run
from channel_fakes import free_port
from sanic import Sanic

from handoff.gate import get_runtime
from handoff.records import Outgoing

GROUP = "-1001234567890"


async def test_a_rasa_server_runs_the_relay_and_stops_it(channel_env, telegram_api, monkeypatch):
    from channels.relay_worker import relay_with_every_server

    monkeypatch.setattr(rasa.core.run, "configure_app", rasa.core.run.configure_app)
    relay_with_every_server()
    relay_with_every_server()  # twice: still one worker
    Sanic.test_mode = True
    app = rasa.core.run.configure_app([], enable_api=False)  # no channel at all
    server = await app.create_server(
        host="127.0.0.1", port=free_port(), return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.before_start()
    await server.after_start()
    relay = get_runtime().relay
    try:
        worker = relay._task
        assert worker is not None and not worker.done()
        # Queued by another process (the action server): the worker finds it and sends it.
        relay.store.outbox.queue(
            [Outgoing("test:card", "telegram", GROUP, {"kind": "card", "text": "Ticket #1 waits"})]
        )
        (sent,) = await telegram_api.wait_for("sendMessage", 1)
        assert (int(sent["chat_id"]), sent["text"]) == (int(GROUP), "Ticket #1 waits")
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
    assert relay._task is None and worker.done()


async def test_without_a_port_the_relay_leaves_the_outbox_alone(channel_env, telegram_api):
    relay = get_runtime().relay
    relay.store.outbox.queue(
        [Outgoing("test:card", "telegram", GROUP, {"kind": "card", "text": "…"})]
    )
    relay.wake()
    await relay.flush()
    assert await relay.drain() == 0
    await asyncio.sleep(0.2)
    assert relay._task is None and telegram_api.methods("sendMessage") == []
    (row, state) = relay.store.outbox.rows("telegram", GROUP)[0]
    assert state == "pending"
