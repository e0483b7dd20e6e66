"""Files and delivery failures in a hand-off, through the real assistant, fakes and PostgreSQL.

Issue #17, parts 1 and 2, from outside: one stack (`python -m app run`) with the WhatsApp and
Telegram webhooks, the fake Twilio (media URLs behind credentials, status callbacks signed as
Twilio signs them, 63016 for free-form text outside a closed window) and the fake Telegram
(getFile, downloads, uploads).

- a WhatsApp person's photo and voice note reach a Telegram mediator as a photo and a voice
  note; a photo that is too big and a video get the polite refusal in the person's language;
- the Telegram mediator's photo reaches the WhatsApp person as media, by a link Twilio fetches
  from the assistant;
- a Telegram person's voice note reaches a WhatsApp mediator as media, and his photo and voice
  note reach the person as a photo and a voice note;
- the card to a WhatsApp mediator who never wrote goes as the approved template;
- a message Twilio fails with 63016 is written on the ticket and told in the group;
- the files are kept with the tickets, and gone after "delete my data".
"""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa
from channel_fakes import (
    FakeTelegram,
    FakeTwilio,
    start_stack,
    telegram_callback_update,
    telegram_message_update,
    telegram_text_update,
)
from test_handoff_e2e import Platforms, eventually, has, ticket_number

from bot.messages import render
from bot.settings import PROJECT_ROOT
from bot.training import model_path
from handoff.media import MediaStore
from handoff.store import HandoffStore
from handoff.texts import mediator_text
from tests.databases import postgres_database

pytestmark = pytest.mark.e2e

GROUP = -1001234567890
SARA = 4242  # Telegram mediator
MARCO = "whatsapp:+393330000002"  # WhatsApp mediator, never wrote to the business number
PERSON_WA = "whatsapp:+393331110001"
PERSON_TG = 555000222
CARD_TEMPLATE = "HX" + "c" * 32
IMAGE_LIMIT = 100_000
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # 10 kB that start like a JPEG
BIG_JPEG = b"\xff\xd8\xff\xe0" + b"\0" * (IMAGE_LIMIT + 10)
OGG = b"OggS" + bytes(range(256)) * 20
MEDIATOR_JPEG = b"\xff\xd8\xff\xe1" + b"mediator" * 500


async def test_files_both_ways_templates_and_failures(tmp_path: Path):
    assert model_path().exists(), "no trained model for the current inputs: run `make train`"
    twilio, telegram = await FakeTwilio().start(), await FakeTelegram().start()
    env = {
        "TELEGRAM_MEDIATOR_CHAT_ID": str(GROUP),
        "TWILIO_CARD_TEMPLATE_SID": CARD_TEMPLATE,
        "TWILIO_STATUS_CALLBACK_URL": "{base_url}/webhooks/whatsapp/status",
        "MEDIA_PUBLIC_URL": "{base_url}/webhooks/media/",
        "MEDIA_DIR": str(tmp_path / "media"),
        "MEDIA_MAX_IMAGE_BYTES": str(IMAGE_LIMIT),
        "HANDOFF_DEFAULT_WAIT_MINUTES": "15",
    }
    with postgres_database("media_e2e") as url:
        store = HandoffStore(url)
        store.mediators.add("Sara", ["ar", "en", "it"], telegram_user_id=str(SARA))
        store.mediators.add("Marco", ["uk", "ru"], whatsapp=MARCO, ui_language="en")
        stack = await start_stack(PROJECT_ROOT, twilio, telegram, url, extra_env=env)
        try:
            async with aiohttp.ClientSession() as http:
                io = Platforms(http, twilio, telegram)
                io.base_url = stack.base_url
                media = MediaStore(url, directory=tmp_path / "media")
                wa_ticket = await whatsapp_person_files(io, media)
                await telegram_person_whatsapp_mediator(io, store, media)
                await files_erased_with_the_person(io, store, media, wa_ticket)
        finally:
            await stack.stop()
            await twilio.stop()
            await telegram.stop()


