"""WhatsApp through Twilio, safe to expose: ``/webhooks/whatsapp/webhook``.

Why not Rasa's ``twilio`` channel: it checks no signature, answers a request without ``Body``
with a 500, calls Twilio's blocking client on the event loop and answers retries twice.

Incoming: the body is capped, ``X-Twilio-Signature`` is checked against ``TWILIO_WEBHOOK_URL``
(the URL configured in Twilio; behind a proxy the request URL differs) or the request URL, and
the ``MessageSid`` is claimed in the inbox so a retry is acknowledged but not answered again.
Every request that passes the signature gets an empty TwiML 200, whatever its fields, once
the delivery is stored (in the database, or on local disk while the database is down: Twilio
does not post an incoming message twice); 503 only if it could be stored nowhere.
Outgoing: Twilio's Messages REST API over aiohttp (``TWILIO_API_BASE_URL``, so tests use a fake),
in parts of at most 1600 characters; buttons become numbered options. Every message asks for
status callbacks (``TWILIO_STATUS_CALLBACK_URL``), answered at ``/webhooks/whatsapp/status``
(``channels.twilio_status``); a failure is handed to the hand-off's relay.
Files (``MediaUrl0``…): from a person in hand-off or a mediator, fetched with the account's
credentials inside the inbox worker, never in the webhook, and kept with the ticket.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from multidict import MultiDict
from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import Settings
from channels.base import ContactOutputChannel, EnvironmentInputChannel
from channels.common import (
    DeliveryError,
    UnknownRecipient,
    WindowClosed,
    button_payload,
    calling_code,
    channel_message,
    choose_numbered,
    looks_like_choice,
    pseudonym,
    render_numbered,
    split_text,
)
from channels.inbox import Delivery, Inbox, conversation_language
from channels.media_fetch import fetch_twilio, twilio_media_items
from channels.mediators import (
    Fetch,
    delivery_failed,
    mediator_command,
    mediator_file,
    mediator_wrote,
    person_in_handoff,
    receive_files,
    whatsapp_mediator,
)
from channels.replies import ReplyLog, digest
from channels.store import ChannelStore, Contact
from channels.turns import hand_to_rasa
from channels.twilio_status import add_status_route, status_callback_url
from channels.whatsapp_templates import window_open
from handoff.media import Refused, person_refusal_text

logger = logging.getLogger(__name__)

__all__ = [
    "DeliveryError",
    "UnknownRecipient",
    "WindowClosed",
    "WhatsAppInput",
    "WhatsAppOutput",
    "writable_contact",
    "window_open",
]

CHANNEL = "whatsapp"
PREFIX = "wa"
MESSAGE_LIMIT = 1600  # characters per Twilio WhatsApp message
MAX_BODY_BYTES = 64 * 1024  # a Twilio webhook is a few kB even with ten media URLs
MAX_TEXT_CHARS = 4096  # WhatsApp's own limit for a message; MAX_MESSAGE_CHARS may be lower
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def is_configured(settings: Settings) -> bool:
    return bool(
        settings.twilio_account_sid
        and settings.twilio_auth_token
        and settings.twilio_whatsapp_number
    )


class TwilioMessages:
    """The one Twilio endpoint used: create a Message (form-encoded POST, JSON answer)."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        sender: str,
        base_url: str,
        status_callback: str | None = None,
    ):
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.auth = aiohttp.BasicAuth(account_sid, auth_token)
        self.sender = sender
        # Where Twilio posts what became of each message (channels.twilio_status); None: nowhere.
        self.status_callback = status_callback
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioMessages:
        """Client for the account and sender configured in the environment."""
        return cls(
            settings.twilio_account_sid or "",
            settings.twilio_auth_token or "",
            settings.twilio_whatsapp_number or "",
            settings.twilio_api_base_url,
            status_callback_url(settings),
        )

    def _client(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(
                auth=self.auth, timeout=aiohttp.ClientTimeout(total=15)
            )
            self._loop = loop
        return self._session

    async def aclose(self) -> None:
        """Close the HTTP session (server stop; the outbound port closing)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def create(
        self,
        to: str,
        body: str | None = None,
        media_url: str | None = None,
        content_sid: str | None = None,
        content_variables: str | None = None,
    ) -> str:
        """Send one message; returns its SID. Retries only what Twilio did not process.

        ``content_sid`` sends an approved template (Twilio Content API) instead of a body, with
        ``content_variables`` (JSON) filling it in: the only thing WhatsApp lets a business
        send more than 24 hours after the person wrote.
        """
        form: list[tuple[str, str]] = [("To", to), ("From", self.sender)]
        if body:
            form.append(("Body", body))
        if media_url:
            form.append(("MediaUrl", media_url))
        if content_sid:
            form.append(("ContentSid", content_sid))
        if content_variables:
            form.append(("ContentVariables", content_variables))
        if self.status_callback:
            form.append(("StatusCallback", self.status_callback))
        for attempt in range(3):
            try:
                async with self._client().post(self.url, data=form) as resp:
                    data = await _json_or_empty(resp)
                    if resp.status in (200, 201):
                        return str(data.get("sid", ""))
                    retryable = resp.status in (429, 503)
                    error = _twilio_error(resp.status, data)
            except aiohttp.ClientConnectorError as exc:  # nothing was sent
                retryable, error = True, DeliveryError(f"cannot reach Twilio: {exc}")
            if not retryable or attempt == 2:
                raise error
            await asyncio.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")

    async def created_since(self, to: str, since: float) -> list[str]:
        """Bodies of the messages Twilio created from our number to ``to`` since ``since``.

        Twilio's message list, newest first, one page: enough to tell whether a reply whose
        call a crash interrupted reached Twilio (``channels.replies``).
        """
        params = {"To": to, "From": self.sender, "PageSize": "50"}
        async with self._client().get(self.url, params=params) as resp:
            data = await _json_or_empty(resp)
            if resp.status != 200:
                raise _twilio_error(resp.status, data)
        bodies = []
        for message in data.get("messages") or []:
            try:
                created = parsedate_to_datetime(str(message.get("date_created"))).timestamp()
            except (TypeError, ValueError):
                continue
            if created >= math.floor(since) - 1:  # Twilio's dates are in whole seconds
                bodies.append(str(message.get("body") or ""))
        return bodies


async def _json_or_empty(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        data = await resp.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return {}
    return data if isinstance(data, dict) else {}


def _twilio_error(status: int, data: Mapping[str, Any]) -> DeliveryError:
    code = data.get("code")
    code = int(code) if isinstance(code, int | str) and str(code).isdigit() else None
    kind = WindowClosed if code == 63016 else DeliveryError
    return kind(f"Twilio answered {status} (error {code})", code=code, status=status)


class WhatsAppOutput(ContactOutputChannel):
    """Replies to a pseudonym; the address comes from ``channel_contacts``."""

    CHANNEL = CHANNEL
    ADDRESS_KIND = "WhatsApp address"

    def __init__(
        self,
        api: TwilioMessages,
        store: ChannelStore,
        known: dict[str, str] | None = None,
        replies: ReplyLog | None = None,
    ):
        super().__init__(store, known, replies)
        self.api = api

    async def deliver(self, recipient_id: str, text: str, media_url: str | None = None) -> None:
        """Send text (in as many parts as needed); raises :class:`DeliveryError`."""
        address = await self._address(recipient_id)
        parts = split_text(text or "", MESSAGE_LIMIT)
        confirm = _confirm(self.api, address)
        if media_url:
            first = parts[0] if parts else None
            await self._once(
                first or "", partial(self.api.create, address, first, media_url), confirm
            )
            parts = parts[1:]
        for part in parts:
            await self._once(part, partial(self.api.create, address, part), confirm)

    async def _safely(self, recipient_id: str, text: str, media_url: str | None = None) -> None:
        # Within a dialogue turn a failed send must not abort the turn (the tracker would not
        # be saved); it is logged with the pseudonym and Twilio's code, never the text.
        try:
            await self.deliver(recipient_id, text, media_url)
        except DeliveryError as exc:
            logger.error("whatsapp: reply to %s not delivered: %s", recipient_id, exc)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send text in parts of at most 1600 characters."""
        await self._safely(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Send the text with numbered options and remember their payloads."""
        await self.store.aset_options(recipient_id, [button_payload(b) for b in buttons])
        await self._safely(recipient_id, render_numbered(text, buttons))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Send an image by URL (Twilio fetches it)."""
        await self._safely(recipient_id, "", media_url=image)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Send the ``text`` of a custom payload; anything else cannot be shown."""
        # Raw JSON would reach the person as gibberish; only a text inside it is meaningful.
        if isinstance(json_message.get("text"), str):
            await self._safely(recipient_id, json_message["text"])
        else:
            logger.warning("whatsapp: custom payload for %s not sendable, dropped", recipient_id)


class WhatsAppInput(EnvironmentInputChannel):
    """Twilio WhatsApp webhook; off (one log line, webhook 404) without credentials."""

    CHANNEL = CHANNEL
    SWITCH_ON_HINT = "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_WHATSAPP_NUMBER"
    configured = staticmethod(is_configured)

    def __init__(self, settings: Settings | None, store: ChannelStore | None = None):
        super().__init__(settings, store)
        self.api = TwilioMessages.from_settings(settings) if settings else None

    def get_output_channel(self) -> OutputChannel | None:
        """Output channel for replies outside a turn (None when the channel is off)."""
        return WhatsAppOutput(self.api, self.store) if self.api else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Webhook at ``/webhooks/whatsapp/webhook``; health at ``/webhooks/whatsapp/``."""
        bp = self.health_blueprint()

        if self.settings is None:
            return bp
        settings = self.settings

        validator = _validator(settings)
        # /webhooks/whatsapp/status: what became of the messages sent (channels.twilio_status)
        add_status_route(bp, settings, on_failed=delivery_failed)

        async def process(app: Any, delivery: Delivery) -> None:
            await self._process(app, delivery, on_new_message)

        self.inbox = Inbox(CHANNEL, process, self._store, give_up=self._give_up)
        inbox = self.inbox

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            cap = min(MAX_BODY_BYTES, settings.max_request_bytes)
            if len(request.body or b"") > cap:
                return response.json(
                    {"error": "too_large", "message": f"The request body is over {cap} bytes."},
                    status=413,
                )
            params = MultiDict(
                parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
            )
            url = settings.twilio_webhook_url or request.url
            signature = request.headers.get("X-Twilio-Signature", "")
            if not signature or not validator.validate(url, params, signature):
                logger.warning("whatsapp: rejected a request with a missing or wrong signature")
                return response.text("forbidden", status=403)
            job = _job(params, settings.max_message_chars)
            if job is None:
                return _twiml()
            try:
                await inbox.accept(request.app, job["sid"], job)
            except Exception:
                # Neither the database nor the local disk took it: say so. Twilio will not
                # post it again, but its debugger shows the error.
                logger.exception("whatsapp: could not store delivery %s", job["sid"])
                return response.text("temporarily unavailable", status=503)
            return _twiml()

        @bp.listener("after_server_start")
        async def resume(app: Any, _: Any) -> None:
            inbox.start(app)

        @bp.listener("before_server_stop")
        async def stop(app: Any, _: Any) -> None:
            await inbox.drain()
            if self.api:
                await self.api.aclose()

        return bp

    async def _process(
        self,
        app: Any,
        delivery: Delivery,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        job = delivery.payload
        address = job["from"]
        assert self.api is not None
        if await self._from_mediator(address, delivery):
            return
        sender = pseudonym(PREFIX, address)
        before = await self.store.arecord_inbound(sender, CHANNEL, address)
        output = WhatsAppOutput(
            self.api, self.store, known={sender: address}, replies=delivery.replies
        )
        notice = _media_notice(job)
        text = job.get("text") or ""
        files: list[tuple[int, str]] = []
        if job.get("media"):
            got = await self._receive_files(app, sender, job, output)
            if got is not None:
                files, refused = got
                notice = None  # passed on, or refused with a message of its own
                if not files and not text.strip():
                    return
        if "chosen" in job:
            text = job["chosen"]  # a retry: the options the first try read are gone
        elif before and before.last_options:
            # Options are valid for the next message only, chosen or not.
            chosen = choose_numbered(text, before.last_options) or text
            if looks_like_choice(text):
                await delivery.keep("chosen", chosen)
            await self.store.aset_options(sender, None)
            text = chosen
        elif looks_like_choice(text):
            # A retry may find options this turn's own answer set: "2" must stay "2".
            await delivery.keep("chosen", text)
        if await person_in_handoff(
            app, sender, CHANNEL, text, f"{CHANNEL}:{job['sid']}", notice, files=files
        ):
            return
        if notice:
            language = await conversation_language(app, sender)
            await output.send_text_message(sender, channel_message(notice, [language]))
        if not text.strip():
            return
        logger.info("whatsapp: message %s from %s", job["sid"], sender)
        metadata = {"country_code": calling_code(address)} if calling_code(address) else {}
        await hand_to_rasa(
            app,
            UserMessage(
                text,
                output,
                sender,
                input_channel=CHANNEL,
                message_id=job["sid"],
                metadata=metadata,
            ),
            on_new_message,
            delivery.retried,
        )

    async def _receive_files(
        self, app: Any, sender: str, job: Mapping[str, Any], output: WhatsAppOutput
    ) -> tuple[list[tuple[int, str]], list[Refused]] | None:
        """Fetch a person's files into their ticket (None: not in hand-off); refusals told."""
        settings = self.settings
        assert settings is not None

        try:
            got = await receive_files(
                sender,
                [_twilio_fetch(u, c, settings) for u, c in job["media"]],
                f"{CHANNEL}:{job['sid']}",
            )
        except Exception:
            logger.exception("whatsapp: files of %s could not be kept", job["sid"])
            return None
        if got is not None and got[1]:
            language = await conversation_language(app, sender)
            for refusal in got[1]:
                await output.send_text_message(sender, person_refusal_text(refusal, language))
        return got

    async def _give_up(self, app: Any, delivery: Delivery) -> None:
        """Tell the person, once, that their message could not be answered."""
        address = delivery.payload["from"]
        assert self.api is not None
        sender = pseudonym(PREFIX, address)
        language = await conversation_language(app, sender)
        output = WhatsAppOutput(
            self.api, self.store, known={sender: address}, replies=delivery.replies
        )
        await output.send_text_message(sender, channel_message("turn_failed", [language]))

    async def _from_mediator(self, address: str, delivery: Delivery) -> bool:
        """A registered mediator's number: commands and replies, never the bot."""
        job = delivery.payload
        try:
            mediator = await whatsapp_mediator(address)
        except Exception:
            logger.exception("whatsapp: could not check whether %s is a mediator", job["sid"])
            return False
        if mediator is None:
            return False
        try:  # their 24-hour window opens: cards may go as text again
            await mediator_wrote(address)
        except Exception:
            logger.exception("whatsapp: could not record mediator %s's window", mediator.id)
        source_key = f"{CHANNEL}:{job['sid']}"
        if job.get("media"):
            # Files for the person of the one ticket they hold; the text is their caption.
            answer = None
            settings = self.settings
            assert settings is not None
            for i, (url, content_type) in enumerate(job["media"]):
                answer = (
                    await mediator_file(
                        mediator,
                        (job.get("text") or "") if i == 0 else "",
                        f"{source_key}:{i}",
                        {},
                        fetch=_twilio_fetch(url, content_type, settings),
                    )
                    or answer
                )
        else:
            answer = await mediator_command(mediator, job.get("text") or "", source_key)
        if answer:
            api = self.api
            assert api is not None
            text = answer[:MESSAGE_LIMIT]
            try:
                await delivery.replies.send(
                    text, lambda: api.create(address, text), _confirm(api, address)
                )
            except DeliveryError as exc:
                logger.error("whatsapp: answer to mediator %s not delivered: %s", mediator.id, exc)
        return True


def _twilio_fetch(url: str, content_type: str, settings: Settings) -> Fetch:
    """Fetch one file of an inbound webhook into the media store (``channels.media_fetch``)."""
    return lambda store: fetch_twilio(url, content_type, store, settings=settings)


def _confirm(api: TwilioMessages, address: str) -> Callable[[float, str], Awaitable[bool]]:
    """Whether Twilio already has a part (digest) begun at a time for this address."""

    async def confirm(began_at: float, part_digest: str) -> bool:
        return any(
            digest(body) == part_digest for body in await api.created_since(address, began_at)
        )

    return confirm


def _validator(settings: Settings) -> Any:
    from twilio.request_validator import RequestValidator

    return RequestValidator(settings.twilio_auth_token)


def _twiml() -> HTTPResponse:
    return response.text(EMPTY_TWIML, content_type="application/xml")


def _job(params: MultiDict[str], max_chars: int = MAX_TEXT_CHARS) -> dict[str, Any] | None:
    """Extract what processing needs from a signed webhook; None if nothing to answer."""
    sid = params.get("MessageSid") or params.get("SmsMessageSid") or ""
    sender = params.get("From", "")
    if not sid or len(sid) > 64 or not sender.startswith("whatsapp:") or len(sender) > 64:
        logger.info("whatsapp: signed request without a message to answer, ignored")
        return None
    try:
        num_media = max(0, int(params.get("NumMedia") or 0))
    except ValueError:
        num_media = 0
    media_types = [params.get(f"MediaContentType{i}", "") for i in range(min(num_media, 10))]
    return {
        "sid": sid,
        "from": sender,
        "order_key": sender,
        "text": (params.get("Body") or "")[: min(MAX_TEXT_CHARS, max_chars)],
        "media_types": media_types,
        "media": twilio_media_items(params),
        "location": bool(params.get("Latitude") and params.get("Longitude")),
    }


def _media_notice(job: Mapping[str, Any]) -> str | None:
    """Which channel message answers what the person sent besides text."""
    types: Sequence[str] = job.get("media_types") or []
    if any(t.startswith("audio/") for t in types):
        return "media_voice"
    if types:
        return "media_attachment"
    if job.get("location"):
        return "media_location"
    return None


# --- sending outside a webhook (the outbound port, channels.outbound) -------------------------


async def writable_contact(pseudonym_id: str, store: ChannelStore) -> Contact:
    """The person's WhatsApp contact, if a free-form message may go to them now.

    Raises :class:`UnknownRecipient` (unknown or erased) or :class:`WindowClosed` (the person
    last wrote more than 24 hours ago).
    """
    contact = await store.alookup(pseudonym_id)
    if contact is None or contact.channel != CHANNEL:
        raise UnknownRecipient(f"no WhatsApp address for {pseudonym_id}")
    if not window_open(contact.last_inbound_at):
        raise WindowClosed(f"{pseudonym_id} last wrote more than 24 hours ago")
    return contact
