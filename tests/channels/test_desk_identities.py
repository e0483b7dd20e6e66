"""Who is signed in at the desk is a signed session: passwords, one-time links, no header ids."""

from __future__ import annotations

import asyncio
import dataclasses
import re

import pytest
from channel_harness import serve
from test_desk import call, open_ticket, sign_in

from bot.settings import get_settings
from channels import sessions
from channels.desk import MediatorDeskInput
from handoff.credentials import hash_password
from handoff.service import Handoff
from handoff.texts import mediator_text

PASSWORD = "correct horse battery"
DESK_TOKEN = "desk-token-for-tests"
FROM_ELSEWHERE = {"X-Forwarded-For": "203.0.113.9", "Authorization": f"Bearer {DESK_TOKEN}"}


@pytest.fixture
async def desk(runtime, store):
    served, stop = await serve(MediatorDeskInput(runtime=runtime), store)
    yield served
    await stop()


@pytest.fixture
async def public_desk(runtime, store):
    """The desk behind a proxy, with a desk token: no local try-out."""
    settings = dataclasses.replace(
        get_settings(),
        mediator_desk_token=DESK_TOKEN,
        mediator_desk_url="https://desk.example.org/webhooks/desk/",
    )
    served, stop = await serve(MediatorDeskInput(runtime=runtime, settings=settings), store)
    yield served
    await stop()


async def test_a_header_naming_another_mediator_counts_for_nothing(desk, runtime):
    ticket = await asyncio.to_thread(open_ticket, runtime)
    sara, eve = await sign_in(desk, "Sara"), await sign_in(desk, "Eve")
    await call(desk, "POST", f"tickets/{ticket.id}/claim", mediator=sara)
    sara_id = runtime.handoff.store.mediators.by_name("Sara").id
    path = f"tickets/{ticket.id}/messages"

    # The old X-Mediator-Id header is ignored; Eve's own session cannot read Sara's ticket.
    status, data = await call(desk, "GET", path, headers={"X-Mediator-Id": str(sara_id)})
    assert (status, data["error"]) == (401, "sign_in")
    status, data = await call(
        desk, "GET", path, mediator=eve, headers={"X-Mediator-Id": str(sara_id)}
    )
    assert (status, data["error"]) == (403, "not_yours")
    # Nor can she rewrite her session to name Sara: the signature no longer matches.
    payload, signature = eve.split(".")
    forged_payload = sessions._b64(
        sessions._unb64(payload).replace(
            b"|" + str(runtime.handoff.store.mediators.by_name("Eve").id).encode() + b"|",
            b"|" + str(sara_id).encode() + b"|",
        )
    )
    status, data = await call(desk, "GET", path, mediator=f"{forged_payload}.{signature}")
    assert (status, data["error"]) == (401, "sign_in")
    # A web chat session is no desk session either.
    webchat = sessions.issue(sessions.WEBCHAT, str(sara_id), 60)
    assert (await call(desk, "GET", path, mediator=webchat))[0] == 401
    assert (await call(desk, "GET", path, mediator=sara))[0] == 200


async def test_a_password_signs_in_and_a_new_one_ends_old_sessions(desk, runtime):
    store = runtime.handoff.store
    await asyncio.to_thread(store.mediators.add, "Sara", ["en"], telegram_user_id="111")
    await asyncio.to_thread(store.mediators.set_password, "Sara", hash_password(PASSWORD))

    status, data = await call(desk, "POST", "signin", {"name": "Sara", "password": "wrong one!"})
    assert (status, data["error"]) == (401, "bad_credentials")
    status, data = await call(desk, "POST", "signin", {"name": "Sara"})  # even from here
    assert (status, data["error"]) == (401, "bad_credentials")
    status, data = await call(desk, "POST", "signin", {"name": "Sara", "password": PASSWORD})
    assert status == 200 and data["mediator"]["name"] == "Sara"
    session = data["session"]
    assert (await call(desk, "GET", "queue", mediator=session))[0] == 200

    await asyncio.to_thread(
        store.mediators.set_password, "Sara", hash_password("a brand new password")
    )
    status, data = await call(desk, "GET", "queue", mediator=session)
    assert (status, data["error"]) == (401, "sign_in")