async def whatsapp_person_files(io: Platforms, media: MediaStore) -> int:
    await io.whatsapp(PERSON_WA, "I want to talk to a mediator")
    opened = await eventually(lambda: io.to_whatsapp(PERSON_WA), has("#"), "ticket")
    ticket = ticket_number(opened[-1])
    await eventually(lambda: io.chat_texts(GROUP), has(f"#{ticket}"), "card in the group")
    await io.telegram_update(telegram_callback_update(f"claim:{ticket}", chat_id=SARA))
    await eventually(lambda: io.to_whatsapp(PERSON_WA), has("Sara"), "person told")

    # A photo and a voice note reach Sara as a photo and a voice note, the same bytes.
    await io.whatsapp_file(PERSON_WA, JPEG, "image/jpeg")
    photos = await eventually(lambda: io.uploads("sendPhoto", SARA), len, "photo to Sara")
    assert photos[0]["photo"]["bytes"] == JPEG
    assert f"#{ticket}" in photos[0]["caption"]
    await io.whatsapp_file(PERSON_WA, OGG, "audio/ogg")
    voices = await eventually(lambda: io.uploads("sendVoice", SARA), len, "voice to Sara")
    assert voices[0]["voice"]["bytes"] == OGG

    # Too big, and a type that is not passed on: refused, in the person's language.
    seen = len(io.to_whatsapp(PERSON_WA))
    await io.whatsapp_file(PERSON_WA, BIG_JPEG, "image/jpeg")
    too_big = render("utter_media_refused_size", "en", limit="100 kB")
    await eventually(lambda: io.to_whatsapp(PERSON_WA)[seen:], has(too_big), "size refusal")
    await io.whatsapp_file(PERSON_WA, b"\0\0\0\x18ftypmp42" + b"\0" * 100, "video/mp4")
    wrong = render("utter_media_refused_type", "en")
    await eventually(lambda: io.to_whatsapp(PERSON_WA)[seen:], has(wrong), "type refusal")
    assert len(io.uploads("sendPhoto", SARA)) == 1  # nothing refused reached her

    # Sara's photo reaches the WhatsApp person as media, by a link Twilio fetches from us.
    file_id = io.telegram.add_file(MEDIATOR_JPEG, "photos/file_7.jpg")
    photo = [{"file_id": file_id, "file_unique_id": "u7", "width": 9, "height": 9}]
    await io.telegram_update(
        telegram_message_update({"photo": photo, "caption": "the form"}, chat_id=SARA)
    )
    sent = await eventually(
        lambda: [m for m in io.messages_to_whatsapp(PERSON_WA) if m.get("MediaUrl")],
        len,
        "media sent",
    )
    assert sent[0]["MediaUrl"].startswith(io.base_url + "/webhooks/media/")
    assert sent[0].get("Body") == "the form"
    fetched = await eventually(
        lambda: [f for f in io.twilio.fetched if f[0] == sent[0]["MediaUrl"]], len, "fetched"
    )
    assert fetched[0][1:] == (200, "image/jpeg", MEDIATOR_JPEG)

    kept = media.for_ticket(ticket)
    assert [(f.direction, f.kind) for f in kept] == [
        ("in", "image"),
        ("in", "voice"),
        ("out", "image"),
    ]
    assert all(media.path(f).is_file() for f in kept)
    return ticket


