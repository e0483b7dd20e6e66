"""The WhatsApp (Twilio) webhook as Twilio and a person on WhatsApp experience it."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from channel_fakes import AUTH_TOKEN, WHATSAPP_NUMBER, twilio_form, twilio_signed
from channel_harness import BUTTONS, LONG_ANSWER, serve

from bot.settings import get_settings
from channels.common import channel_message

PERSON = "whatsapp:+393331234567"


async def post(served, form, *, url=None, token=AUTH_TOKEN, headers=None):
    body, signed_headers = twilio_signed(url or served.url + "webhook", form, token)
    signed_headers.update(headers or {})
    async with served.http.post(served.url + "webhook", data=body, headers=signed_headers) as resp:
        return resp.status, await resp.text()


async def test_a_message_is_answered_through_the_twilio_api(whatsapp, twilio_api):
    status, body = await post(whatsapp, twilio_form("ciao", sender=PERSON))

    assert status == 200 and "<Response>" in body  # empty TwiML: Twilio sends nothing itself
    sent = await twilio_api.wait_for(1)
    assert sent == [{"To": PERSON, "From": WHATSAPP_NUMBER, "Body": "echo: ciao"}]
    message = whatsapp.bot.received[0]
    assert message.sender_id.startswith("wa-") and "393331234567" not in message.sender_id
    assert message.input_channel == "whatsapp"
    assert message.metadata == {"country_code": "+39"}


async def test_the_same_person_keeps_one_pseudonym(whatsapp, twilio_api):
    await post(whatsapp, twilio_form("uno", sender=PERSON))
    await post(whatsapp, twilio_form("due", sender=PERSON))
    await post(whatsapp, twilio_form("tre", sender="whatsapp:+212600000001"))
    await twilio_api.wait_for(3)
    ids = {m.text: m.sender_id for m in await whatsapp.bot.wait_for(3)}
    assert ids["uno"] == ids["due"] != ids["tre"]


@pytest.mark.parametrize("forgery", ["wrong token", "no signature", "other url", "tampered"])
async def test_forged_requests_get_403_and_no_reply(whatsapp, twilio_api, forgery):
    form = twilio_form("ciao")
    if forgery == "wrong token":
        status, _ = await post(whatsapp, form, token="0" * 32)
    elif forgery == "no signature":
        status, _ = await post(whatsapp, form, headers={"X-Twilio-Signature": ""})
    elif forgery == "other url":
        status, _ = await post(whatsapp, form, url="https://evil.example/webhook")
    else:
        body, headers = twilio_signed(whatsapp.url + "webhook", form)
        body = body.replace(b"Body=ciao", b"Body=send+money")
        async with whatsapp.http.post(whatsapp.url + "webhook", data=body, headers=headers) as resp:
            status = resp.status
    assert status == 403
    await asyncio.sleep(0.3)
    assert twilio_api.messages == [] and whatsapp.bot.received == []


async def test_signature_checked_against_the_configured_public_url(
    channel_env, store, twilio_api, monkeypatch
):
    from channels.whatsapp import WhatsAppInput

    public = "https://bot.example.org/webhooks/whatsapp/webhook"
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", public)
    get_settings.cache_clear()
    served, stop = await serve(WhatsAppInput(get_settings(), store=store), store)
    try:
        assert (await post(served, twilio_form("ciao")))[0] == 403  # signed for the local URL
        assert (await post(served, twilio_form("ciao"), url=public))[0] == 200
        assert len(await twilio_api.wait_for(1)) == 1
    finally:
        await stop()


async def test_twilio_retries_are_answered_once(whatsapp, twilio_api):
    form = twilio_form("ciao", sid="SM" + "a" * 32)
    results = await asyncio.gather(*(post(whatsapp, form) for _ in range(3)))
    results.append(await post(whatsapp, form))

    assert [status for status, _ in results] == [200] * 4
    await twilio_api.wait_for(2, timeout=1.0)
    assert len(twilio_api.messages) == 1


async def test_a_retry_after_a_restart_is_still_answered_once(channel_env, store, twilio_api):
    from channels.whatsapp import WhatsAppInput

    form = twilio_form("ciao", sid="SM" + "b" * 32)
    for _ in range(2):  # two server lifetimes sharing the database
        served, stop = await serve(WhatsAppInput(get_settings(), store=store), store)
        assert (await post(served, form))[0] == 200
        await twilio_api.wait_for(1)
        await stop()
    assert len(twilio_api.messages) == 1


@pytest.mark.parametrize(
    "form",
    [
        twilio_form(None),  # no Body at all
        twilio_form(""),
        twilio_form("   "),
        {k: v for k, v in twilio_form("ciao").items() if k not in ("MessageSid", "SmsMessageSid")},
        {k: v for k, v in twilio_form("ciao").items() if k != "From"},
        twilio_form("ciao", sender="+393331234567"),  # an SMS, not WhatsApp
        twilio_form(None, NumMedia="many"),
        {},
    ],
    ids=["no-body", "empty", "blank", "no-sid", "no-from", "sms", "bad-nummedia", "nothing"],
)
async def test_odd_but_signed_requests_get_200_and_no_crash(whatsapp, twilio_api, form):
    status, _ = await post(whatsapp, form)
    assert status == 200
    await asyncio.sleep(0.3)
    assert whatsapp.bot.received == []


async def test_malformed_and_oversized_bodies_never_get_a_5xx(whatsapp, twilio_api):
    async with whatsapp.http.post(
        whatsapp.url + "webhook", data=b"\xff\xfe%%%&&==", headers={"X-Twilio-Signature": "x"}
    ) as resp:
        assert resp.status == 403
    huge = twilio_form("a" * 200_000)
    status, _ = await post(whatsapp, huge)
    assert status == 413
    # A long but legal WhatsApp message is accepted and handed over capped.
    status, _ = await post(whatsapp, twilio_form("b" * 10_000))
    assert status == 200
    received = await whatsapp.bot.wait_for(1)
    assert len(received[0].text) == 4096


@pytest.mark.parametrize(
    ("media", "key"),
    [
        (
            {
                "NumMedia": "1",
                "MediaContentType0": "audio/ogg",
                "MediaUrl0": "https://api.twilio.com/media/ME1",
            },
            "media_voice",
        ),
        (
            {
                "NumMedia": "1",
                "MediaContentType0": "image/jpeg",
                "MediaUrl0": "https://api.twilio.com/media/ME2",
            },
            "media_attachment",
        ),
        (
            {
                "NumMedia": "1",
                "MediaContentType0": "application/pdf",
                "MediaUrl0": "https://api.twilio.com/media/ME3",
            },
            "media_attachment",
        ),
        ({"Latitude": "41.1171", "Longitude": "16.8719"}, "media_location"),
    ],
    ids=["voice", "image", "document", "location"],
)
async def test_media_get_a_polite_answer_and_nothing_reaches_rasa(whatsapp, twilio_api, media, key):
    status, _ = await post(whatsapp, twilio_form(None, **media))
    assert status == 200
    sent = await twilio_api.wait_for(1)
    assert sent[0]["Body"] == channel_message(key, [None])
    await asyncio.sleep(0.2)
    assert whatsapp.bot.received == []


async def test_a_photo_with_a_caption_gets_the_notice_and_the_caption_is_understood(
    whatsapp, twilio_api
):
    await post(
        whatsapp,
        twilio_form(
            "permesso scaduto",
            NumMedia="1",
            MediaContentType0="image/png",
            MediaUrl0="https://x/ME4",
        ),
    )
    sent = await twilio_api.wait_for(2)
    assert [m["Body"] for m in sent] == [
        channel_message("media_attachment", [None]),
        "echo: permesso scaduto",
    ]


async def test_buttons_are_numbered_and_a_number_picks_one(whatsapp, twilio_api):
    await post(whatsapp, twilio_form("options"))
    sent = await twilio_api.wait_for(1)
    assert sent[0]["Body"] == (
        "Where do you live?\n\n1. Bari\n2. Lecce\n3. Somewhere with a long name"
    )
    await post(whatsapp, twilio_form("2"))
    received = await whatsapp.bot.wait_for(2)
    assert received[1].text == BUTTONS[1]["payload"]
    # The options were for that one reply: a later "2" is just "2".
    await post(whatsapp, twilio_form("2"))
    received = await whatsapp.bot.wait_for(3)
    assert received[2].text == "2"


async def test_out_of_range_number_is_passed_on_as_text(whatsapp, twilio_api):
    await post(whatsapp, twilio_form("options"))
    await twilio_api.wait_for(1)
    await post(whatsapp, twilio_form("7"))
    assert (await whatsapp.bot.wait_for(2))[1].text == "7"


async def test_long_answers_are_split_at_whatsapps_limit_on_sentences(whatsapp, twilio_api):
    await post(whatsapp, twilio_form("long"))
    await twilio_api.wait_for(3)
    await asyncio.sleep(0.2)
    bodies = [m["Body"] for m in twilio_api.messages]
    assert len(bodies) == 3
    assert all(len(b) <= 1600 for b in bodies)
    assert all(b.endswith(".") for b in bodies)  # cut after a sentence, not mid-word
    assert " ".join(bodies) == LONG_ANSWER


async def test_a_channel_without_credentials_is_off(monkeypatch, store, caplog):
    from channels.whatsapp import WhatsAppInput

    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_NUMBER"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    with caplog.at_level(logging.INFO, logger="channels.whatsapp"):
        channel = WhatsAppInput.from_credentials(None)
    assert [r.getMessage() for r in caplog.records if "whatsapp" in r.getMessage()] == [
        "whatsapp channel off: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
        "TWILIO_WHATSAPP_NUMBER to switch it on"
    ]
    served, stop = await serve(channel, store)
    try:
        status, _ = await post(served, twilio_form("ciao"))
        assert status == 404
        async with served.http.get(served.url) as resp:
            assert (await resp.json()) == {"status": "off"}
    finally:
        await stop()
        get_settings.cache_clear()


async def test_no_phone_number_or_text_in_the_logs(whatsapp, twilio_api, caplog):
    with caplog.at_level(logging.DEBUG):
        await post(whatsapp, twilio_form("il mio segreto", sender=PERSON))
        await twilio_api.wait_for(1)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("channels"))
    assert "whatsapp: message" in logged
    assert "393331234567" not in logged and "segreto" not in logged


async def test_send_to_person_respects_the_24_hour_window(whatsapp, twilio_api):
    from channels.outbound import ChannelOutbound
    from channels.whatsapp import UnknownRecipient, WindowClosed

    await post(whatsapp, twilio_form("ciao", sender=PERSON))
    await twilio_api.wait_for(1)
    person = whatsapp.bot.received[0].sender_id
    port = ChannelOutbound(store=whatsapp.store)
    try:
        await port.send_to_person(person, "A mediator writes")
        assert (await twilio_api.wait_for(2))[1] == {
            "To": PERSON,
            "From": WHATSAPP_NUMBER,
            "Body": "A mediator writes",
        }

        with whatsapp.store.engine.begin() as conn:
            from channels.store import channel_contacts

            conn.execute(channel_contacts.update().values(last_inbound_at=time.time() - 25 * 3600))
        with pytest.raises(WindowClosed):
            await port.send_to_person(person, "too late")
        with pytest.raises(UnknownRecipient):
            await port.send_to_person("wa-000000000000000000000000", "hi")
        assert len(twilio_api.messages) == 2
    finally:
        await port.aclose()


async def test_twilio_refusing_for_the_window_is_reported_as_window_closed(whatsapp, twilio_api):
    from channels.outbound import ChannelOutbound
    from channels.whatsapp import WindowClosed

    await post(whatsapp, twilio_form("ciao"))
    await twilio_api.wait_for(1)
    twilio_api.fail_with = (400, 63016)
    port = ChannelOutbound(store=whatsapp.store)
    try:
        with pytest.raises(WindowClosed):
            await port.send_to_person(whatsapp.bot.received[0].sender_id, "hi")
    finally:
        await port.aclose()


async def test_outbound_routes_by_pseudonym_and_knows_the_window(whatsapp, twilio_api):
    from channels.outbound import ChannelOutbound
    from channels.whatsapp import UnknownRecipient, WindowClosed

    await post(whatsapp, twilio_form("ciao", sender=PERSON))
    await twilio_api.wait_for(1)
    person = whatsapp.bot.received[0].sender_id
    port = ChannelOutbound(store=whatsapp.store)
    try:
        await port.send_to_person(
            person, "Ciao, sono Sara, mediatrice", [{"title": "Sì", "payload": "/affirm"}]
        )
        assert (await twilio_api.wait_for(2))[1]["Body"] == "Ciao, sono Sara, mediatrice\n\n1. Sì"

        with whatsapp.store.engine.begin() as conn:
            from channels.store import channel_contacts

            conn.execute(channel_contacts.update().values(last_inbound_at=time.time() - 24 * 3600))
        with pytest.raises(WindowClosed):
            await port.send_to_person(person, "exactly 24 hours later")
        with pytest.raises(UnknownRecipient):
            await port.send_to_person("web-unknown", "no channel reaches this one")
        assert len(twilio_api.messages) == 2
    finally:
        await port.aclose()


async def test_quick_successive_messages_are_answered_in_order(whatsapp, twilio_api):
    for word in ("uno", "due", "tre", "quattro", "cinque"):
        await post(whatsapp, twilio_form(word, sender=PERSON))
    sent = await twilio_api.wait_for(5)
    assert [m["Body"] for m in sent] == [
        f"echo: {w}" for w in ("uno", "due", "tre", "quattro", "cinque")
    ]


async def test_database_down_the_message_is_kept_on_disk_and_twilio_gets_200(
    channel_env, twilio_api, dead_store
):
    from channels.spool import Spool
    from channels.whatsapp import WhatsAppInput

    served, stop = await serve(WhatsAppInput(get_settings(), store=dead_store), dead_store)
    try:
        # Twilio does not redeliver an incoming message: the 200 must mean "kept".
        assert (await post(served, twilio_form("ciao", sid="SM" + "d" * 32)))[0] == 200
        kept = Spool(dead_store.spool_dir).pending("whatsapp")
        assert [(k.delivery_id, k.payload["text"]) for k in kept] == [("SM" + "d" * 32, "ciao")]
    finally:
        await stop()


async def test_database_and_disk_down_twilio_gets_503(channel_env, twilio_api, dead_store):
    from channels.whatsapp import WhatsAppInput

    dead_store.spool_dir.parent.mkdir(parents=True, exist_ok=True)
    dead_store.spool_dir.write_text("not a folder")  # the disk refuses the spool too
    served, stop = await serve(WhatsAppInput(get_settings(), store=dead_store), dead_store)
    try:
        assert (await post(served, twilio_form("ciao")))[0] == 503
    finally:
        await stop()
