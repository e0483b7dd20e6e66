"""Rasa on an outage: no answer from an empty conversation, no half answer without actions."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_outages
from bot.rasa_outages import RETRYABLE_TURN, TurnInterrupted


@pytest.fixture
def patched(monkeypatch):
    """Apply the fixes for one test; monkeypatch puts Rasa back afterwards."""
    monkeypatch.setattr(Agent, "_create_tracker_store", Agent.__dict__["_create_tracker_store"])
    monkeypatch.setattr(Agent, "_strict_tracker_store", False, raising=False)
    monkeypatch.setattr(RemoteAction, "run", RemoteAction.run)
    monkeypatch.setattr(RemoteAction, "_patient", False, raising=False)
    rasa_outages.strict_tracker_store()
    rasa_outages.patient_remote_actions(wait_seconds=1.0)


def test_rasa_alone_would_answer_from_an_empty_conversation():
    store = InMemoryTrackerStore(Domain.empty())
    assert isinstance(Agent._create_tracker_store(store, Domain.empty()), FailSafeTrackerStore)


def test_the_agent_gets_the_tracker_store_itself(patched):
    store = InMemoryTrackerStore(Domain.empty())
    assert Agent._create_tracker_store(store, Domain.empty()) is store


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run_action(port: int):
    action = RemoteAction(
        "action_answer_service", EndpointConfig(f"http://127.0.0.1:{port}/webhook")
    )
    return await action.run(
        CollectingOutputChannel(),
        TemplatedNaturalLanguageGenerator({}),
        DialogueStateTracker("someone", []),
        Domain.empty(),
    )


async def serve_actions(port: int) -> web.AppRunner:
    async def webhook(_: web.Request) -> web.Response:
        return web.json_response({"events": [], "responses": [{"text": "the answer"}]})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def test_an_action_waits_for_the_action_server_to_come_back(patched):
    port = free_port()
    started = asyncio.get_running_loop().create_task(asyncio.sleep(0.4))
    call = asyncio.ensure_future(run_action(port))
    await started
    runner = await serve_actions(port)  # bot run restarted it
    try:
        events = await call
        assert [e.text for e in events] == ["the answer"]
    finally:
        await runner.cleanup()


async def test_an_inbox_turn_is_interrupted_when_the_action_server_stays_away(patched):
    token = RETRYABLE_TURN.set(True)
    try:
        with pytest.raises(TurnInterrupted):
            await run_action(free_port())
    finally:
        RETRYABLE_TURN.reset(token)


async def test_other_turns_get_rasas_own_error_after_the_wait(patched):
    with pytest.raises(RasaException):
        await run_action(free_port())
