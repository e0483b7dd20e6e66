"""The request guard on Rasa's own app (``bot/api_guard.py``), without a model.

Rasa's ``create_app`` with no agent: a body the guard lets through reaches Rasa's handler, which
answers 409 ("no agent loaded"); everything the guard refuses never gets that far. The same
bodies against the real server with a model are in ``tests/test_malformed_input.py``.
"""

from __future__ import annotations

import dataclasses
import json
import uuid

import aiohttp
import pytest
from sanic import Sanic

from bot import api_guard
from bot.settings import get_settings
from tests.stack import free_port

Sanic.test_mode = True
TOKEN = "guard-token"


async def _serve(auth_token: str | None, **settings_changes):
    import rasa.server

    settings = dataclasses.replace(get_settings(), max_request_bytes=64 * 1024, **settings_changes)
    app = rasa.server.create_app(auth_token=auth_token)
    app.name = f"guard{uuid.uuid4().hex}"
    api_guard.install(app, auth_token, settings)
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.before_start()
    await server.after_start()

    async def stop() -> None:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()

    return f"http://127.0.0.1:{port}", stop


@pytest.fixture
async def api():
    base, stop = await _serve(None)
    async with aiohttp.ClientSession() as http:
        yield base, http
    await stop()


async def call(api, method, path, raw=b"", headers=None):
    base, http = api
    async with http.request(
        method,
        base + path,
        data=raw,
        headers={"Content-Type": "application/json", **(headers or {})},
    ) as resp:
        return resp.status, await resp.json(content_type=None)


@pytest.mark.parametrize(
    "body",
    [
        {"text": "hello"},
        {"text": "hello", "message_id": "m1"},
        {"text": ""},
    ],
)
async def test_a_good_parse_body_reaches_rasa(api, body):
    status, data = await call(api, "POST", "/model/parse", json.dumps(body).encode())
    assert status == 409, data  # Rasa: no model loaded; the guard let it through


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"[]",
        b'"a string"',
        b"5",
        b"null",
        b"{oops",
        b"\xff\xfe{}",
        b"[" * 10_000 + b"]" * 10_000,
        json.dumps({"text": 5}).encode(),
        json.dumps({"text": ["hello"]}).encode(),
        json.dumps({"text": "x" * 4097}).encode(),
        json.dumps({"text": "hi", "message_id": 7}).encode(),
        b'{"text": "hi", "deep": ' + b"[" * 40 + b"]" * 40 + b"}",
    ],
)
async def test_malformed_parse_bodies_get_400_in_rasa_s_format(api, raw):
    status, data = await call(api, "POST", "/model/parse", raw)
    assert status == 400, data
    assert data["status"] == "failure" and data["reason"] == "BadRequest" and data["message"]


@pytest.mark.parametrize(
    "path, body",
    [
        ("/conversations/c1/messages", {"text": "hi"}),  # no sender
        ("/conversations/c1/messages", {"text": 5, "sender": "user"}),
        ("/conversations/c1/messages", {"text": "hi", "sender": "user", "parse_data": []}),
        (
            "/conversations/c1/messages",
            {"text": "hi", "sender": "user", "parse_data": {"intent": "greet"}},
        ),
        (
            "/conversations/c1/messages",
            {"text": "hi", "sender": "user", "parse_data": {"entities": [1]}},
        ),
        ("/conversations/c1/trigger_intent", {"entities": []}),
        ("/conversations/c1/trigger_intent", {"name": "greet", "entities": "city"}),
        ("/conversations/c1/trigger_intent", {"name": "greet", "entities": [{"value": 1}]}),
        ("/conversations/c1/execute", {"name": ["utter_greet"]}),
        ("/conversations/c1/execute", {"name": "utter_greet", "confidence": "high"}),
        ("/conversations/c1/tracker/events", {"event": "no_such_event"}),
        ("/conversations/c1/tracker/events", [{"event": "user", "text": "hi"}]),  # Rasa: 500
        ("/conversations/c1/tracker/events", [{"event": "slot", "name": "x", "value": 1}, 5]),
        ("/conversations/c1/tracker/events", {"event": "slot", "name": "x", "timestamp": "now"}),
        ("/model/predict", []),
    ],
)
async def test_wrong_shapes_and_types_get_400(api, path, body):
    status, data = await call(api, "POST", path, json.dumps(body).encode())
    assert status == 400, data


async def test_good_api_bodies_reach_rasa(api):
    for path, body in [
        ("/conversations/c1/messages", {"text": "hi", "sender": "user"}),
        ("/conversations/c1/trigger_intent", {"name": "greet", "entities": {"city": "Bari"}}),
        (
            "/conversations/c1/tracker/events",
            [
                {
                    "event": "user",
                    "text": "hi",
                    "parse_data": {"intent": {"name": "greet", "confidence": 1.0}, "entities": []},
                }
            ],
        ),
        ("/conversations/c1/tracker/events", {"event": "slot", "name": "city", "value": "Bari"}),
    ]:
        status, data = await call(api, "POST", path, json.dumps(body).encode())
        assert status == 409, (path, data)


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/model/train"),
        ("POST", "/model/test/stories"),
        ("POST", "/model/test/intents"),
        ("PUT", "/model"),
        ("DELETE", "/model"),
    ],
)
async def test_model_management_is_closed(api, method, path):
    status, data = await call(api, method, path, b"{}")
    assert status == 404 and data["message"] == "This route is closed on this server."


async def test_a_body_over_the_cap_is_refused_with_json_413(api):
    status, data = await call(api, "POST", "/model/parse", b'{"text": "' + b"x" * 70_000 + b'"}')
    assert status == 413
    assert data == {
        "error": "request_entity_too_large",
        "message": "The request body is over 65536 bytes.",
    }


async def test_sanic_s_own_errors_are_json(api):
    assert await call(api, "GET", "/no/such/route") == (
        404,
        {"error": "not_found", "message": "Not Found."},
    )


async def test_without_the_token_rasa_answers_401_whatever_the_body():
    base, stop = await _serve(TOKEN)
    try:
        async with aiohttp.ClientSession() as http:
            api = (base, http)
            assert (await call(api, "POST", "/model/parse", b"[]"))[0] == 401
            assert (await call(api, "POST", "/model/parse?token=" + TOKEN, b"[]"))[0] == 400
            good = json.dumps({"text": "hi"}).encode()
            assert (await call(api, "POST", "/model/parse?token=" + TOKEN, good))[0] == 409
    finally:
        await stop()
