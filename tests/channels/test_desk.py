"""The local mediator desk (``channels/desk.py``) served on 127.0.0.1 over a SQLite file."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest
from channel_harness import serve

from bot.settings import get_settings
from channels.desk import MAX_TEXT_CHARS, MediatorDeskInput, access_error

PERSON = "web-person1"


@pytest.fixture
async def desk(runtime, store):
    served, stop = await serve(MediatorDeskInput(runtime=runtime), store)
    yield served
    await stop()


def open_ticket(runtime, person=PERSON, channel="webchat", language="en", reason="request"):
    opened = runtime.handoff.request(
        person,
        channel,
        language,
        reason,
        topic="residence_permit",
        comune="Lecce",
        province="LE",
        transcript=[("person", "my permit expires"), ("bot", "Here is what…")],
    )
    return opened.ticket


async def call(desk, method, path, body=None, mediator=None, headers=None, raw=None):
    """``mediator``: the session a sign-in returned (sent as X-Desk-Session)."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    if mediator is not None:
        sent["X-Desk-Session"] = mediator
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    async with desk.http.request(method, desk.url + "api/" + path, data=data, headers=sent) as resp:
        return resp.status, await resp.json(content_type=None)


async def sign_in(desk, name="Sara", languages=("en", "fr")):
    """Sign in on the local try-out; returns the session."""
    status, data = await call(desk, "POST", "signin", {"name": name, "languages": list(languages)})
    assert status == 200, data
    return data["session"]


async def test_the_page_is_served(desk):
    async with desk.http.get(desk.url) as resp:
        assert resp.status == 200
        page = await resp.text()
    assert "Mediator desk" in page and "/webhooks/desk/api/" in page


async def test_sign_in_registers_a_desk_only_mediator_once(desk, handoff_store):
    status, data = await call(desk, "POST", "signin", {"name": "  Sara ", "languages": "fr, en"})
    assert status == 200
    mediator = data["mediator"]
    assert mediator["name"] == "Sara" and mediator["languages"] == ["en", "fr"]
    assert mediator["desk_only"] is True
    stored = handoff_store.mediators.by_name("Sara")
    assert stored.id == mediator["id"] and not stored.telegram_user_id and not stored.whatsapp

    # The same name again is the same mediator.
    again = await sign_in(desk, "Sara")
    assert len(handoff_store.mediators.all()) == 1
    status, data = await call(desk, "GET", "me", mediator=again)
    assert (status, data["mediator"]["id"]) == (200, mediator["id"])


@pytest.mark.parametrize(
    "body, code",
    [
        ({"languages": ["en"]}, "no_name"),
        ({"name": "Sara"}, "no_languages"),
        ({"name": "Sara", "languages": ["en", "xx"]}, "unknown_language"),
        ({"name": "S" * 81, "languages": ["en"]}, "name_too_long"),
    ],
)
async def test_sign_in_refuses_bad_input(desk, body, code):
    status, data = await call(desk, "POST", "signin", body)
    assert (status, data["error"]) == (400, code)


async def test_without_signing_in_the_api_answers_401(desk):
    assert (await call(desk, "GET", "queue"))[0] == 401
    status, data = await call(desk, "GET", "queue", mediator="999")
    assert (status, data["error"]) == (401, "sign_in")


async def test_the_queue_shows_waiting_tickets_most_urgent_first(desk, runtime):
    first = await asyncio.to_thread(open_ticket, runtime, "web-a")
    urgent = await asyncio.to_thread(
        open_ticket, runtime, "web-b", language="ar", reason="emergency"
    )
    me = await sign_in(desk)

    status, data = await call(desk, "GET", "queue", mediator=me)
    assert status == 200
    assert [t["id"] for t in data["waiting"]] == [urgent.id, first.id]
    card = data["waiting"][1]
    assert card["language"] == "en" and card["topic"] == "residence_permit"
    assert card["comune"] == "Lecce" and card["channel"] == "webchat"
    assert card["reason"] == "request" and card["priority"] == 0
    assert card["speaks"] is True and data["waiting"][0]["speaks"] is False  # Sara: en, fr
    assert card["waiting_seconds"] >= 0
    assert [(m["author"], m["text"]) for m in card["last_messages"]] == [
        ("person", "my permit expires"),
        ("bot", "Here is what…"),
    ]
    assert data["held"] == []


