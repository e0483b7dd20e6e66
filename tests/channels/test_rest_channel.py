"""The closed REST channel (``channels/rest.py``): what the body may and may not decide."""

from __future__ import annotations

import dataclasses
import json
import logging

import pytest
from channel_harness import serve

from bot.settings import get_settings
from channels.rest import RestInput

TOKEN = "api-token-for-tests"


async def _served(store, **settings_changes):
    settings = dataclasses.replace(get_settings(), **settings_changes)
    return await serve(RestInput(settings), store)


@pytest.fixture
async def rest(store):
    served, stop = await _served(store, rasa_auth_token=None)
    yield served
    await stop()


async def post(served, body=None, raw=None, params=None, headers=None):
    data = raw if raw is not None else json.dumps(body).encode()
    async with served.http.post(
        served.url + "webhook",
        data=data,
        params=params,
        headers={"Content-Type": "application/json", **(headers or {})},
    ) as resp:
        return resp.status, await resp.json(content_type=None)


def test_credentials_use_the_closed_channel():
    from rasa.shared.utils.io import read_yaml_file

    from bot.settings import PROJECT_ROOT

    channels = read_yaml_file(PROJECT_ROOT / "credentials.yml")
    assert "channels.rest.RestInput" in channels and "rest" not in channels


async def test_a_message_is_answered_as_rasa_s_rest_channel_does(rest):
    status, replies = await post(rest, {"sender": "me", "message": "hello"})
    assert status == 200
    assert replies == [{"recipient_id": "me", "text": "echo: hello"}]


async def test_input_channel_and_metadata_from_the_body_are_ignored(rest):
    status, _ = await post(
        rest,
        {
            "sender": "me",
            "message": "hello",
            "input_channel": "telegram",
            "metadata": {"country_code": "+39", "language_hint": "ar"},
        },
    )
    assert status == 200
    message = rest.bot.received[0]
    assert (message.input_channel, message.metadata) == ("rest", None)


@pytest.mark.parametrize("sender", ["wa-3f2a9c", "tg-0011aa", "web-abc123", "WA-3f2a9c"])
async def test_other_channels_people_cannot_be_spoken_for(rest, sender):
    status, data = await post(rest, {"sender": sender, "message": "hello"})
    assert (status, data["error"]) == (403, "reserved_sender")
    assert rest.bot.received == []


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"message": "hi"}, 400, "bad_sender"),
        ({"sender": 5, "message": "hi"}, 400, "bad_sender"),
        ({"sender": "", "message": "hi"}, 400, "bad_sender"),
        ({"sender": "x" * 129, "message": "hi"}, 400, "bad_sender"),
        ({"sender": "a\nb", "message": "hi"}, 400, "bad_sender"),
        ({"sender": "me"}, 400, "bad_message"),
        ({"sender": "me", "message": ["hi"]}, 400, "bad_message"),
        ({"sender": "me", "message": "x" * 4097}, 400, "text_too_long"),
    ],
)
async def test_bad_bodies_get_4xx(rest, body, status, code):
    got, data = await post(rest, body)
    assert (got, data["error"]) == (status, code)
    assert data["message"]
    assert rest.bot.received == []


async def test_a_message_of_the_maximum_length_is_taken(rest):
    status, _ = await post(rest, {"sender": "me", "message": "x" * 4096})
    assert status == 200 and len(rest.bot.received[0].text) == 4096


async def test_with_a_token_configured_it_is_required(store):
    served, stop = await _served(store, rasa_auth_token=TOKEN)
    try:
        body = {"sender": "me", "message": "hello"}
        status, data = await post(served, body)
        assert (status, data["error"]) == (401, "token_required")
        assert (await post(served, body, params={"token": "wrong"}))[0] == 401
        assert (await post(served, body, params={"token": TOKEN}))[0] == 200
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert (await post(served, body, headers=bearer))[0] == 200
        assert len(served.bot.received) == 2
    finally:
        await stop()


async def test_a_failed_turn_is_logged_without_its_text(store, caplog):
    class FailingBot:
        async def __call__(self, message):
            raise RuntimeError("the dialogue failed")

    caplog.set_level(logging.DEBUG)
    served, stop = await serve(
        RestInput(dataclasses.replace(get_settings(), rasa_auth_token=None)),
        store,
        bot=FailingBot(),
    )
    try:
        secret = "my name is Fatima and my number is +393331234567"
        status, replies = await post(served, {"sender": "me", "message": secret})
    finally:
        await stop()
    assert (status, replies) == (200, [])
    assert "rest: the message of me failed" in caplog.text
    assert "Fatima" not in caplog.text and "+39333" not in caplog.text
