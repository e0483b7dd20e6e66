"""Telegram through python-telegram-bot, safe to expose: ``/webhooks/telegram/webhook``.

Why not Rasa's ``telegram`` channel: it calls Telegram (``set_webhook``) when the server starts,
checks no secret, and treats every update as a message. Here:

- ``X-Telegram-Bot-Api-Secret-Token`` must equal ``TELEGRAM_WEBHOOK_SECRET`` (the secret given to
  ``setWebhook`` by ``bot telegram set-webhook``), else 403;
- each ``update_id`` is claimed in the inbox (or, while the database is down, kept on local
  disk) before the 200, so a redelivery is acknowledged but not answered; only an update that
  could be stored nowhere gets a 503, which Telegram redelivers;
- private-chat messages and button presses (``callback_query``, answered with
  ``answerCallbackQuery`` so the client stops its spinner) reach Rasa; everything else (edits,
  ``my_chat_member`` when a person blocks the bot, group chatter) gets a 200 and nothing more;
- the person's Telegram ``language_code`` goes to language detection as
  ``metadata["language_hint"]``;
- nothing is sent to Telegram until there is something to say (no ``getMe`` at start-up).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.json_body import BodyError, json_object
from bot.settings import Settings
from channels.base import ContactOutputChannel, EnvironmentInputChannel
from channels.common import (
    DeliveryError,
    RecipientUnreachable,
    UnknownRecipient,
    button_payload,
    channel_message,
    pseudonym,
    split_text,
)
from channels.inbox import Delivery, Inbox, conversation_language
from channels.media_fetch import fetch_telegram, telegram_attachment
from channels.mediators import (
    Fetch,
    claim_from_card,
    mediator_command,
    mediator_file,
    person_in_handoff,
    receive_files,
    telegram_mediator,
    telegram_mediator_reached,
)
from channels.replies import ReplyLog
from channels.store import ChannelStore
from channels.turns import hand_to_rasa
from handoff.cards import CALLBACK_CLAIM
from handoff.media import Refused, get_media_store, person_refusal_text

logger = logging.getLogger(__name__)

__all__ = [
    "DeliveryError",
    "RecipientUnreachable",
    "UnknownRecipient",
    "TelegramInput",
    "TelegramOutput",
    "api_call",
    "make_bot",
    "send_parts",
]

CHANNEL = "telegram"
PREFIX = "tg"
MESSAGE_LIMIT = 4096
MAX_BODY_BYTES = 256 * 1024
MAX_TEXT_CHARS = 4096  # Telegram's own limit; MAX_MESSAGE_CHARS may be lower
CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit for callback_data
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# What `set-webhook` subscribes to; other update kinds are ignored anyway if they come.
ALLOWED_UPDATES = ("message", "callback_query")


def is_configured(settings: Settings) -> bool:
    return bool(settings.telegram_bot_token and settings.telegram_webhook_secret)


def make_bot(settings: Settings) -> Any:
    """Build a ptb ``Bot`` for TELEGRAM_API_BASE_URL; ptb appends the token to ``…/bot``."""
    from telegram import Bot

    # httpx logs every request at INFO with its URL, and a Bot API URL contains the token;
    # python-telegram-bot logs every call's parameters (chat ids, texts) at DEBUG.
    for name, level in (("httpx", logging.WARNING), ("telegram", logging.INFO)):
        library = logging.getLogger(name)
        library.setLevel(max(library.getEffectiveLevel(), level))
    # Downloads (getFile's file_path) go through TELEGRAM_API_BASE_URL too, not api.telegram.org.
    return Bot(
        settings.telegram_bot_token or "",
        base_url=f"{settings.telegram_api_base_url}/bot",
        base_file_url=f"{settings.telegram_api_base_url}/file/bot",
    )


class BotHolder:
    """One ptb Bot per event loop (its httpx pool belongs to the loop that opened it)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._bot: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> Any:
        """Return the Bot for the running loop, created (without any API call) if needed."""
        loop = asyncio.get_running_loop()
        if self._bot is None or self._loop is not loop:
            self._bot = make_bot(self.settings)
            self._loop = loop
        return self._bot

    async def aclose(self) -> None:
        """Close the Bot's HTTP pool.

        Not ``Bot.shutdown()``: it does nothing for a Bot never ``initialize()``d (that would
        call getMe), and this one never is, so its connections stayed open.
        """
        if self._bot is not None:
            await self._bot.request.shutdown()
        self._bot = None