async def test_claim_moves_the_ticket_to_the_mediator(desk, runtime, handoff_store):
    ticket = await asyncio.to_thread(open_ticket, runtime)
    me = await sign_in(desk)

    status, data = await call(desk, "POST", f"tickets/{ticket.id}/claim", mediator=me)
    assert status == 200 and data["ticket"]["status"] == "claimed"
    assert data["ticket"]["holder"] == "Sara"
    status, queue = await call(desk, "GET", "queue", mediator=me)
    assert queue["waiting"] == [] and [t["id"] for t in queue["held"]] == [ticket.id]
    # The person is told who joined (the web chat fetches it).
    notices = [row.payload["text"] for row, _ in handoff_store.outbox.rows("webchat", PERSON)]
    assert any("Sara" in text for text in notices)
    # A double click is not an error.
    status, data = await call(desk, "POST", f"tickets/{ticket.id}/claim", mediator=me)
    assert status == 200 and data.get("already") is True


async def test_of_two_desks_claiming_one_ticket_one_wins(desk, runtime, handoff_store):
    ticket = await asyncio.to_thread(open_ticket, runtime)
    sara, omar = await sign_in(desk, "Sara"), await sign_in(desk, "Omar")

    results = await asyncio.gather(
        call(desk, "POST", f"tickets/{ticket.id}/claim", mediator=sara),
        call(desk, "POST", f"tickets/{ticket.id}/claim", mediator=omar),
    )
    assert sorted(status for status, _ in results) == [200, 409]
    (_, won), (_, lost) = sorted(results, key=lambda r: r[0])
    assert lost["error"] == "claimed_by_other"
    assert lost["holder"] == won["ticket"]["holder"]
    assert won["ticket"]["holder"] in lost["message"]
    winner = handoff_store.mediators.by_name(won["ticket"]["holder"])
    assert handoff_store.tickets.get(ticket.id).mediator_id == winner.id


@pytest.mark.parametrize(
    "channel, person, destination",
    [
        ("webchat", "web-person1", "webchat"),
        ("telegram", "tg-person1", "person"),
    ],
)
async def test_a_message_sent_twice_is_stored_and_queued_once(
    desk, runtime, handoff_store, channel, person, destination
):
    ticket = await asyncio.to_thread(open_ticket, runtime, person, channel)
    me = await sign_in(desk)
    await call(desk, "POST", f"tickets/{ticket.id}/claim", mediator=me)

    body = {"text": "Hello, I am Sara", "client_id": "c-123"}
    first = await call(desk, "POST", f"tickets/{ticket.id}/messages", body, mediator=me)
    again = await call(desk, "POST", f"tickets/{ticket.id}/messages", body, mediator=me)
    assert first == (200, {"duplicate": False})
    assert again == (200, {"duplicate": True})

    said = [m for m in handoff_store.transcripts.messages(ticket.id) if m.author == "mediator"]
    assert [m.text for m in said] == ["Hello, I am Sara"]
    relayed = [
        row
        for row, _ in handoff_store.outbox.rows(destination, person)
        if row.payload["kind"] == "relay"
    ]
    assert [row.payload["text"] for row in relayed] == ["Hello, I am Sara"]


async def test_messages_are_read_after_an_id_with_notes_and_reports_marked(
    desk, runtime, handoff_store
):
    ticket = await asyncio.to_thread(open_ticket, runtime)
    me = await sign_in(desk)
    await call(desk, "POST", f"tickets/{ticket.id}/claim", mediator=me)
    status, data = await call(desk, "GET", f"tickets/{ticket.id}/messages?after=0", mediator=me)
    assert status == 200 and data["ticket"]["status"] == "claimed"
    seen = data["messages"][-1]["id"]

    await asyncio.to_thread(runtime.handoff.person_wrote, PERSON, "are you there?", None)
    status, _ = await call(
        desk,
        "POST",
        f"tickets/{ticket.id}/notes",
        {"text": "asks about Lecce questura", "client_id": "n1"},
        mediator=me,
    )
    assert status == 200
    await asyncio.to_thread(handoff_store.transcripts.system_message, ticket.id, "NOT delivered")

    status, data = await call(
        desk, "GET", f"tickets/{ticket.id}/messages?after={seen}", mediator=me
    )
    assert [(m["author"], m["text"], m["private"]) for m in data["messages"]] == [
        ("person", "are you there?", False),
        ("note", "asks about Lecce questura", True),
        ("system", "NOT delivered", True),
    ]
    assert data["messages"][1]["mediator"] == "Sara"
    # A note never reaches the person.
    texts = [row.payload["text"] for row, _ in handoff_store.outbox.rows("webchat", PERSON)]
    assert "asks about Lecce questura" not in texts


