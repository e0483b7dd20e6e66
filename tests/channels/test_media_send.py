"""A hand-off file reaches a Telegram mediator as the same kind of file (channels/media_send)."""

from __future__ import annotations

import dataclasses

import pytest
from channel_fakes import BOT_TOKEN

from bot.settings import get_settings
from channels.media_send import send_telegram_file, whatsapp_media_url
from handoff.media import MediaStore

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 300
OGG = b"OggS\x00\x02" + b"\x01" * 300
AAC = b"\xff\xf1\x50\x80" + b"\x00" * 300
PDF = b"%PDF-1.4\n" + b"%" * 300


@pytest.fixture
def media(tmp_path):
    settings = dataclasses.replace(
        get_settings(), database_url=f"sqlite:///{tmp_path / 'm.db'}", media_dir=tmp_path / "media"
    )
    store = MediaStore(settings.database_url, settings)
    yield store
    store.dispose()


@pytest.fixture
async def bot(telegram_api):
    from telegram import Bot

    bot = Bot(BOT_TOKEN, base_url=f"{telegram_api.base_url}/bot")
    yield bot
    await bot.shutdown()


def keep(media, content, content_type):
    with media.spool(content_type) as spool:
        spool.write(content)
        spool.finish()
        return media.add(spool, person="wa-p", ticket_id=42)


@pytest.mark.parametrize(
    "content, content_type, method, field",
    [
        (JPEG, "image/jpeg", "sendPhoto", "photo"),
        (OGG, "audio/ogg", "sendVoice", "voice"),
        (PDF, "application/pdf", "sendDocument", "document"),
        (AAC, "audio/aac", "sendDocument", "document"),  # sendVoice takes OGG, MP3 and M4A only
    ],
)
async def test_a_file_goes_to_telegram_as_what_it_is(
    media, bot, telegram_api, content, content_type, method, field
):
    kept = keep(media, content, content_type)

    sent = await send_telegram_file(bot, 555, kept, media, caption="#42")

    [call] = telegram_api.methods(method)
    assert call[field]["bytes"] == content
    assert call[field]["filename"].startswith(f"ticket-42-{kept.id}.")
    assert (call["chat_id"], call["caption"]) == (555, "#42")
    assert sent.caption == "#42"


def test_a_file_goes_to_whatsapp_as_a_link_that_opens_it(media):
    kept = keep(media, PDF, "application/pdf")
    url = whatsapp_media_url(kept, media, minutes=5)
    assert media.resolve(url.rsplit("/", 1)[1]) == kept