def _callback_data(index: int, payload: str) -> str:
    # Short payloads travel as they are; long ones as "#n", looked up in the options remembered
    # for the conversation.
    if len(payload.encode("utf-8")) <= CALLBACK_DATA_LIMIT and not payload.startswith("#"):
        return payload
    return f"#{index}"


async def api_call(coro_factory: Callable[[], Awaitable[Any]], pseudonym_id: str) -> Any:
    """Make one Bot API call, waiting out one rate limit; failures as :class:`DeliveryError`.

    ``pseudonym_id`` names who the call is for in the error (never a chat id or a text).
    """
    from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError

    for attempt in range(2):
        try:
            return await coro_factory()
        except RetryAfter as exc:
            if attempt:
                raise DeliveryError(f"Telegram rate limit for {pseudonym_id}", status=429) from exc
            delay = exc.retry_after
            seconds = delay.total_seconds() if hasattr(delay, "total_seconds") else float(delay)
            await asyncio.sleep(min(seconds, 5.0))
        except Forbidden as exc:
            # "bot was blocked by the user", or "bot can't initiate conversation with a user"
            # (a mediator who never pressed Start): Telegram's words say which.
            raise RecipientUnreachable(f"{pseudonym_id}: {exc.message}", status=403) from exc
        except NetworkError as exc:
            raise DeliveryError(f"cannot reach Telegram: {type(exc).__name__}") from exc
        except TelegramError as exc:
            raise DeliveryError(f"Telegram refused: {type(exc).__name__}", status=400) from exc
    raise AssertionError("unreachable")


async def send_parts(
    bot: Any,
    chat_id: int | str,
    text: str,
    choices: Sequence[tuple[str, str]] = (),
    who: str = "",
    once: Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]] | None = None,
) -> int | None:
    """Send ``text`` in parts of at most ``MESSAGE_LIMIT``, the keyboard on the last part.

    ``choices`` are (title, callback_data) pairs, one button a row; ``once`` wraps each call
    (a turn's reply log, so a retried turn does not send a part twice). The replies to people
    and the relay's messages to mediators' chats both send this way. Returns the last part's
    message id (None through ``once``), for a card that is edited later.
    """
    markup = inline_keyboard(choices)
    parts = split_text(text or "", MESSAGE_LIMIT) or ["…"]
    last: Any = None
    for n, part in enumerate(parts):
        keyboard = markup if n == len(parts) - 1 else None

        def send(part: str = part, keyboard: Any = keyboard) -> Awaitable[Any]:
            return api_call(lambda: bot.send_message(chat_id, part, reply_markup=keyboard), who)

        if once is None:
            last = await send()
        else:
            await once(part, send)
    message_id = getattr(last, "message_id", None)
    return int(message_id) if message_id is not None else None