async def test_close_asks_the_person_for_a_rating(desk, runtime, handoff_store):
    ticket = await asyncio.to_thread(open_ticket, runtime)
    me = await sign_in(desk)
    await call(desk, "POST", f"tickets/{ticket.id}/claim", mediator=me)

    status, data = await call(desk, "POST", f"tickets/{ticket.id}/close", mediator=me)
    assert status == 200 and data["ticket"]["status"] == "closed"
    last, state = handoff_store.outbox.rows("webchat", PERSON)[-1]
    assert state == "pending"
    assert "from 1 (not at all) to 5 (very)" in last.payload["text"]
    assert [b["payload"] for b in last.payload["buttons"]] == [
        f"/handoff_rating {n}" for n in range(1, 6)
    ]
    assert handoff_store.ratings.awaiting(PERSON).id == ticket.id
    # Closed is closed (the store answers that the mediator no longer holds it).
    status, data = await call(desk, "POST", f"tickets/{ticket.id}/close", mediator=me)
    assert status == 409 and data["error"] in ("closed", "not_yours")


async def test_release_and_transfer_put_the_ticket_back_in_the_queue(desk, runtime, handoff_store):
    ticket = await asyncio.to_thread(open_ticket, runtime)
    me = await sign_in(desk)
    await call(desk, "POST", f"tickets/{ticket.id}/claim", mediator=me)
    status, data = await call(desk, "POST", f"tickets/{ticket.id}/release", mediator=me)
    assert status == 200 and data["ticket"]["status"] == "waiting"

    await call(desk, "POST", f"tickets/{ticket.id}/claim", mediator=me)
    status, data = await call(
        desk, "POST", f"tickets/{ticket.id}/transfer", {"language": "xx"}, mediator=me
    )
    assert (status, data["error"]) == (400, "unknown_language")
    status, data = await call(
        desk, "POST", f"tickets/{ticket.id}/transfer", {"language": "ar"}, mediator=me
    )
    assert status == 200
    assert (data["ticket"]["status"], data["ticket"]["language"]) == ("waiting", "ar")
    assert handoff_store.tickets.get(ticket.id).wanted_language == "ar"


async def test_only_the_holder_acts_on_a_ticket(desk, runtime):
    ticket = await asyncio.to_thread(open_ticket, runtime)
    sara, omar = await sign_in(desk, "Sara"), await sign_in(desk, "Omar")
    await call(desk, "POST", f"tickets/{ticket.id}/claim", mediator=sara)

    status, data = await call(
        desk,
        "POST",
        f"tickets/{ticket.id}/messages",
        {"text": "hi", "client_id": "x"},
        mediator=omar,
    )
    assert (status, data["error"]) == (409, "not_yours")
    for action in ("close", "release"):
        assert (await call(desk, "POST", f"tickets/{ticket.id}/{action}", mediator=omar))[0] == 409
    # Nor reads someone else's conversation.
    status, data = await call(desk, "GET", f"tickets/{ticket.id}/messages", mediator=omar)
    assert (status, data["error"]) == (403, "not_yours")


async def test_bad_input_gets_clear_4xx_errors(desk, runtime):
    ticket = await asyncio.to_thread(open_ticket, runtime)
    me = await sign_in(desk)
    await call(desk, "POST", f"tickets/{ticket.id}/claim", mediator=me)
    path = f"tickets/{ticket.id}/messages"

    cases = [
        (await call(desk, "POST", path, raw=b"{not json", mediator=me), 400, "bad_json"),
        (await call(desk, "POST", path, raw=b"[1, 2]", mediator=me), 400, "bad_json"),
        (await call(desk, "POST", "signin", raw=b'{"name": '), 400, "bad_json"),
        (await call(desk, "POST", path, {"text": "   "}, mediator=me), 400, "empty_text"),
        (await call(desk, "POST", path, {"client_id": "a"}, mediator=me), 400, "empty_text"),
        (
            await call(desk, "POST", path, {"text": "x" * (MAX_TEXT_CHARS + 1)}, mediator=me),
            400,
            "text_too_long",
        ),
        (
            await call(desk, "POST", path, {"text": "hi", "client_id": "a b"}, mediator=me),
            400,
            "bad_client_id",
        ),
        (await call(desk, "POST", "tickets/9999/claim", mediator=me), 404, "no_ticket"),
        (await call(desk, "POST", "tickets/abc/claim", mediator=me), 404, "no_ticket"),
        (
            await call(desk, "POST", "tickets/9999/messages", {"text": "hi"}, mediator=me),
            404,
            "no_ticket",
        ),
        (await call(desk, "GET", f"{path}?after=x", mediator=me), 400, "bad_after"),
        (
            await call(
                desk,
                "POST",
                path,
                {"text": "hi"},
                mediator=me,
                headers={"Content-Type": "text/plain"},
            ),
            415,
            "json_required",
        ),
    ]
    for (status, data), want_status, want_code in cases:
        assert (status, data["error"]) == (want_status, want_code), data
        assert data["message"]
    # None of it reached the transcript.
    transcript = runtime.handoff.store.transcripts.messages(ticket.id)
    assert [m.author for m in transcript] == ["person", "bot"]


