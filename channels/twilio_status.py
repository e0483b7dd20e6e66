"""Twilio's message status callbacks: ``POST /webhooks/whatsapp/status``.

A WhatsApp message Twilio accepted can still fail: a free-form card to a mediator who has not
written in 24 hours is "queued", then "failed" with error 63016. Twilio reports it only to the
``StatusCallback`` URL given when the message was created, so without this handler nobody
hears of the failure.

The request is checked exactly like an inbound message (``channels.whatsapp``): form-encoded,
body capped, ``X-Twilio-Signature`` verified with the twilio ``RequestValidator`` against the
URL Twilio was given (:func:`status_callback_url`; else the request URL), 403 otherwise. A
signed callback is recorded by MessageSid in ``handoff_delivery_status``
(``handoff.delivery``), older and repeated callbacks changing nothing, and answered 204;
Twilio retries a callback that failed, so a database error answers 503. A callback that turns
a message into ``failed`` or ``undelivered`` is handed, once, to ``on_failed``: the hand-off
puts it on the ticket, tells the mediator and tries another route.

Parameters read: ``MessageSid`` (or ``SmsSid``), ``MessageStatus`` (or ``SmsStatus``) and
``ErrorCode``; Twilio adds others without notice, and the signature covers them all.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from multidict import MultiDict
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import Settings
from handoff.delivery import DeliveryStatus, DeliveryStore, get_delivery_store

logger = logging.getLogger(__name__)

ROUTE = "/status"  # under the WhatsApp channel's /webhooks/whatsapp/
MAX_BODY_BYTES = 16 * 1024  # a status callback is well under 2 kB
_SID = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$")
STATUSES = (
    "accepted",
    "scheduled",
    "queued",
    "sending",
    "sent",
    "delivered",
    "read",
    "failed",
    "undelivered",
    "canceled",
    "receiving",
    "received",
)

OnFailed = Callable[[DeliveryStatus], Awaitable[None]]


@dataclass(frozen=True)
class StatusCallback:
    """What a status callback says."""

    message_sid: str
    status: str
    error_code: int | None


def status_callback_url(settings: Settings) -> str | None:
    """The URL to give Twilio as ``StatusCallback`` (None: ask for no callbacks).

    ``TWILIO_STATUS_CALLBACK_URL``, else ``TWILIO_WEBHOOK_URL`` with its last part ``webhook``
    replaced by ``status``. Without either there is no public address Twilio could reach.
    """
    if settings.twilio_status_callback_url:
        return settings.twilio_status_callback_url
    webhook = settings.twilio_webhook_url
    if webhook and webhook.rstrip("/").endswith("/webhook"):
        return webhook.rstrip("/")[: -len("webhook")] + "status"
    return None


def parse(params: Any) -> StatusCallback | None:
    """The callback's fields, or None when it names no message or an unknown status."""
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
    if not _SID.match(sid) or status not in STATUSES:
        return None
    raw_code = (params.get("ErrorCode") or "").strip()
    code = int(raw_code) if raw_code.isdigit() and len(raw_code) < 10 else None
    return StatusCallback(sid, status, code)


def add_status_route(
    bp: Blueprint,
    settings: Settings,
    *,
    store: DeliveryStore | None = None,
    on_failed: OnFailed | None = None,
) -> None:
    """Mount the status callback on a blueprint (the WhatsApp channel's, in production)."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(settings.twilio_auth_token)

    @bp.route(ROUTE, methods=["POST"])
    async def status(request: Request) -> HTTPResponse:
        if len(request.body or b"") > min(MAX_BODY_BYTES, settings.max_request_bytes):
            return response.json({"error": "too_large"}, status=413)
        params = MultiDict(
            parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        )
        url = status_callback_url(settings) or request.url
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not validator.validate(url, params, signature):
            logger.warning("whatsapp status: rejected a request with a missing or wrong signature")
            return response.text("forbidden", status=403)
        callback = parse(params)
        if callback is None:
            logger.info("whatsapp status: signed callback without a known status, ignored")
            return response.empty()
        deliveries = store or get_delivery_store(settings.database_url)
        try:
            update = await asyncio.to_thread(
                deliveries.record_status, callback.message_sid, callback.status, callback.error_code
            )
        except Exception:
            logger.exception("whatsapp status: could not record %s", callback.message_sid)
            return response.text("temporarily unavailable", status=503)
        if update.newly_failed:
            logger.warning(
                "whatsapp status: message %s %s (error %s)",
                callback.message_sid,
                callback.status,
                callback.error_code,
            )
            if on_failed is not None:
                try:
                    await on_failed(update.status)
                except Exception:  # recorded: the ticket shows it even if telling failed
                    logger.exception("whatsapp status: reporting %s failed", callback.message_sid)
        return response.empty()


def status_blueprint(
    settings: Settings, *, store: DeliveryStore | None = None, on_failed: OnFailed | None = None
) -> Blueprint:
    """A blueprint with only the status route (tests; a deployment without the channel)."""
    bp = Blueprint("whatsapp_status", __name__)
    add_status_route(bp, settings, store=store, on_failed=on_failed)
    return bp
