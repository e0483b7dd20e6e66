"""Fetching the files people send, from Twilio and from Telegram, within the hand-off's limits.

Platform code, so it lives with the channels; the policy (types, limits, where files go) is
``handoff.media``. Both fetchers return a finished :class:`handoff.media.Spool`, ready for
``MediaStore.add``, or raise :class:`handoff.media.Refused` with a reason code the caller turns
into a message in the sender's language (``person_refusal_text``).

- **Twilio** (``MediaUrl0``…``MediaUrl9`` of an inbound WhatsApp webhook, with
  ``MediaContentType0``…): Twilio's media URLs need the account's credentials (HTTP basic) and
  answer with a redirect to a short-lived copy on another host. The credentials go to the
  Twilio API's own origin only (``TWILIO_API_BASE_URL``): a URL elsewhere is refused before
  any request, and aiohttp drops the ``Authorization`` header when a redirect leaves the origin
  (it is given per request, never as the session's default, which aiohttp would send on).
- **Telegram** (``file_id`` of a photo, document, voice or audio): ``getFile`` through
  python-telegram-bot's ``Bot`` (PTB 22 returns ``File.file_path`` as the whole download URL,
  built from the Bot's ``base_file_url``), then the download itself. Bots may download files
  of up to 20 MB; Telegram answers "file is too big" beyond that, read here as ``size``.

Limits hold before and during the download: a declared size (Telegram's ``file_size``, an
HTTP ``Content-Length``) over the limit is refused without reading the body, and the spool
stops at the first byte over it whatever was declared. Download URLs are never logged: a
Telegram file URL contains the bot token.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from bot.settings import Settings
from handoff.media import MediaPolicy, MediaStore, Refused, Spool

logger = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
MAX_REDIRECTS = 3
TIMEOUT = aiohttp.ClientTimeout(total=120, sock_connect=10, sock_read=30)


def twilio_media_items(params: Any) -> list[tuple[str, str]]:
    """(URL, content type) of each file of an inbound Twilio webhook (at most 10)."""
    try:
        count = max(0, min(int(params.get("NumMedia") or 0), 10))
    except ValueError:
        count = 0
    items = []
    for i in range(count):
        url = params.get(f"MediaUrl{i}") or ""
        if url:
            items.append((url, params.get(f"MediaContentType{i}") or ""))
    return items


def telegram_attachment(message: Any, policy: MediaPolicy) -> tuple[str, str, int | None] | None:
    """(file_id, content type, declared size) of the file in a Telegram message, if any.

    A photo comes in several sizes: the largest that fits the image limit is taken (Telegram
    converts photos to JPEG). A voice note is ``audio/ogg`` unless it says otherwise. Videos
    and animations are returned as what they are, to be refused by type with a message;
    stickers, contacts and locations are not files a person means to pass on (None).
    """
    if message.photo:
        limit = policy.limits["image"]
        sizes = [p for p in message.photo if p.file_size is None or p.file_size <= limit]
        chosen = (sizes or list(message.photo))[-1]
        return chosen.file_id, "image/jpeg", chosen.file_size
    for attribute, default in (
        ("voice", "audio/ogg"),
        ("audio", "audio/mpeg"),
        ("document", "application/octet-stream"),
        ("video", "video/mp4"),
        ("video_note", "video/mp4"),
        ("animation", "video/mp4"),
    ):
        item = getattr(message, attribute, None)
        if item is not None:
            return item.file_id, getattr(item, "mime_type", None) or default, item.file_size
    return None


async def fetch_twilio_all(
    params: Any,
    store: MediaStore,
    *,
    settings: Settings,
    session: aiohttp.ClientSession | None = None,
) -> list[Spool | Refused]:
    """Every file of an inbound webhook, in order: a finished spool or why it was refused."""
    results: list[Spool | Refused] = []
    for url, content_type in twilio_media_items(params):
        try:
            results.append(
                await fetch_twilio(url, content_type, store, settings=settings, session=session)
            )
        except Refused as refused:
            results.append(refused)
    return results


def _twilio_prefix(settings: Settings) -> str:
    return (
        f"{settings.twilio_api_base_url.rstrip('/')}/2010-04-01/Accounts/"
        f"{settings.twilio_account_sid}/"
    )


async def fetch_twilio(
    url: str,
    content_type: str | None,
    store: MediaStore,
    *,
    settings: Settings,
    session: aiohttp.ClientSession | None = None,
) -> Spool:
    """Download one Twilio media URL into a spool; :class:`Refused` if it is not passed on."""
    spool = store.spool(content_type)  # refused by type before any request
    with spool:
        if not url.startswith(_twilio_prefix(settings)):
            logger.warning("media: a Twilio media URL outside the account's API was refused")
            raise Refused("failed", kind=spool.kind)
        auth = aiohttp.BasicAuth(
            settings.twilio_account_sid or "", settings.twilio_auth_token or ""
        )
        await _download(url, spool, session, auth=auth)
        return await asyncio.to_thread(spool.finish)  # fsync: off the event loop


async def fetch_telegram(
    bot: Any,
    file_id: str,
    content_type: str | None,
    store: MediaStore,
    *,
    declared_size: int | None = None,
    session: aiohttp.ClientSession | None = None,
) -> Spool:
    """Download one Telegram file (``getFile``, then the file) into a spool.

    ``content_type`` is what the message says (a photo is always ``image/jpeg``, a voice note
    ``audio/ogg``, a document its ``mime_type``); ``declared_size`` its ``file_size``.
    """
    from telegram.error import BadRequest, TelegramError

    spool = store.spool(content_type, declared_size)  # by type and declared size, at once
    with spool:
        try:
            telegram_file = await bot.get_file(file_id)
        except BadRequest as exc:
            if "too big" in str(exc).lower():
                raise Refused("size", kind=spool.kind, limit=spool.limit) from exc
            raise Refused("failed", kind=spool.kind) from exc
        except TelegramError as exc:
            logger.warning("media: getFile failed: %s", type(exc).__name__)
            raise Refused("failed", kind=spool.kind) from exc
        size = getattr(telegram_file, "file_size", None)
        if size is not None and size > spool.limit:
            raise Refused("size", kind=spool.kind, limit=spool.limit)
        url = str(getattr(telegram_file, "file_path", "") or "")
        if not url.startswith(("https://", "http://")):
            raise Refused("failed", kind=spool.kind)  # a local Bot API server's path: unused
        await _download(url, spool, session)
        return await asyncio.to_thread(spool.finish)  # fsync: off the event loop


async def _download(
    url: str,
    spool: Spool,
    session: aiohttp.ClientSession | None,
    *,
    auth: aiohttp.BasicAuth | None = None,
) -> None:
    """Stream ``url`` into ``spool``: the declared length is checked first, then every chunk."""
    own = session is None
    http = session or aiohttp.ClientSession(timeout=TIMEOUT)
    try:
        async with http.get(
            url, auth=auth, allow_redirects=True, max_redirects=MAX_REDIRECTS
        ) as resp:
            if resp.status != 200:
                logger.warning("media: download answered %s", resp.status)
                raise Refused("failed", kind=spool.kind)
            if resp.content_length is not None and resp.content_length > spool.limit:
                raise Refused("size", kind=spool.kind, limit=spool.limit)
            async for chunk in resp.content.iter_chunked(CHUNK_BYTES):
                spool.write(chunk)  # Refused("size") at the first byte over the limit
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        logger.warning("media: download failed: %s", type(exc).__name__)
        raise Refused("failed", kind=spool.kind) from exc
    finally:
        if own:
            await http.close()
