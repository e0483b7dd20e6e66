"""Twilio status callbacks (``channels/twilio_status.py``) and template cards for WhatsApp
mediators (``channels/whatsapp_templates.py``), against the fake Twilio, which posts callbacks
the way Twilio does."""

from __future__ import annotations

import dataclasses

import aiohttp
import pytest
from channel_fakes import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    WHATSAPP_NUMBER,
    status_callback_form,
    twilio_signed,
)
from channel_harness import serve
from rasa.core.channels.channel import InputChannel

from bot.settings import get_settings
from channels import whatsapp_templates as templates
from channels.twilio_status import parse, status_blueprint, status_callback_url
from handoff.delivery import DeliveryStore

MEDIATOR = "whatsapp:+393330000002"
SID = "SM" + "a" * 32


class StatusOnly(InputChannel):
    """The status route alone, mounted where the WhatsApp channel mounts it."""

    def __init__(self, settings, store, on_failed):
        self.settings, self.deliveries, self.on_failed = settings, store, on_failed

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def blueprint(self, on_new_message):
        return status_blueprint(self.settings, store=self.deliveries, on_failed=self.on_failed)


@pytest.fixture
def deliveries(tmp_path):
    store = DeliveryStore(f"sqlite:///{tmp_path / 'delivery.db'}")
    yield store
    store.dispose()


@pytest.fixture
def settings(twilio_api):
    return dataclasses.replace(
        get_settings(),
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_whatsapp_number=WHATSAPP_NUMBER,
        twilio_api_base_url=twilio_api.base_url,
        twilio_webhook_url=None,
        twilio_status_callback_url=None,
        twilio_card_template_sid="HX" + "c" * 32,
        twilio_reminder_template_sid=None,
    )


@pytest.fixture
async def callbacks(settings, deliveries, store):
    failures = []

    async def on_failed(status):
        failures.append(status)

    served, stop = await serve(StatusOnly(settings, deliveries, on_failed), store)
    served.url += "status"
    served.failures = failures
    yield served
    await stop()


async def create(twilio_api, to: str, fields: list[tuple[str, str]]) -> str:
    """Send through the fake's Messages API as the WhatsApp adapter does; returns the SID."""
    url = f"{twilio_api.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    async with aiohttp.ClientSession(auth=aiohttp.BasicAuth(ACCOUNT_SID, AUTH_TOKEN)) as http:
        async with http.post(url, data=[("To", to), ("From", WHATSAPP_NUMBER), *fields]) as resp:
            assert resp.status == 201, await resp.text()
            return (await resp.json())["sid"]


async def post(served, form, *, url=None, token=AUTH_TOKEN):
    body, headers = twilio_signed(url or served.url, form, token)
    async with served.http.post(served.url, data=body, headers=headers) as resp:
        return resp.status


async def test_a_delivered_message_goes_through_its_statuses(callbacks, twilio_api, deliveries):
    sid = await create(
        twilio_api, MEDIATOR, [("Body", "Ticket #4"), ("StatusCallback", callbacks.url)]
    )
    sent = await twilio_api.wait_for_callbacks(3)
    assert [(c[1]["MessageStatus"], c[2]) for c in sent] == [
        ("queued", 204),
        ("sent", 204),
        ("delivered", 204),
    ]
    assert deliveries.status(sid).status == "delivered"
    assert callbacks.failures == []


async def test_a_card_to_a_mediator_silent_for_a_day_fails_63016_and_shows_on_the_ticket(
    callbacks, twilio_api, deliveries, settings
):
    twilio_api.window_closed.add(MEDIATOR)
    # Without the window rule, the card goes as text: Twilio accepts it, then fails it.
    sid = await create(
        twilio_api, MEDIATOR, [("Body", "🆕 Ticket #4 · ar"), ("StatusCallback", callbacks.url)]
    )
    deliveries.record_sent(
        sid,
        ticket_id=4,
        person="wa-person",
        recipient="mediator",
        mediator_id=2,
        outbox_key="t4:card:m2",
    )
    await twilio_api.wait_for_callbacks(2)

    failed = deliveries.for_ticket(4, failed_only=True)
    assert [(s.message_sid, s.status, s.error_code, s.mediator_id) for s in failed] == [
        (sid, "failed", 63016, 2)
    ]
    assert failed[0].window_closed
    assert [s.message_sid for s in callbacks.failures] == [sid]  # told once

    # Planned with the window rule, the same card goes as the approved template and arrives.
    plan = templates.plan(
        templates.CARD,
        "🆕 Ticket #4 · ar",
        templates.card_variables("#4", "ar", "asked for a mediator", None, "Bari"),
        last_inbound_at=None,
        language="it",
        settings=settings,
    )
    assert plan.mode == templates.TEMPLATE
    template_sid = await create(twilio_api, MEDIATOR, plan.form(callbacks.url))
    await twilio_api.wait_for_callbacks(5)
    assert deliveries.status(template_sid).status == "delivered"
    sent = twilio_api.messages[-1]
    assert sent["ContentSid"] == settings.twilio_card_template_sid and "Body" not in sent
    assert sent["ContentVariables"] == (
        '{"1": "#4", "2": "ar", "3": "asked for a mediator", "4": "—", "5": "Bari"}'
    )