@pytest.mark.parametrize(
    "peer, headers, token, allowed",
    [
        ("127.0.0.1", {"Host": "127.0.0.1:5005"}, None, True),
        ("::1", {"Host": "[::1]:5005"}, None, True),
        ("::ffff:127.0.0.1", {"Host": "localhost:5005"}, None, True),
        ("127.0.0.1", {}, None, True),
        ("10.0.0.7", {"Host": "desk.example"}, None, False),  # no token configured: 403
        ("10.0.0.7", {"Host": "desk.example"}, "s3cret", False),  # token missing
        ("10.0.0.7", {"Authorization": "Bearer wrong"}, "s3cret", False),
        ("10.0.0.7", {"Authorization": "Bearer s3cret"}, "s3cret", True),
        ("10.0.0.7", {"authorization": "bearer s3cret"}, "s3cret", True),
        ("10.0.0.7", {"Authorization": "Bearer s3cret"}, None, False),  # no token set: never
        # Through a reverse proxy on this machine, every visitor would look local.
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, None, False),
        ("127.0.0.1", {"Forwarded": "for=203.0.113.9"}, "s3cret", False),
        ("127.0.0.1", {"X-Forwarded-Proto": "https"}, None, False),
        ("127.0.0.1", {"Via": "1.1 proxy"}, None, False),
        # A site rebound to 127.0.0.1 (DNS rebinding) is not this machine.
        ("127.0.0.1", {"Host": "evil.example"}, None, False),
    ],
)
def test_access(peer, headers, token, allowed):
    refused = access_error(peer, headers, token)
    assert (refused is None) is allowed
    if refused is not None:
        assert refused.status in (401, 403)
        if token is None:
            assert refused.status == 403


async def test_requests_from_elsewhere_need_the_token(runtime, store):
    settings = dataclasses.replace(get_settings(), mediator_desk_token=None)
    served, stop = await serve(MediatorDeskInput(runtime=runtime, settings=settings), store)
    try:
        proxied = {"X-Forwarded-For": "203.0.113.9"}
        status, data = await call(served, "GET", "languages", headers=proxied)
        assert (status, data["error"]) == (403, "forbidden")
        assert (await call(served, "GET", "languages"))[0] == 200
    finally:
        await stop()

    settings = dataclasses.replace(settings, mediator_desk_token="s3cret")
    served, stop = await serve(MediatorDeskInput(runtime=runtime, settings=settings), store)
    try:
        assert (await call(served, "GET", "languages", headers=proxied))[0] == 401
        with_token = {**proxied, "Authorization": "Bearer s3cret"}
        assert (await call(served, "GET", "languages", headers=with_token))[0] == 200
    finally:
        await stop()


async def test_the_relay_stops_even_right_after_a_wake(runtime, handoff_store):
    # A mediator's last message wakes the relay just before the server stops: with wait_for,
    # Python 3.10 could swallow the cancel and the stop would never end.
    assert handoff_store.engine is not None  # migrated now: the worker's rounds are quick
    for _ in range(3):
        runtime.relay.start()
        await asyncio.sleep(0.2)  # idle, waiting for a wake-up
        runtime.relay.wake()
        stopping = asyncio.ensure_future(runtime.relay.stop())
        done, _ = await asyncio.wait({stopping}, timeout=3)
        if not done:  # let the test end
            stopping.cancel()
        assert done, "the relay did not stop"
        assert runtime.relay._task is None


