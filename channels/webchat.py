"""A local web chat page for trying the assistant in a browser, with no accounts.

``/webhooks/webchat/`` serves the page; the page talks to this channel on the same origin, so no
CORS set-up is needed. It is meant for ``make run`` on one machine, not as a public channel.

- ``POST /webhooks/webchat/session`` starts a conversation: ``{"sender": "web-…",
  "session": …}``. The sender id is 32 random URL-safe characters (192 bits) made by the server,
  and the session (``channels.sessions``) proves its holder; every other request carries it as
  ``X-Webchat-Session`` and is refused (401) without it or for another sender (403). Nobody who
  merely knows a ``web-…`` id (it appears in logs and tickets) can write or read as that person.
- ``POST /webhooks/webchat/webhook`` takes and answers the same JSON as Rasa's REST channel
  (``{"sender", "message"}`` → a list of ``{"recipient_id", "text", "buttons", …}``), recorded
  with input channel ``webchat`` so a mediator can be asked for from here. Before Rasa sees a
  message, the handoff gate (``handoff.gate.intercept``) may take it: while the person waits
  for or talks with a mediator the bot is quiet and the answer is ``[]``.
- ``GET /webhooks/webchat/messages?sender=<id>&after=<n>`` returns what the handoff queued for
  the person since outbox row ``n`` (the mediator's words, "a mediator has joined", the rating
  question…) — the page polls it, since nothing can be pushed to a browser tab. Rows are
  marked sent when fetched, but the page's cursor decides what it shows: a response lost on
  the way is fetched again at the next poll.

The sender id is the person's pseudonym.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.json_body import BodyError, json_object
from bot.settings import get_settings
from channels import sessions
from handoff.gate import Runtime, get_runtime, intercept
from handoff.records import TRANSCRIPT_LIMIT

logger = logging.getLogger(__name__)

CHANNEL = "webchat"
# "web-" and up to 36 more characters: tickets keep a person's pseudonym in 40 characters, and
# the prefix keeps this page from speaking for a WhatsApp (wa-) or Telegram (tg-) person.
SENDER = re.compile(r"^web-[A-Za-z0-9_-]{1,36}$")
MAX_BODY_BYTES = 64 * 1024
# A mediator must read all of it; MAX_MESSAGE_CHARS may be lower.
MAX_TEXT_CHARS = TRANSCRIPT_LIMIT


SESSION_HEADER = "X-Webchat-Session"
SESSION_SECONDS = 7 * 24 * 3600  # the page keeps it for the life of its tab


def _error(status: int, code: str, message: str) -> HTTPResponse:
    return response.json({"error": code, "message": message}, status=status)


def new_conversation() -> dict[str, str]:
    """A new web chat person: an unguessable sender id and the session that proves it."""
    sender = "web-" + secrets.token_urlsafe(24)
    return {"sender": sender, "session": sessions.issue(sessions.WEBCHAT, sender, SESSION_SECONDS)}


def session_refusal(request: Request, sender: str) -> HTTPResponse | None:
    """None if the request carries the session of ``sender``; else the error answer."""
    holder = sessions.valid(request.headers.get(SESSION_HEADER), sessions.WEBCHAT)
    if holder is None:
        return _error(
            401,
            "session_required",
            f"Start a conversation first (POST session) and send its session as {SESSION_HEADER}.",
        )
    if holder != sender:
        return _error(403, "not_your_conversation", "This session belongs to another sender.")
    return None


class WebChatInput(InputChannel):
    """The chat page, its webhook (REST-compatible, handoff-aware) and its message poll."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def __init__(self, runtime: Runtime | None = None):
        self._runtime = runtime

    @property
    def runtime(self) -> Runtime:
        """The runtime given at construction, else the process's (created on first use)."""
        if self._runtime is None:
            self._runtime = get_runtime()
        return self._runtime

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        page = resources.files("channels").joinpath("static/webchat.html").read_text("utf-8")
        webchat = Blueprint("webchat_page", __name__)

        @webchat.route("/", methods=["GET"])
        async def index(_: Request) -> HTTPResponse:
            return response.html(page, headers={"Cache-Control": "no-store"})

        @webchat.route("/session", methods=["POST"])
        async def session(_: Request) -> HTTPResponse:
            return response.json(new_conversation())

        @webchat.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            settings = get_settings()
            try:
                body = json_object(request.body, min(MAX_BODY_BYTES, settings.max_request_bytes))
            except BodyError as exc:
                return _error(exc.status, exc.code, exc.message)
            sender, text = body.get("sender"), body.get("message")
            max_chars = min(MAX_TEXT_CHARS, settings.max_message_chars)
            if not isinstance(sender, str) or not SENDER.match(sender):
                return _error(
                    400, "bad_sender", "sender must be 'web-' and 1-36 letters, digits, '-' or '_'."
                )
            refused = session_refusal(request, sender)
            if refused is not None:
                return refused
            if text is not None and not isinstance(text, str):
                return _error(400, "bad_message", "message must be a string.")
            if text and len(text) > max_chars:
                return _error(
                    400, "text_too_long", f"A message has at most {max_chars} characters."
                )

            try:
                handled = await intercept(
                    request.app, sender, CHANNEL, text or "", source_key=None, runtime=self.runtime
                )
            except Exception:
                # Not knowing whether a mediator holds the conversation, the bot must not
                # answer in their place: say so instead.
                logger.exception("webchat: the handoff could not take a message")
                return _error(503, "unavailable", "The message could not be handled; try again.")
            if handled:
                return response.json([])  # the mediator has it; the bot stays quiet

            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=CHANNEL))
            except asyncio.CancelledError:
                logger.error("webchat: the message of %s timed out", sender)
            except Exception:
                logger.exception("webchat: the message of %s failed", sender)
                if not collector.messages:
                    # The database or Redis is away: an empty 200 would read as "no answer".
                    return _error(
                        503, "unavailable", "The message could not be handled; try again."
                    )
            return response.json(collector.messages)

        @webchat.route("/messages", methods=["GET"])
        async def messages(request: Request) -> HTTPResponse:
            sender = request.args.get("sender") or ""
            after = request.args.get("after", "0")
            if not SENDER.match(sender):
                return _error(400, "bad_sender", "sender must be the page's 'web-…' id.")
            refused = session_refusal(request, sender)
            if refused is not None:
                return refused
            if not after.isdigit() or len(after) > 18:
                return _error(400, "bad_after", "after must be an outbox row id (0 for all).")
            store = self.runtime.handoff.store
            rows = await asyncio.to_thread(store.outbox.rows, "webchat", sender, int(after))
            out: list[dict[str, Any]] = []
            for row, state in rows:
                if state == "pending":
                    await asyncio.to_thread(store.outbox.mark_sent, row.id)
                out.append(
                    {
                        "id": row.id,
                        "text": row.payload.get("text") or "",
                        "buttons": [
                            {"title": b.get("title", ""), "payload": b.get("payload", "")}
                            for b in row.payload.get("buttons") or []
                        ],
                        "kind": row.payload.get("kind"),
                    }
                )
            last = out[-1]["id"] if out else int(after)
            return response.json({"messages": out, "after": last})

        return webchat