async def test_undelivered_is_recorded_with_its_code(callbacks, twilio_api, deliveries):
    twilio_api.statuses[MEDIATOR] = [("queued", None), ("sent", None), ("undelivered", 63024)]
    sid = await create(twilio_api, MEDIATOR, [("Body", "x"), ("StatusCallback", callbacks.url)])
    await twilio_api.wait_for_callbacks(3)
    assert (deliveries.status(sid).status, deliveries.status(sid).error_code) == (
        "undelivered",
        63024,
    )
    assert len(callbacks.failures) == 1


async def test_late_and_repeated_callbacks_change_nothing(callbacks, deliveries):
    for status, code in (("delivered", None), ("sent", None), ("queued", None)):
        assert (
            await post(callbacks, status_callback_form(SID, status, MEDIATOR, error_code=code))
            == 204
        )
    assert deliveries.status(SID).status == "delivered"
    other = "SM" + "b" * 32
    for _ in range(2):  # Twilio retried the same callback
        await post(callbacks, status_callback_form(other, "failed", MEDIATOR, error_code=63016))
    await post(callbacks, status_callback_form(other, "delivered", MEDIATOR))
    assert deliveries.status(other).status == "failed"
    assert [s.message_sid for s in callbacks.failures] == [other]


@pytest.mark.parametrize("forgery", ["wrong token", "other url", "tampered", "no signature"])
async def test_forged_callbacks_get_403_and_nothing_is_recorded(callbacks, deliveries, forgery):
    form = status_callback_form(SID, "failed", MEDIATOR, error_code=63016)
    if forgery == "wrong token":
        status = await post(callbacks, form, token="0" * 32)
    elif forgery == "other url":
        status = await post(callbacks, form, url="https://evil.example/webhooks/whatsapp/status")
    else:
        body, headers = twilio_signed(callbacks.url, form)
        if forgery == "tampered":
            body = body.replace(b"ErrorCode=63016", b"ErrorCode=30003")
        else:
            headers.pop("X-Twilio-Signature")
        async with callbacks.http.post(callbacks.url, data=body, headers=headers) as resp:
            status = resp.status
    assert status == 403
    assert deliveries.status(SID) is None and callbacks.failures == []


async def test_signatures_are_checked_against_the_public_callback_url(settings, deliveries, store):
    public = "https://bot.example.org/webhooks/whatsapp/status"
    configured = dataclasses.replace(settings, twilio_status_callback_url=public)
    served, stop = await serve(StatusOnly(configured, deliveries, None), store)
    try:
        url = served.url + "status"
        form = status_callback_form(SID, "sent", MEDIATOR)
        for signed_for, expected in ((url, 403), (public, 204)):
            body, headers = twilio_signed(signed_for, form)
            async with served.http.post(url, data=body, headers=headers) as resp:
                assert resp.status == expected
    finally:
        await stop()
    assert deliveries.status(SID).status == "sent"


async def test_signed_nonsense_is_acknowledged_and_ignored(callbacks, deliveries):
    assert await post(callbacks, {"MessageSid": SID, "MessageStatus": "exploded"}) == 204
    assert await post(callbacks, {"MessageStatus": "failed"}) == 204
    assert deliveries.status(SID) is None
    body, headers = twilio_signed(callbacks.url, {"Body": "x" * 20_000})
    async with callbacks.http.post(callbacks.url, data=body, headers=headers) as resp:
        assert resp.status == 413


async def test_a_database_outage_answers_503_so_twilio_retries(settings, store):
    class Down(DeliveryStore):
        def record_status(self, *args, **kwargs):
            raise RuntimeError("database down")

    served, stop = await serve(StatusOnly(settings, Down("sqlite://"), None), store)
    try:
        url = served.url + "status"
        body, headers = twilio_signed(url, status_callback_form(SID, "sent", MEDIATOR))
        async with served.http.post(url, data=body, headers=headers) as resp:
            assert resp.status == 503
    finally:
        await stop()


def test_the_callback_url_follows_the_webhook_url(settings):
    assert status_callback_url(settings) is None  # nothing public: ask for no callbacks
    webhook = dataclasses.replace(
        settings, twilio_webhook_url="https://bot.example.org/webhooks/whatsapp/webhook"
    )
    assert status_callback_url(webhook) == "https://bot.example.org/webhooks/whatsapp/status"
    explicit = dataclasses.replace(webhook, twilio_status_callback_url="https://x.example/s")
    assert status_callback_url(explicit) == "https://x.example/s"


def test_parse_reads_what_twilio_sends():
    form = status_callback_form(SID, "undelivered", MEDIATOR, error_code=63016)
    assert parse(form) == parse({**form, "MessageSid": "", "SmsSid": SID})
    assert (parse(form).status, parse(form).error_code) == ("undelivered", 63016)
    assert parse(status_callback_form(SID, "sent", MEDIATOR)).error_code is None
    assert parse({**form, "MessageSid": "not-a-sid"}) is None
