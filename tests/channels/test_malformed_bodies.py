"""Every channel endpoint answers malformed bodies with a 4xx, in-process (``malformed.py``).

The same table against the whole running assistant, Rasa's HTTP API included, is
``test_malformed_input_e2e.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from channel_fakes import AUTH_TOKEN, WEBHOOK_SECRET
from channel_harness import serve
from malformed import ALL, BODIES, HUGE_BYTES, WRONG_TYPES
from twilio.request_validator import RequestValidator

from bot.settings import get_settings
from channels.desk import MediatorDeskInput
from channels.rest import RestInput
from channels.webchat import WebChatInput
from channels.whatsapp import MAX_BODY_BYTES as WHATSAPP_MAX_BODY_BYTES


async def _post(served, path, raw, headers=None):
    async with served.http.post(
        served.url + path, data=raw, headers={"Content-Type": "application/json", **(headers or {})}
    ) as resp:
        await resp.read()
        return resp.status


def _assert_refused(name, status):
    assert 400 <= status < 500, f"{name}: {status}"
    if name == "huge":
        assert status == 413


@pytest.fixture
async def rest(store):
    settings = dataclasses.replace(get_settings(), rasa_auth_token=None)
    served, stop = await serve(RestInput(settings), store)
    yield served
    await stop()


@pytest.fixture
async def webchat(runtime, store):
    served, stop = await serve(WebChatInput(runtime=runtime), store)
    yield served
    await runtime.relay.stop()
    await stop()


@pytest.fixture
async def desk(runtime, store):
    served, stop = await serve(MediatorDeskInput(runtime=runtime), store)
    yield served
    await stop()


@pytest.mark.parametrize("name", ALL)
async def test_rest(rest, name):
    _assert_refused(name, await _post(rest, "webhook", ALL[name]))
    assert rest.bot.received == []


@pytest.mark.parametrize("name", ALL)
async def test_webchat(webchat, name):
    _assert_refused(name, await _post(webchat, "webhook", ALL[name]))
    assert webchat.bot.received == []


@pytest.mark.parametrize("name", ALL)
async def test_desk(desk, runtime, name):
    ticket = await asyncio.to_thread(
        lambda: runtime.handoff.request("web-p1", "webchat", "en", "request").ticket
    )
    sara = await asyncio.to_thread(runtime.handoff.store.mediators.add, "Sara", ["en"])
    await asyncio.to_thread(runtime.handoff.claim, ticket.id, sara)
    async with desk.http.post(desk.url + "api/signin", json={"name": "Sara"}) as resp:
        headers = {"X-Desk-Session": (await resp.json())["session"]}
    for path in (
        "api/signin",
        f"api/tickets/{ticket.id}/messages",
        f"api/tickets/{ticket.id}/notes",
        f"api/tickets/{ticket.id}/transfer",
    ):
        status = await _post(desk, path, ALL[name], headers)
        if name == "empty" and path.endswith(("messages", "notes")):
            assert status == 400, path  # no text
        elif name in WRONG_TYPES or name == "empty":
            assert 400 <= status < 500, (path, status)
        else:
            _assert_refused(name, status)
    assert [m.author for m in runtime.handoff.store.transcripts.messages(ticket.id)] == []
    assert runtime.handoff.store.tickets.get(ticket.id).status == "claimed"


@pytest.mark.parametrize("name", ALL)
async def test_telegram(telegram, name):
    status = await _post(
        telegram, "webhook", ALL[name], {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    )
    if name in WRONG_TYPES:
        # A JSON object that is no Update: acknowledged and ignored, as Telegram expects.
        assert status == 200
    else:
        _assert_refused(name, status)
    await asyncio.sleep(0.05)
    assert telegram.bot.received == []


@pytest.mark.parametrize("name", ALL)
async def test_whatsapp(whatsapp, name):
    url = whatsapp.url + "webhook"
    raw = ALL[name]
    unsigned = await _post(
        whatsapp, "webhook", raw, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    if len(raw) > WHATSAPP_MAX_BODY_BYTES:
        assert unsigned == 413
    else:
        assert unsigned == 403
        # Signed by Twilio but not a message: acknowledged (Twilio does not redeliver) and
        # ignored.
        from urllib.parse import parse_qsl

        params = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
        signed = await _post(
            whatsapp,
            "webhook",
            raw,
            {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        )
        assert signed == 200
    await asyncio.sleep(0.05)
    assert whatsapp.bot.received == []


def test_the_table_is_what_the_issue_lists():
    assert {
        "empty",
        "list",
        "string",
        "number",
        "null",
        "10,000-deep list",
        "huge",
        "bad utf-8",
    } <= set(BODIES)
    assert len(BODIES["huge"]) > HUGE_BYTES