async def test_a_tickets_files_are_downloads_and_its_failures_are_shown(
    desk, runtime, handoff_store, tmp_path
):
    from handoff.media import MediaStore

    media = MediaStore(handoff_store.engine, get_settings(), directory=tmp_path / "media")
    runtime.relay._media = media  # the files of this test, not of var/media
    ticket = await asyncio.to_thread(open_ticket, runtime, "wa-person1", channel="whatsapp")
    me = await sign_in(desk)
    assert (await call(desk, "POST", f"tickets/{ticket.id}/claim", mediator=me))[0] == 200
    photo = b"\xff\xd8\xff\xe0" + b"p" * 3000
    spool = media.spool("image/jpeg")
    spool.write(photo)
    kept = media.add(spool.finish(), person="wa-person1", ticket_id=ticket.id)
    deliveries = runtime.relay.deliveries
    deliveries.record_sent("SM" + "a" * 32, ticket_id=ticket.id, person=None, recipient="person")
    deliveries.record_status("SM" + "a" * 32, "undelivered", 63016)

    status, data = await call(desk, "GET", f"tickets/{ticket.id}/messages?after=0", mediator=me)
    assert status == 200
    files = [(f["id"], f["kind"], f["from"]) for f in data["files"]]
    assert files == [(kept.id, "image", "person")]
    assert data["files"][0]["name"] == f"ticket-{ticket.id}-{kept.id}.jpg"
    assert [(d["to"], d["error_code"]) for d in data["undelivered"]] == [("person", 63016)]

    path = f"api/tickets/{ticket.id}/files/{kept.id}"
    async with desk.http.get(desk.url + path, headers={"X-Desk-Session": me}) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Disposition"].startswith("attachment;")
        assert await resp.read() == photo
    async with desk.http.get(desk.url + path) as resp:
        assert resp.status == 401  # no session, no file
    other = await sign_in(desk, "Marco", ["en"])
    async with desk.http.get(desk.url + path, headers={"X-Desk-Session": other}) as resp:
        assert resp.status == 403  # claimed by Sara
    missing = f"api/tickets/{ticket.id}/files/{kept.id + 1}"
    async with desk.http.get(desk.url + missing, headers={"X-Desk-Session": me}) as resp:
        assert resp.status == 404


async def test_a_mediator_keeps_their_profile_from_the_desk(desk, runtime, handoff_store):
    """Issue #17: languages, provinces, hours and a pause, set on the desk, route the next card."""
    session = await sign_in(desk, "Sara", ("en",))
    status, data = await call(
        desk,
        "POST",
        "me",
        {"languages": "en, uk", "provinces": "ba le", "hours": "mon-fri 09:00-17:00"},
        mediator=session,
    )
    assert status == 200, data
    me = data["mediator"]
    assert (me["languages"], me["provinces"], me["hours"]) == (
        ["en", "uk"],
        ["BA", "LE"],
        "mon-fri 09:00-17:00",
    )
    # A wrong value changes nothing and says which.
    status, data = await call(
        desk, "POST", "me", {"languages": "en", "hours": "mon 18:00-09:00"}, mediator=session
    )
    assert (status, data["error"]) == (400, "profile_bad_hours")
    assert "ends before it starts" in data["message"]
    assert handoff_store.mediators.by_name("Sara").languages == ("en", "uk")

    handoff_store.mediators.add("Olena", ["uk"], telegram_user_id="222")
    ticket = open_ticket(runtime, person="web-uk", language="uk")
    assert runtime.handoff.cards.speakers("uk") == [
        handoff_store.mediators.by_name("Sara"),
        handoff_store.mediators.by_name("Olena"),
    ]
    status, data = await call(desk, "POST", "me", {"paused": True}, mediator=session)
    assert data["mediator"]["paused"] is True
    assert [m.name for m in runtime.handoff.cards.speakers("uk")] == ["Olena"]
    # Paused, the desk still works and the queue still shows who is waiting.
    status, data = await call(desk, "GET", "queue", mediator=session)
    assert [t["id"] for t in data["waiting"]] == [ticket.id]
    assert data["mediator"]["paused"] is True


async def test_an_unreachable_telegram_mediator_is_shown_as_such(desk, handoff_store):
    from handoff.credentials import hash_password

    handoff_store.mediators.add("Omar", ["ar"], telegram_user_id="4242")
    handoff_store.mediators.set_password("Omar", hash_password("a long enough password"))
    status, data = await call(
        desk, "POST", "signin", {"name": "Omar", "password": "a long enough password"}
    )
    assert status == 200, data
    session = data["session"]
    assert data["mediator"]["unreachable_since"] is None
    # What the relay records when Telegram answers 403 to the bot's first private message.
    handoff_store.mediators.set_unreachable("4242", 1_700_000_000.0)
    handoff_store.mediators.set_unreachable("4242", 1_800_000_000.0)  # the first time stays
    status, data = await call(desk, "GET", "queue", mediator=session)
    assert data["mediator"]["channel"] == "telegram"
    assert data["mediator"]["unreachable_since"] == 1_700_000_000.0
    handoff_store.mediators.set_unreachable("4242", None)  # they pressed Start and wrote
    status, data = await call(desk, "GET", "me", mediator=session)
    assert data["mediator"]["unreachable_since"] is None
