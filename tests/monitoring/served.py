"""The dashboard channel served on 127.0.0.1 from a thread, as Rasa registers it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sanic import Sanic

from bot.settings import get_settings
from channels.desk import access_error
from monitoring.store import MonitoringStore
from monitoring.web import DashboardInput
from tests.stack import free_port

Sanic.test_mode = True


@contextmanager
def dashboard(store: MonitoringStore, token: str | None = None) -> Iterator[str]:
    """Serve the dashboard of ``store``; yield its base URL (ending in /)."""
    settings = dataclasses.replace(
        get_settings(), mediator_desk_token=token, database_url=str(store.engine.url)
    )
    channel = DashboardInput(access=access_error, store=store, settings=settings)
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def start() -> None:
        app = Sanic(f"t{uuid.uuid4().hex}")
        app.blueprint(channel.blueprint(lambda _: None), url_prefix="/webhooks/monitoring")
        server = await app.create_server(
            host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
        )
        await server.startup()
        await server.before_start()
        await server.after_start()
        state["server"] = server
        ready.set()

    async def stop() -> None:
        server = state["server"]
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop)
    assert ready.wait(30), "the dashboard did not start"
    try:
        yield f"http://127.0.0.1:{port}/webhooks/monitoring/"
    finally:
        asyncio.run_coroutine_threadsafe(stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read().decode()
            status = answer.status
    except urllib.error.HTTPError as error:
        body, status = error.read().decode(), error.code
    try:
        return status, json.loads(body)
    except json.JSONDecodeError:
        return status, body