async def test_switched_off_mediators_lose_their_session(desk, runtime):
    session = await sign_in(desk, "Sara")
    await asyncio.to_thread(runtime.handoff.store.mediators.set_active, "Sara", False)
    status, data = await call(desk, "GET", "queue", mediator=session)
    assert (status, data["error"]) == (403, "inactive")


async def test_the_local_try_out_never_signs_in_a_real_mediator_by_name(desk, runtime):
    await asyncio.to_thread(
        runtime.handoff.store.mediators.add, "Sara", ["en"], telegram_user_id="111"
    )
    status, data = await call(desk, "POST", "signin", {"name": "Sara", "languages": ["en"]})
    assert (status, data["error"]) == (401, "link_required")


async def test_from_elsewhere_only_a_password_or_a_link_signs_in(public_desk, runtime):
    store = runtime.handoff.store
    # No registering by name, no signing in by name, and the same answer for unknown names.
    for body in ({"name": "Mallory", "languages": ["en"]}, {"name": "Sara", "languages": ["en"]}):
        status, data = await call(public_desk, "POST", "signin", body, headers=FROM_ELSEWHERE)
        assert (status, data["error"]) == (401, "bad_credentials"), body
    await asyncio.to_thread(store.mediators.add, "Sara", ["en"])  # desk-only, no password yet
    status, data = await call(
        public_desk, "POST", "signin", {"name": "Sara"}, headers=FROM_ELSEWHERE
    )
    assert (status, data["error"]) == (401, "bad_credentials")
    assert [m.name for m in store.mediators.all()] == ["Sara"]
    await asyncio.to_thread(store.mediators.set_password, "Sara", hash_password(PASSWORD))
    status, data = await call(
        public_desk,
        "POST",
        "signin",
        {"name": "Sara", "password": PASSWORD},
        headers=FROM_ELSEWHERE,
    )
    assert status == 200
    # The desk token is still needed with a session: a session alone does not open the desk.
    status, _ = await call(
        public_desk,
        "GET",
        "queue",
        mediator=data["session"],
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert status == 401


async def test_a_one_time_link_reaches_the_mediator_s_chat_and_works_once(public_desk, runtime):
    store = runtime.handoff.store
    omar = await asyncio.to_thread(
        store.mediators.add, "Omar", ["ar"], telegram_user_id="4242", ui_language="en"
    )
    handoff = Handoff(
        store,
        dataclasses.replace(
            runtime.handoff.settings, mediator_desk_url="https://desk.example.org/d/"
        ),
    )
    assert await asyncio.to_thread(handoff.send_desk_link, omar, 15) == "telegram"

    sent = [row.payload["text"] for row, _ in store.outbox.rows("telegram", "4242")]
    assert len(sent) == 1
    code = re.search(r"https://desk\.example\.org/d/#login=([\w-]+)$", sent[0]).group(1)
    assert sent[0] == mediator_text(
        "desk_link", "en", minutes=15, link=f"https://desk.example.org/d/#login={code}"
    )

    status, data = await call(public_desk, "POST", "link", {"code": code}, headers=FROM_ELSEWHERE)
    assert status == 200 and data["mediator"]["name"] == "Omar"
    status, _ = await call(
        public_desk, "GET", "queue", mediator=data["session"], headers=FROM_ELSEWHERE
    )
    assert status == 200
    status, again = await call(public_desk, "POST", "link", {"code": code}, headers=FROM_ELSEWHERE)
    assert (status, again["error"]) == (401, "bad_link")


async def test_an_expired_link_does_not_sign_in(public_desk, runtime):
    store = runtime.handoff.store
    omar = await asyncio.to_thread(store.mediators.add, "Omar", ["ar"], telegram_user_id="4242")
    from handoff.credentials import new_login_code

    code, code_hash = new_login_code()
    await asyncio.to_thread(store.mediators.set_login_code, omar.id, code_hash, 1.0)  # long gone
    status, data = await call(public_desk, "POST", "link", {"code": code}, headers=FROM_ELSEWHERE)
    assert (status, data["error"]) == (401, "bad_link")


def test_desk_only_mediators_get_no_link(runtime):
    sara = runtime.handoff.store.mediators.add("Sara", ["en"])
    assert runtime.handoff.send_desk_link(sara) is None
    assert runtime.handoff.store.outbox.rows() == []