async def telegram_person_whatsapp_mediator(io: Platforms, store: HandoffStore, media: MediaStore):
    await io.telegram_update(
        telegram_text_update("Мені потрібен медіатор", chat_id=PERSON_TG, language="uk")
    )
    opened = await eventually(lambda: io.chat_texts(PERSON_TG), has("#"), "ticket opened")
    ticket = ticket_number(opened[-1])
    # Marco never wrote to the business number: the card is the approved template.
    cards = await eventually(
        lambda: [m for m in io.messages_to_whatsapp(MARCO) if m.get("ContentSid")],
        len,
        "template card",
    )
    assert cards[0]["ContentSid"] == CARD_TEMPLATE
    assert "Body" not in cards[0]
    variables = json.loads(cards[0]["ContentVariables"])
    assert variables["1"] == f"#{ticket}" and variables["2"] == "uk"

    await io.whatsapp(MARCO, f"claim {ticket}")
    await eventually(lambda: io.chat_texts(PERSON_TG), has("Marco"), "person told")

    # The person's voice note reaches Marco as media; Twilio fetches it from the assistant.
    file_id = io.telegram.add_file(OGG, "voice/file_9.oga")
    voice = {"file_id": file_id, "file_unique_id": "u9", "duration": 2, "mime_type": "audio/ogg"}
    await io.telegram_update(
        telegram_message_update({"voice": voice}, chat_id=PERSON_TG, language="uk")
    )
    sent = await eventually(
        lambda: [m for m in io.messages_to_whatsapp(MARCO) if m.get("MediaUrl")],
        len,
        "voice to Marco",
    )
    fetched = await eventually(
        lambda: [f for f in io.twilio.fetched if f[0] == sent[0]["MediaUrl"]], len, "fetched"
    )
    assert fetched[0][1:] == (200, "audio/ogg", OGG)

    # Marco's photo reaches the Telegram person as a photo.
    url = io.twilio.add_media(MEDIATOR_JPEG, "image/jpeg")
    await io.whatsapp(MARCO, "", NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg")
    photos = await eventually(lambda: io.uploads("sendPhoto", PERSON_TG), len, "photo to person")
    assert photos[0]["photo"]["bytes"] == MEDIATOR_JPEG
    # And his voice note reaches the person as a voice note.
    url = io.twilio.add_media(OGG, "audio/ogg")
    await io.whatsapp(MARCO, "", NumMedia="1", MediaUrl0=url, MediaContentType0="audio/ogg")
    voices = await eventually(lambda: io.uploads("sendVoice", PERSON_TG), len, "voice to person")
    assert voices[0]["voice"]["bytes"] == OGG

    # WhatsApp closes Marco's window after all: Twilio fails the next text with 63016.
    io.twilio.window_closed.add(MARCO)
    await io.telegram_update(telegram_text_update("Доброго дня", chat_id=PERSON_TG, language="uk"))
    await eventually(
        lambda: [c for c in io.twilio.callbacks if c[1].get("ErrorCode") == "63016"],
        lambda c: c and c[0][2] == 204,
        "63016 callback accepted",
    )
    told = mediator_text(
        "mediator_delivery_failed", "it", ticket=f"#{ticket}", name="Marco", reason="error 63016"
    )
    await eventually(lambda: io.chat_texts(GROUP), has(told), "group told")
    lines = [m.text for m in store.transcripts.messages(ticket)]
    assert told in lines  # written on the ticket (the desk shows it)
    with store.engine.connect() as conn:
        failed = (
            conn.execute(
                sa.text(
                    "SELECT error_code FROM handoff_delivery_status "
                    "WHERE ticket_id = :t AND status = 'failed'"
                ),
                {"t": ticket},
            )
            .scalars()
            .all()
        )
    assert failed == [63016]
    kept = [(f.direction, f.kind) for f in media.for_ticket(ticket)]
    assert kept == [("in", "voice"), ("out", "image"), ("out", "voice")]


async def files_erased_with_the_person(
    io: Platforms, store: HandoffStore, media: MediaStore, ticket: int
) -> None:
    paths = [media.path(f) for f in media.for_ticket(ticket)]
    assert paths
    seen = len(io.to_whatsapp(PERSON_WA))
    await io.whatsapp(PERSON_WA, "delete my data")
    question = render("utter_privacy_confirm_delete", "en").split("\n")[0]
    await eventually(lambda: io.to_whatsapp(PERSON_WA)[seen:], has(question), "confirm?")
    await io.whatsapp(PERSON_WA, "yes")
    done = render("utter_privacy_deleted", "en")
    await eventually(lambda: io.to_whatsapp(PERSON_WA)[seen:], has(done), "erased")
    # The erasure runs once the confirmation is on its way (app.erasure).
    await eventually(lambda: media.for_ticket(ticket), lambda kept: kept == [], "files erased")
    assert not any(p.exists() for p in paths)