def inline_keyboard(choices: Sequence[tuple[str, str]]) -> Any:
    """One button a row of (title, callback_data); None for no buttons."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    if not choices:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(title[:64], callback_data=data)] for title, data in choices]
    )


async def edit_text(
    bot: Any,
    chat_id: int | str,
    message_id: int,
    text: str,
    choices: Sequence[tuple[str, str]] = (),
    who: str = "",
) -> None:
    """Replace a message's text; its buttons become ``choices`` (none: the keyboard goes).

    Telegram answers 400 "message is not modified" to an edit that changes nothing: a
    redelivered edit, so no error.
    """
    try:
        await api_call(
            lambda: bot.edit_message_text(
                text[:MESSAGE_LIMIT],
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=inline_keyboard(choices),
            ),
            who,
        )
    except DeliveryError as exc:
        if "not modified" not in str(getattr(exc.__cause__, "message", "")):
            raise


class TelegramOutput(ContactOutputChannel):
    """Replies to a pseudonym; the chat id comes from ``channel_contacts``."""

    CHANNEL = CHANNEL
    ADDRESS_KIND = "Telegram chat"

    def __init__(
        self,
        bots: BotHolder,
        store: ChannelStore,
        known: dict[str, str] | None = None,
        replies: ReplyLog | None = None,
    ):
        super().__init__(store, known, replies)
        self.bots = bots

    async def chat_id(self, recipient_id: str) -> int:
        """The Telegram chat of a pseudonym; raises :class:`UnknownRecipient`."""
        return int(await self._address(recipient_id))

    async def deliver(
        self,
        recipient_id: str,
        text: str,
        buttons: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Send text, the keyboard on its last part; raises :class:`DeliveryError`."""
        chat_id = await self.chat_id(recipient_id)
        choices: list[tuple[str, str]] = []
        if buttons:
            payloads = [button_payload(b) for b in buttons]
            await self.store.aset_options(recipient_id, payloads)
            choices = [
                (str(b.get("title") or p), _callback_data(i, p))
                for i, (b, p) in enumerate(zip(buttons, payloads, strict=True), 1)
            ]
        await send_parts(self.bots.get(), chat_id, text, choices, recipient_id, self._once)

    async def _safely(
        self, recipient_id: str, text: str, buttons: Sequence[Mapping[str, Any]] | None = None
    ) -> None:
        try:
            await self.deliver(recipient_id, text, buttons)
        except DeliveryError as exc:
            logger.error("telegram: reply to %s not delivered: %s", recipient_id, exc)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send text in parts of at most 4096 characters."""
        await self._safely(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Send the text with an inline keyboard and remember the payloads."""
        await self._safely(recipient_id, text, buttons)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Send an image by URL (Telegram fetches it)."""
        try:
            chat_id = await self.chat_id(recipient_id)
            bot = self.bots.get()
            await self._once(
                image, lambda: api_call(lambda: bot.send_photo(chat_id, image), recipient_id)
            )
        except DeliveryError as exc:
            logger.error("telegram: image to %s not delivered: %s", recipient_id, exc)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Send the ``text`` of a custom payload; anything else cannot be shown."""
        if isinstance(json_message.get("text"), str):
            await self._safely(recipient_id, json_message["text"])
        else:
            logger.warning("telegram: custom payload for %s not sendable, dropped", recipient_id)


