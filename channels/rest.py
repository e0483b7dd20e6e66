"""The REST channel, closed: ``POST /webhooks/rest/webhook`` with ``{"sender", "message"}``.

Why not Rasa's ``rest``: it takes ``input_channel`` and ``metadata`` from the body (posting
``"input_channel": "telegram"`` with "I want a mediator" opened a ticket and sent mediators a
card each time), answers any sender id (a known ``wa-…`` person was answered in their own
conversation, even while waiting for a mediator), answers 500 to a body that is not an object,
and logs the whole text of a failed turn (one 10 MB log line).

Here:

- the body is a JSON object ``{"sender": str, "message": str}`` of at most ``MAX_REQUEST_BYTES``,
  the message at most ``MAX_MESSAGE_CHARS`` characters; anything else gets a 4xx with
  ``{"error": code, "message": text}``;
- the input channel is always ``rest`` and there is no metadata, whatever the body says;
- sender ids of the other channels' people (``wa-``, ``tg-``, ``web-``: pseudonyms of WhatsApp,
  Telegram and web chat people) are refused with 403;
- when ``RASA_AUTH_TOKEN`` is set the channel requires it too, as ``?token=`` (like Rasa's HTTP
  API) or ``Authorization: Bearer``: it speaks for whichever sender it is given;
- a failed turn is logged with its sender, never its text.

The answer is Rasa's: a list of ``{"recipient_id", "text", "buttons", …}``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.json_body import BodyError, json_object
from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)

CHANNEL = "rest"
MAX_SENDER_CHARS = 128
# Pseudonyms of people other channels can reach (channels.common, channels.webchat).
RESERVED_PREFIXES = ("wa-", "tg-", "web-")


def _error(status: int, code: str, message: str) -> HTTPResponse:
    return response.json({"error": code, "message": message}, status=status)


def token_given(request: Request) -> str:
    """The token of a request: ``?token=`` or ``Authorization: Bearer``."""
    query = request.args.get("token")
    if query:
        return query
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


class RestInput(InputChannel):
    """Rasa's REST webhook with the body, the sender and the caller checked."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def __init__(self, settings: Settings | None = None):
        self._settings = settings

    @property
    def settings(self) -> Settings:
        return self._settings or get_settings()

    def refusal(self, request: Request) -> HTTPResponse | tuple[str, str]:
        """The error answer for this request, or its (sender, text)."""
        settings = self.settings
        token = settings.rasa_auth_token
        if token and not hmac.compare_digest(token_given(request).encode(), token.encode()):
            return _error(
                401,
                "token_required",
                "Send the API token: ?token=<RASA_AUTH_TOKEN> or "
                "'Authorization: Bearer <RASA_AUTH_TOKEN>'.",
            )
        try:
            body = json_object(request.body, settings.max_request_bytes)
        except BodyError as exc:
            return _error(exc.status, exc.code, exc.message)
        sender, text = body.get("sender"), body.get("message")
        if (
            not isinstance(sender, str)
            or not sender
            or len(sender) > MAX_SENDER_CHARS
            or not sender.isprintable()
        ):
            return _error(
                400, "bad_sender", f"sender must be 1-{MAX_SENDER_CHARS} printable characters."
            )
        if sender.lower().startswith(RESERVED_PREFIXES):
            return _error(
                403,
                "reserved_sender",
                "sender ids starting with "
                f"{', '.join(RESERVED_PREFIXES)} belong to other channels' people.",
            )
        if not isinstance(text, str):
            return _error(400, "bad_message", "message must be a string.")
        if len(text) > settings.max_message_chars:
            return _error(
                400,
                "text_too_long",
                f"A message has at most {settings.max_message_chars} characters.",
            )
        return sender, text

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("closed_rest_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            checked = self.refusal(request)
            if isinstance(checked, HTTPResponse):
                return checked
            sender, text = checked
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=CHANNEL))
            except asyncio.CancelledError:
                logger.error("rest: the message of %s timed out", sender)
            except Exception:
                logger.exception("rest: the message of %s failed", sender)
            return response.json(collector.messages)

        return bp
