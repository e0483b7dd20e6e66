"""The local web chat's own channel: REST-compatible, quiet during a handoff, polled for replies."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from channel_harness import serve

from channels import sessions
from channels.webchat import WebChatInput

PERSON = "web-abc123"


@pytest.fixture
async def webchat(runtime, store):
    served, stop = await serve(WebChatInput(runtime=runtime), store)
    yield served
    await runtime.relay.stop()  # the gate's wake() started it
    await stop()


def session_of(sender):
    """The session the server would have given this sender (POST session)."""
    return {"X-Webchat-Session": sessions.issue(sessions.WEBCHAT, sender, 60)}


async def post(webchat, body, raw=None, headers=None):
    data = raw if raw is not None else json.dumps(body).encode()
    sender = body.get("sender") if isinstance(body, dict) else None
    sent = {
        "Content-Type": "application/json",
        **(session_of(sender) if isinstance(sender, str) and headers is None else {}),
        **(headers or {}),
    }
    async with webchat.http.post(webchat.url + "webhook", data=data, headers=sent) as resp:
        return resp.status, await resp.json(content_type=None)


async def poll(webchat, sender=PERSON, after=0, headers=None):
    async with webchat.http.get(
        webchat.url + "messages",
        params={"sender": sender, "after": str(after)},
        headers=session_of(sender) if headers is None else headers,
    ) as resp:
        return resp.status, await resp.json(content_type=None)


def in_handoff(runtime, person=PERSON):
    """A web chat person whose ticket Sara holds."""
    ticket = runtime.handoff.request(person, "webchat", "en", "request").ticket
    sara = runtime.handoff.store.mediators.add("Sara", ["en"])
    runtime.handoff.claim(ticket.id, sara)
    return ticket, sara


async def test_the_page_posts_to_this_channel_and_polls_it(webchat):
    async with webchat.http.get(webchat.url) as resp:
        page = await resp.text()
    assert resp.status == 200
    assert "/webhooks/webchat/" in page and '"webhook"' in page and '"messages?sender="' in page
    assert '"session"' in page and "X-Webchat-Session" in page and "Math.random" not in page
    assert "/webhooks/rest/" not in page


async def test_outside_a_handoff_it_answers_like_the_rest_channel(webchat):
    status, replies = await post(webchat, {"sender": PERSON, "message": "options"})
    assert status == 200
    assert replies[0]["recipient_id"] == PERSON
    assert replies[0]["text"] == "Where do you live?"
    assert replies[0]["buttons"][0] == {"title": "Bari", "payload": '/inform{"city": "Bari"}'}
    message = webchat.bot.received[0]
    assert (message.sender_id, message.input_channel) == (PERSON, "webchat")


async def test_in_a_handoff_the_bot_is_quiet_and_the_message_joins_the_ticket(
    webchat, runtime, handoff_store
):
    ticket, _ = await asyncio.to_thread(in_handoff, runtime)

    status, replies = await post(webchat, {"sender": PERSON, "message": "is anyone there?"})
    assert (status, replies) == (200, [])
    assert webchat.bot.received == []
    said = [(m.author, m.text) for m in handoff_store.transcripts.messages(ticket.id)]
    assert said[-1] == ("person", "is anyone there?")


async def test_a_mediator_reply_is_fetched_once(webchat, runtime, handoff_store):
    ticket, sara = await asyncio.to_thread(in_handoff, runtime)
    status, data = await poll(webchat)
    assert status == 200
    assert [m["kind"] for m in data["messages"]] == ["notice"]  # "Sara has joined"
    assert "Sara" in data["messages"][0]["text"]
    after = data["after"]

    await asyncio.to_thread(runtime.handoff.reply, ticket.id, sara, "Hello, I am Sara", "k1")
    status, data = await poll(webchat, after=after)
    assert [(m["kind"], m["text"]) for m in data["messages"]] == [("relay", "Hello, I am Sara")]
    row_id = data["messages"][0]["id"]
    assert data["after"] == row_id
    assert (
        dict((r.id, state) for r, state in handoff_store.outbox.rows("webchat", PERSON))[row_id]
        == "sent"
    )

    # Once: the next poll, from where the page got to, has nothing new.
    status, data = await poll(webchat, after=data["after"])
    assert (status, data["messages"]) == (200, [])
    # Another person's page sees none of it.
    status, data = await poll(webchat, sender="web-someoneelse")
    assert data["messages"] == []


async def test_after_closing_the_rating_question_comes_and_its_button_is_taken(
    webchat, runtime, handoff_store
):
    ticket, sara = await asyncio.to_thread(in_handoff, runtime)
    await asyncio.to_thread(runtime.handoff.close, ticket.id, sara)
    _, data = await poll(webchat)
    question = data["messages"][-1]
    assert "from 1 (not at all) to 5 (very)" in question["text"]
    assert question["buttons"][4] == {"title": "5", "payload": "/handoff_rating 5"}

    status, replies = await post(webchat, {"sender": PERSON, "message": "/handoff_rating 5"})
    assert (status, replies) == (200, [])
    assert handoff_store.tickets.get(ticket.id).rating == 5
    # The bot is back for what comes next.
    status, replies = await post(webchat, {"sender": PERSON, "message": "hello"})
    assert [r["text"] for r in replies] == ["echo: hello"]


@pytest.mark.parametrize(
    "body, code",
    [
        ({"sender": "wa-123", "message": "hi"}, "bad_sender"),  # not a web chat person
        ({"sender": "web-" + "x" * 40, "message": "hi"}, "bad_sender"),
        ({"message": "hi"}, "bad_sender"),
        ({"sender": PERSON, "message": 5}, "bad_message"),
        ({"sender": PERSON, "message": "x" * 5000}, "text_too_long"),
    ],
)
async def test_bad_requests_get_400(webchat, body, code):
    status, data = await post(webchat, body)
    assert (status, data["error"]) == (400, code)
    assert webchat.bot.received == []


async def test_malformed_json_gets_400(webchat):
    status, data = await post(webchat, None, raw=b"{oops")
    assert (status, data["error"]) == (400, "bad_json")
    status, data = await poll(webchat, sender="nobody")
    assert (status, data["error"]) == (400, "bad_sender")
    status, data = await poll(webchat, after="-1")
    assert (status, data["error"]) == (400, "bad_after")


async def test_a_turn_that_fails_before_any_answer_is_a_503_not_an_empty_200(webchat):
    # "crash": the scripted bot raises, as Rasa does when the database or Redis is away.
    status, body = await post(webchat, {"sender": PERSON, "message": "crash"})
    assert status == 503 and body["error"] == "unavailable"


async def test_a_conversation_starts_with_an_unguessable_id_and_its_session(webchat):
    async with webchat.http.post(webchat.url + "session") as resp:
        first = await resp.json()
    async with webchat.http.post(webchat.url + "session") as resp:
        second = await resp.json()
    assert first["sender"] != second["sender"]
    assert re.fullmatch(r"web-[A-Za-z0-9_-]{32}", first["sender"])
    status, replies = await post(
        webchat,
        {"sender": first["sender"], "message": "hello"},
        headers={"X-Webchat-Session": first["session"]},
    )
    assert (status, replies[0]["text"]) == (200, "echo: hello")


async def test_knowing_an_id_is_not_enough_to_write_or_read_as_that_person(
    webchat, runtime, handoff_store
):
    ticket, sara = await asyncio.to_thread(in_handoff, runtime)
    await asyncio.to_thread(runtime.handoff.reply, ticket.id, sara, "private words", "k1")
    eve = session_of("web-eve")

    for headers in ({}, eve):
        status, data = await poll(webchat, PERSON, headers=headers)
        assert status in (401, 403) and "messages" not in data
        status, data = await post(
            webchat, {"sender": PERSON, "message": "it's me"}, headers=headers
        )
        assert status in (401, 403)
    assert (await poll(webchat, PERSON, headers={}))[1]["error"] == "session_required"
    assert (await poll(webchat, PERSON, headers=eve))[1]["error"] == "not_your_conversation"
    # Nothing was read (still pending) and nothing joined the ticket.
    states = [
        state
        for row, state in handoff_store.outbox.rows("webchat", PERSON)
        if row.payload.get("kind") == "relay"
    ]
    assert states == ["pending"]
    assert "it's me" not in [m.text for m in handoff_store.transcripts.messages(ticket.id)]
    assert webchat.bot.received == []
    # The holder reads it.
    status, data = await poll(webchat, PERSON)
    assert "private words" in [m["text"] for m in data["messages"]]
