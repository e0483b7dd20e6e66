"""Fetching what people send (``channels/media_fetch.py``) from the fake Twilio and Telegram."""

from __future__ import annotations

import dataclasses

import pytest
from channel_fakes import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    BOT_TOKEN,
    telegram_message_update,
    twilio_form,
)
from multidict import MultiDict

from bot.settings import get_settings
from channels.media_fetch import (
    fetch_telegram,
    fetch_twilio,
    fetch_twilio_all,
    telegram_attachment,
    twilio_media_items,
)
from handoff.media import MediaStore, Refused

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(range(256)) * 20
OGG = b"OggS\x00\x02" + b"\x01" * 4000
PERSON = "wa-3f0c2b1a9e8d7c6b5a4f3e2d"


@pytest.fixture
def settings(tmp_path, twilio_api):
    return dataclasses.replace(
        get_settings(),
        database_url=f"sqlite:///{tmp_path / 'media.db'}",
        media_dir=tmp_path / "media",
        twilio_api_base_url=twilio_api.base_url,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        media_max_image_bytes=len(JPEG),
        media_max_voice_bytes=len(OGG),
    )


@pytest.fixture
def media(settings):
    store = MediaStore(settings.database_url, settings)
    yield store
    store.dispose()


@pytest.fixture
async def bot(telegram_api):
    from telegram import Bot

    bot = Bot(
        BOT_TOKEN,
        base_url=f"{telegram_api.base_url}/bot",
        base_file_url=f"{telegram_api.base_url}/file/bot",
    )
    yield bot
    await bot.shutdown()


def leftovers(media: MediaStore) -> list[str]:
    return [p.name for p in media.directory.rglob("*") if p.is_file()]


def test_the_files_of_a_webhook_are_read_with_their_types():
    form = twilio_form(
        "",
        NumMedia="2",
        MediaUrl0="https://api.twilio.com/a",
        MediaContentType0="image/jpeg",
        MediaUrl1="https://api.twilio.com/b",
        MediaContentType1="audio/ogg",
    )
    assert twilio_media_items(MultiDict(form)) == [
        ("https://api.twilio.com/a", "image/jpeg"),
        ("https://api.twilio.com/b", "audio/ogg"),
    ]
    assert twilio_media_items(MultiDict(twilio_form("ciao"))) == []


async def test_a_whatsapp_photo_is_fetched_with_the_account_and_kept(media, settings, twilio_api):
    url = twilio_api.add_media(JPEG, "image/jpeg")

    spool = await fetch_twilio(url, "image/jpeg", media, settings=settings)
    kept = media.add(spool, person=PERSON, ticket_id=3)

    assert media.path(kept).read_bytes() == JPEG and kept.kind == "image"
    # Twilio redirected to a short-lived copy on another origin: the account's credentials
    # went to Twilio's API only, never to that host.
    assert len(twilio_api.cdn_requests) == 1
    assert "Authorization" not in twilio_api.cdn_requests[0]


async def test_a_voice_note_from_whatsapp_is_fetched(media, settings, twilio_api):
    url = twilio_api.add_media(OGG, "audio/ogg")
    spool = await fetch_twilio(url, "audio/ogg; codecs=opus", media, settings=settings)
    assert media.add(spool, person=PERSON, ticket_id=3).kind == "voice"


async def test_a_file_over_the_limit_is_refused_and_nothing_is_kept(media, settings, twilio_api):
    url = twilio_api.add_media(JPEG + b"\x00", "image/jpeg")
    with pytest.raises(Refused) as refused:
        await fetch_twilio(url, "image/jpeg", media, settings=settings)
    assert (refused.value.reason, refused.value.limit) == ("size", len(JPEG))
    assert leftovers(media) == []


async def test_a_type_not_passed_on_is_refused_without_downloading(media, settings, twilio_api):
    url = twilio_api.add_media(b"\x00\x00\x00\x18ftypmp42", "video/mp4")
    with pytest.raises(Refused) as refused:
        await fetch_twilio(url, "video/mp4", media, settings=settings)
    assert refused.value.reason == "type"
    assert twilio_api.cdn_requests == []


async def test_credentials_never_go_to_a_url_outside_twilio(media, settings, twilio_api):
    elsewhere = twilio_api.cdn_url + "/steal"
    with pytest.raises(Refused) as refused:
        await fetch_twilio(elsewhere, "image/jpeg", media, settings=settings)
    assert refused.value.reason == "failed"
    assert twilio_api.cdn_requests == []


async def test_wrong_credentials_are_a_failure(media, settings, twilio_api):
    url = twilio_api.add_media(JPEG, "image/jpeg")
    wrong = dataclasses.replace(settings, twilio_auth_token="0" * 32)
    with pytest.raises(Refused) as refused:
        await fetch_twilio(url, "image/jpeg", media, settings=wrong)
    assert refused.value.reason == "failed" and leftovers(media) == []


