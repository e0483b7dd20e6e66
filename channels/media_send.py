"""Sending a hand-off file on: to Telegram as the same kind of file, to WhatsApp by link.

A photo should reach a Telegram mediator as a photo, a voice note as a voice note they can play
in the chat, a PDF as a document, so nobody has to open a download to see what the person
sent. Telegram's ``sendVoice`` takes OGG/Opus, MP3 and M4A; other audio goes as a document.
WhatsApp (Twilio) takes media only by URL: :func:`whatsapp_media_url` makes a short-lived link
(``channels.media_files`` serves it) for the ``MediaUrl`` of the message.
"""

from __future__ import annotations

from typing import Any

from handoff.media import MediaFile, MediaStore, download_name

VOICE_TYPES = ("audio/ogg", "audio/opus", "audio/mpeg", "audio/mp4", "audio/x-m4a")


def telegram_method(media: MediaFile) -> str:
    """The Bot API method that shows this file as what it is."""
    if media.kind == "image":
        return "send_photo"
    if media.kind == "voice" and media.content_type in VOICE_TYPES:
        return "send_voice"
    return "send_document"


async def send_telegram_file(
    bot: Any, chat_id: int | str, media: MediaFile, store: MediaStore, caption: str | None = None
) -> Any:
    """Upload a stored file to a Telegram chat; returns the sent Message.

    PTB errors propagate (the caller maps them as for text: ``channels.telegram._call``).
    """
    method = getattr(bot, telegram_method(media))
    with store.path(media).open("rb") as handle:
        return await method(chat_id, handle, caption=caption, filename=download_name(media))


def whatsapp_media_url(media: MediaFile, store: MediaStore, minutes: int | None = None) -> str:
    """A link Twilio can fetch the file from, for the ``MediaUrl`` of a WhatsApp message."""
    return store.link(media.id, minutes)