class TelegramInput(EnvironmentInputChannel):
    """Telegram webhook; off (one log line, webhook 404) without token and secret.

    The mediator handoff can subclass it and override :meth:`route_update` to take updates
    from mediators (group chats, their private chats) before the default handling.
    """

    CHANNEL = CHANNEL
    SWITCH_ON_HINT = "TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET"
    configured = staticmethod(is_configured)

    def __init__(self, settings: Settings | None, store: ChannelStore | None = None):
        super().__init__(settings, store)
        self.bots = BotHolder(settings) if settings else None

    def get_output_channel(self) -> OutputChannel | None:
        """Output channel for replies outside a turn (None when the channel is off)."""
        return TelegramOutput(self.bots, self.store) if self.bots else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Webhook at ``/webhooks/telegram/webhook``; health at ``/webhooks/telegram/``."""
        bp = self.health_blueprint()

        if self.settings is None:
            return bp
        settings = self.settings

        secret = (settings.telegram_webhook_secret or "").encode("utf-8")

        async def process(app: Any, delivery: Delivery) -> None:
            await self._process(app, delivery, on_new_message)

        self.inbox = Inbox(CHANNEL, process, self._store, give_up=self._give_up)
        inbox = self.inbox

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
            if not hmac.compare_digest(given, secret):
                logger.warning("telegram: rejected a request with a missing or wrong secret")
                return response.text("forbidden", status=403)
            try:
                data = json_object(request.body, min(MAX_BODY_BYTES, settings.max_request_bytes))
            except BodyError as exc:
                return response.json({"error": exc.code, "message": exc.message}, status=exc.status)
            try:
                job = await self.route_update(request.app, data)
            except Exception:
                logger.exception("telegram: update could not be read, ignored")
                job = None
            if job is not None:
                try:
                    await inbox.accept(request.app, str(job["update_id"]), job)
                except Exception:
                    # Neither the database nor the local disk took it. Telegram redelivers an
                    # update until it gets a 2xx: a 503 loses nothing.
                    logger.exception("telegram: could not store update %s", job["update_id"])
                    return response.text("temporarily unavailable", status=503)
            return response.json({"ok": True})

        @bp.listener("after_server_start")
        async def resume(app: Any, _: Any) -> None:
            inbox.start(app)

        @bp.listener("before_server_stop")
        async def stop(app: Any, _: Any) -> None:
            await inbox.drain()
            if self.bots:
                await self.bots.aclose()

        return bp

    async def route_update(self, app: Any, data: dict[str, Any]) -> dict[str, Any] | None:
        """Turn an Update into a job for the inbox, or None to just acknowledge it."""
        from telegram import Update

        update = Update.de_json(data, None)
        if update is None or not isinstance(update.update_id, int):
            return None
        limit = min(
            MAX_TEXT_CHARS, self.settings.max_message_chars if self.settings else MAX_TEXT_CHARS
        )
        if update.callback_query is not None:
            query = update.callback_query
            message = query.message
            chat = getattr(message, "chat", None)
            if (query.data or "").startswith(CALLBACK_CLAIM):
                # A Claim button on a ticket card (mediators' group or a private card).
                return {
                    "update_id": update.update_id,
                    "kind": "claim",
                    "user_id": query.from_user.id,
                    "callback": query.id,
                    "data": query.data,
                    "order_key": f"mediator:{query.from_user.id}",
                }
            if chat is not None and chat.type != "private":
                return None
            chat_id = chat.id if chat is not None else query.from_user.id
            return {
                "update_id": update.update_id,
                "chat_id": chat_id,
                "order_key": chat_id,
                "callback": query.id,
                "text": (query.data or "")[:limit],
                "language": query.from_user.language_code,
            }
        message = update.message
        if message is None or message.chat.type != "private":
            # edited_message, my_chat_member (a person blocking the bot), channel posts,
            # groups (the mediators' group talks to the bot only through Claim buttons):
            # nothing to answer.
            return None
        user_id = message.from_user.id if message.from_user else None
        try:
            is_mediator = await telegram_mediator(user_id) is not None
        except Exception:
            logger.exception(
                "telegram: could not check whether update %s is from a mediator", update.update_id
            )
            is_mediator = False
        if is_mediator:
            has_file = bool(
                message.photo or message.document or message.video or message.voice or message.audio
            )
            return {
                "update_id": update.update_id,
                "kind": "mediator",
                "user_id": user_id,
                "chat_id": message.chat.id,
                "message_id": message.message_id,
                "order_key": f"mediator:{user_id}",
                "file": has_file,
                "attachment": telegram_attachment(message, get_media_store().policy),
                "text": (message.text or message.caption or "")[:limit],
            }
        return {
            "update_id": update.update_id,
            "chat_id": message.chat.id,
            "order_key": message.chat.id,
            "text": (message.text or message.caption or "")[:limit],
            "notice": _media_notice(message),
            "attachment": telegram_attachment(message, get_media_store().policy),
            "language": message.from_user.language_code if message.from_user else None,
        }

    async def _process(
        self,
        app: Any,
        delivery: Delivery,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        job = delivery.payload
        if job.get("kind") in ("claim", "mediator"):
            await self._from_mediator(delivery)
            return
        address = str(job["chat_id"])
        sender = pseudonym(PREFIX, address)
        before = await self.store.arecord_inbound(sender, CHANNEL, address)
        assert self.bots is not None
        output = TelegramOutput(
            self.bots, self.store, known={sender: address}, replies=delivery.replies
        )
        language_hint = _language_hint(job)
        text = job.get("text") or ""
        if job.get("callback") and not delivery.retried:
            bot = self.bots.get()  # type: ignore[union-attr]
            try:
                await api_call(lambda: bot.answer_callback_query(job["callback"]), sender)
            except DeliveryError as exc:  # too late (15 s) or similar: the turn goes on
                logger.info("telegram: callback answer for %s failed: %s", sender, exc)
        if "chosen" in job:
            text = job["chosen"]  # a retry: this turn's own answer may have replaced the options
        elif job.get("callback") and text.startswith("#") and text[1:].isdigit():
            options = before.last_options if before else []
            index = int(text[1:])
            text = options[index - 1] if 1 <= index <= len(options) else ""
            await delivery.keep("chosen", text)
        source_key = f"{CHANNEL}:{job['update_id']}"
        notice = job.get("notice")
        files: list[tuple[int, str]] = []
        if job.get("attachment"):
            got = await self._receive_file(app, sender, job, output, source_key)
            if got is not None:
                files = got[0]
                notice = None  # passed on, or refused with a message of its own
                if not files and not text.strip():
                    return
        if await person_in_handoff(app, sender, CHANNEL, text, source_key, notice, files=files):
            return
        if notice:
            language = await conversation_language(app, sender)
            await output.send_text_message(
                sender, channel_message(notice, [language, language_hint])
            )
        if not text.strip():
            return
        logger.info("telegram: update %s from %s", job["update_id"], sender)
        metadata = {"language_hint": language_hint} if language_hint else {}
        await hand_to_rasa(
            app,
            UserMessage(
                text,
                output,
                sender,
                input_channel=CHANNEL,
                message_id=str(job["update_id"]),
                metadata=metadata,
            ),
            on_new_message,
            delivery.retried,
        )

    def _fetcher(self, attachment: Sequence[Any]) -> Fetch:
        """Download a message's file (``getFile``, then the file) into the media store."""
        file_id, content_type, size = attachment
        assert self.bots is not None
        bot = self.bots.get()
        return lambda store: fetch_telegram(bot, file_id, content_type, store, declared_size=size)

    async def _receive_file(
        self, app: Any, sender: str, job: Mapping[str, Any], output: TelegramOutput, key: str
    ) -> tuple[list[tuple[int, str]], list[Refused]] | None:
        """Keep a person's file with their ticket (None: not in hand-off); a refusal is told."""
        try:
            got = await receive_files(sender, [self._fetcher(job["attachment"])], key)
        except Exception:
            logger.exception("telegram: the file of update %s could not be kept", job["update_id"])
            return None
        if got is not None and got[1]:
            language = await conversation_language(app, sender)
            for refusal in got[1]:
                await output.send_text_message(
                    sender, person_refusal_text(refusal, language or _language_hint(job))
                )
        return got

    async def _give_up(self, app: Any, delivery: Delivery) -> None:
        """Tell the person, once, that their message could not be answered."""
        job = delivery.payload
        if job.get("kind") in ("claim", "mediator"):
            return  # a mediator's command: the handoff's own record shows what happened
        address = str(job["chat_id"])
        sender = pseudonym(PREFIX, address)
        language = await conversation_language(app, sender)
        assert self.bots is not None
        output = TelegramOutput(
            self.bots, self.store, known={sender: address}, replies=delivery.replies
        )
        await output.send_text_message(
            sender, channel_message("turn_failed", [language, _language_hint(job)])
        )

    async def _from_mediator(self, delivery: Delivery) -> None:
        """A Claim button, or a mediator's message in their private chat with the bot."""
        job = delivery.payload
        assert self.bots is not None
        bot = self.bots.get()
        mediator = await telegram_mediator(job["user_id"])
        who = f"mediator {job['user_id']}"
        if job["kind"] == "claim":
            won, answer = await claim_from_card(mediator, job["data"])
            try:
                await api_call(
                    lambda: bot.answer_callback_query(
                        job["callback"], text=answer[:200], show_alert=not won
                    ),
                    who,
                )
            except DeliveryError as exc:
                logger.info("telegram: claim answer not delivered: %s", exc)
            return
        source_key = f"{CHANNEL}:{job['update_id']}"
        if mediator is None:  # switched off since the update was routed
            return
        await telegram_mediator_reached(mediator)
        if job.get("file"):
            copy = {"from_chat_id": job["chat_id"], "message_id": job["message_id"]}
            attachment = job.get("attachment")
            fetch = self._fetcher(attachment) if attachment else None
            reply = await mediator_file(
                mediator, job.get("text") or "", source_key, copy, fetch=fetch
            )
        else:
            reply = await mediator_command(mediator, job.get("text") or "", source_key)
        if reply:
            text = reply[:MESSAGE_LIMIT]
            try:
                await delivery.replies.send(
                    text, lambda: api_call(lambda: bot.send_message(job["chat_id"], text), who)
                )
            except DeliveryError as exc:
                logger.error("telegram: answer to %s not delivered: %s", who, exc)


def _language_hint(job: Mapping[str, Any]) -> str | None:
    """The language the person's Telegram app is set to, as a hint for detection."""
    return (job.get("language") or "").split("-")[0].lower() or None


def _media_notice(message: Any) -> str | None:
    if message.voice or message.audio or message.video_note:
        return "media_voice"
    if message.location or message.venue:
        return "media_location"
    if (
        message.photo
        or message.document
        or message.video
        or message.sticker
        or message.animation
        or message.contact
    ):
        return "media_attachment"
    return None