async def test_a_telegram_voice_note_is_fetched_with_getfile(media, bot, telegram_api):
    file_id = telegram_api.add_file(OGG, "voice/file_7.oga")

    spool = await fetch_telegram(bot, file_id, "audio/ogg", media, declared_size=len(OGG))
    kept = media.add(spool, person="tg-1", ticket_id=4)

    assert media.path(kept).read_bytes() == OGG and kept.kind == "voice"
    assert telegram_api.methods("getFile") == [{"file_id": file_id}]
    assert telegram_api.downloads == ["voice/file_7.oga"]


async def test_a_telegram_file_declared_too_big_is_refused_before_getfile(media, bot, telegram_api):
    file_id = telegram_api.add_file(JPEG, "photos/file_1.jpg")
    with pytest.raises(Refused) as refused:
        await fetch_telegram(bot, file_id, "image/jpeg", media, declared_size=len(JPEG) + 1)
    assert refused.value.reason == "size"
    assert telegram_api.methods("getFile") == [] and telegram_api.downloads == []


async def test_a_telegram_file_over_the_bot_api_limit_is_refused_by_size(media, bot, telegram_api):
    file_id = telegram_api.add_file(JPEG, "photos/file_2.jpg")
    telegram_api.too_big.add(file_id)
    with pytest.raises(Refused) as refused:
        await fetch_telegram(bot, file_id, "image/jpeg", media)
    assert refused.value.reason == "size" and telegram_api.downloads == []


async def test_a_telegram_file_getfile_reports_too_big_is_not_downloaded(media, bot, telegram_api):
    file_id = telegram_api.add_file(OGG + b"\x01", "voice/file_8.oga")  # one byte over
    with pytest.raises(Refused) as refused:
        await fetch_telegram(bot, file_id, "audio/ogg", media, declared_size=10)
    assert refused.value.reason == "size"
    assert telegram_api.downloads == [] and leftovers(media) == []


async def test_the_limit_holds_while_streaming_without_a_length(media, settings, twilio_api):
    twilio_api.cdn_chunked = True  # no Content-Length: only counting the bytes can stop it
    url = twilio_api.add_media(JPEG + b"\x00" * 70_000, "image/jpeg")
    with pytest.raises(Refused) as refused:
        await fetch_twilio(url, "image/jpeg", media, settings=settings)
    assert refused.value.reason == "size" and leftovers(media) == []


async def test_an_unknown_telegram_file_is_a_failure(media, bot, telegram_api):
    with pytest.raises(Refused) as refused:
        await fetch_telegram(bot, "AgACnothing", "image/jpeg", media)
    assert refused.value.reason == "failed"


def _telegram_message(fields: dict):
    from telegram import Message

    return Message.de_json(telegram_message_update(fields)["message"], None)


def test_the_file_of_a_telegram_message_is_read_from_its_kind(media):
    sizes = [
        {"file_id": f"p{n}", "file_unique_id": f"u{n}", "width": n, "height": n, "file_size": size}
        for n, size in ((90, 900), (320, len(JPEG)), (1280, 10**6))
    ]
    photo = _telegram_message({"photo": sizes, "caption": "my permit"})
    # The largest size that fits the image limit, not the largest there is.
    assert telegram_attachment(photo, media.policy) == ("p320", "image/jpeg", len(JPEG))
    voice = _telegram_message(
        {"voice": {"file_id": "v", "file_unique_id": "uv", "duration": 3, "file_size": 4000}}
    )
    assert telegram_attachment(voice, media.policy) == ("v", "audio/ogg", 4000)
    document = _telegram_message(
        {"document": {"file_id": "d", "file_unique_id": "ud", "mime_type": "application/pdf"}}
    )
    assert telegram_attachment(document, media.policy) == ("d", "application/pdf", None)
    video = _telegram_message(
        {"video": {"file_id": "m", "file_unique_id": "um", "width": 1, "height": 1, "duration": 1}}
    )
    assert telegram_attachment(video, media.policy)[1] == "video/mp4"  # refused by type later
    sticker = _telegram_message(
        {
            "sticker": {
                "file_id": "s",
                "file_unique_id": "us",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        }
    )
    assert telegram_attachment(sticker, media.policy) is None


async def test_every_file_of_a_webhook_is_fetched_or_refused_in_order(media, settings, twilio_api):
    form = twilio_form(
        "",
        NumMedia="2",
        MediaUrl0=twilio_api.add_media(b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
        MediaContentType0="video/mp4",
        MediaUrl1=twilio_api.add_media(OGG, "audio/ogg"),
        MediaContentType1="audio/ogg",
    )
    first, second = await fetch_twilio_all(MultiDict(form), media, settings=settings)
    assert isinstance(first, Refused) and first.reason == "type"
    assert media.add(second, person=PERSON, ticket_id=1, source_key="whatsapp:SM1:1").kind == (
        "voice"
    )
