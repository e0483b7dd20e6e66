"""The local mediator desk: a page and a small JSON API at ``/webhooks/desk/``.

For mediators without Telegram or WhatsApp, and for trying the whole handoff on one machine
(``make run``) with no account: a mediator signs in, sees the queue, claims a ticket, reads the
transcript as it grows and answers, closes, releases or transfers it. Everything goes through
:class:`handoff.service.Handoff`, exactly like the Telegram and WhatsApp commands, so two desks
(or a desk and a Telegram mediator) claiming one ticket get one winner.

Who is signed in is a signed session (``channels.sessions``), sent back as ``X-Desk-Session``;
nothing the client says about who it is counts. A session is given for:

- a name and the password set with ``bot handoff mediator password NAME``;
- a one-time link (``bot handoff mediator link NAME`` sends it to the mediator's own Telegram
  or WhatsApp chat): the page posts its code to ``api/link``;
- on the local try-out only (a request from this machine, and no ``MEDIATOR_DESK_TOKEN``): a
  name and languages, registering a *desk-only* mediator if the name is new, or an existing
  desk-only mediator without a password by name.

API (JSON):

=======  ==========================================  ==========================================
method   path under ``/webhooks/desk/api/``          body → answer
=======  ==========================================  ==========================================
GET      ``languages``                               → ``{"languages": [...]}``
POST     ``signin``                                  ``{name, password | languages}`` →
                                                     ``{"mediator", "session"}``
POST     ``link``                                    ``{code}`` → ``{"mediator", "session"}``
GET      ``me``                                      → ``{"mediator"}``
POST     ``me``                                      ``{languages?, provinces?, hours?,
                                                     paused?}`` → ``{"mediator"}``; 400
                                                     naming a wrong value, nothing changed
GET      ``queue``                                   → ``{"waiting": [...], "held": [...],
                                                     "mediator"}`` (held: their open tickets)
POST     ``tickets/<id>/claim``                      → ``{"ticket"}``; 409 if someone has it
GET      ``tickets/<id>/messages?after=<message>``   → ``{"ticket", "messages"}``
POST     ``tickets/<id>/messages``                   ``{text, client_id}`` → ``{"duplicate"}``
POST     ``tickets/<id>/notes``                      ``{text, client_id}`` (never sent)
POST     ``tickets/<id>/close`` / ``release``        → ``{"ticket"}``
POST     ``tickets/<id>/transfer``                   ``{language}`` → ``{"ticket"}``
=======  ==========================================  ==========================================

Errors are ``{"error": code, "message": text}`` with a 4xx status. Access, before any of that:
a request that came straight to a loopback socket from this machine (loopback peer, loopback
``Host``, no forwarding headers) needs no desk token; any other request needs
``Authorization: Bearer <MEDIATOR_DESK_TOKEN>``, and without that variable it gets 403. A
reverse proxy on this machine must add ``X-Forwarded-For`` (or ``Forwarded``), or every visitor
looks local.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import IntegrityError

from bot.json_body import BodyError, json_object
from bot.kb.vocabulary import LANGUAGES
from bot.settings import Settings, get_settings
from channels import sessions
from handoff.cards import language_label
from handoff.credentials import check_password, fingerprint, login_code_hash
from handoff.gate import Runtime, get_runtime
from handoff.media import download_name
from handoff.records import TRANSCRIPT_LIMIT, HandoffError, Mediator, Message, Ticket
from handoff.schema import WAITING
from handoff.texts import mediator_text

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
# Telegram's limit, and never more than the transcript keeps whole (the mediator must see in
# the transcript exactly what the person received).
MAX_TEXT_CHARS = min(4096, TRANSCRIPT_LIMIT)
MAX_NAME_CHARS = 80
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
LAST_MESSAGES = 4  # shown with each ticket of the queue
SESSION_HEADER = "X-Desk-Session"
SESSION_SECONDS = 12 * 3600  # a working day; then the mediator signs in again
# Any of these means a proxy passed the request on: not "straight from this machine".
PROXY_HEADERS = (
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-server",
    "x-real-ip",
    "x-client-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "via",
)

# HandoffError code → HTTP status; the message is the mediators' English text for the code.
ERROR_STATUS = {
    "no_ticket": 404,
    "claimed_by_other": 409,
    "already_yours": 409,
    "not_yours": 409,
    "closed": 409,
    "not_closed": 409,
    "person_has_open_ticket": 409,
    "unknown_command": 400,
    "retry": 503,
}


class ApiError(Exception):
    """A request the desk refuses: becomes ``{"error": code, "message": message}``."""

    def __init__(self, status: int, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


# --- access ---------------------------------------------------------------------------------


def _is_loopback_ip(value: str | None) -> bool:
    if not value:
        return False
    try:
        address = ipaddress.ip_address(value.strip().strip("[]").split("%")[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def _host_name(host: str) -> str:
    """``Host`` header without the port: "127.0.0.1:5005" → "127.0.0.1", "[::1]:80" → "::1"."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_loopback_host(host: str | None) -> bool:
    if not host:
        return True  # HTTP/1.0 without Host: nothing to rebind
    name = _host_name(host)
    return name == "localhost" or _is_loopback_ip(name)


def is_local(peer_ip: str | None, headers: Mapping[str, str]) -> bool:
    """Whether a request came straight to a loopback socket from this machine."""
    lowered = {k.lower(): v for k, v in headers.items()}
    return (
        _is_loopback_ip(peer_ip)
        and not any(h in lowered for h in PROXY_HEADERS)
        and _is_loopback_host(lowered.get("host"))
    )


def access_error(
    peer_ip: str | None, headers: Mapping[str, str], token: str | None
) -> ApiError | None:
    """None if the request may use the desk; else why not.

    From this machine no token is needed. "This machine" means the peer is a loopback address,
    *and* the request did not come through a reverse proxy on this machine (which would make
    every visitor look local), *and* its ``Host`` is a loopback name (a page on another site
    whose name was rebound to 127.0.0.1 cannot drive the desk from the mediator's browser).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    authorization = lowered.get("authorization", "")
    scheme, _, supplied = authorization.partition(" ")
    supplied = supplied.strip() if scheme.lower() == "bearer" else ""
    if token and supplied and hmac.compare_digest(supplied.encode(), token.encode()):
        return None
    if is_local(peer_ip, headers):
        return None
    if not token:
        return ApiError(
            403,
            "forbidden",
            "The mediator desk only answers this machine; set "
            "MEDIATOR_DESK_TOKEN to open it to others.",
        )
    if not supplied:
        return ApiError(
            401,
            "token_required",
            "Send the desk token: 'Authorization: Bearer <MEDIATOR_DESK_TOKEN>'.",
        )
    return ApiError(403, "bad_token", "The desk token is wrong.")


# --- JSON shapes ----------------------------------------------------------------------------


def mediator_json(mediator: Mediator) -> dict[str, Any]:
    """A mediator as the page shows it."""
    return {
        "id": mediator.id,
        "name": mediator.name,
        "languages": list(mediator.languages),
        "desk_only": not (mediator.telegram_user_id or mediator.whatsapp),
        "active": mediator.active,
        # Their own profile (issue #17): what routes cards to them.
        "provinces": list(mediator.provinces),  # empty: all
        "hours": mediator.hours,  # "": always
        "paused": mediator.paused,
        "channel": "telegram"
        if mediator.telegram_user_id
        else "whatsapp"
        if mediator.whatsapp
        else "desk",
        # Telegram refused to write to them (never pressed Start) since then; None: fine.
        "unreachable_since": mediator.unreachable_since,
    }


def message_json(message: Message, names: Mapping[int, str]) -> dict[str, Any]:
    """A transcript line; ``private``: a note or a delivery report, never shown to the person."""
    return {
        "id": message.id,
        "at": message.at,
        "author": message.author,
        "text": message.text,
        "mediator": names.get(message.mediator_id) if message.mediator_id else None,
        "private": message.author in ("note", "system"),
    }


def ticket_json(
    ticket: Ticket, now: float, names: Mapping[int, str], last: list[Message] | None = None
) -> dict[str, Any]:
    """A ticket for the queue or the conversation pane (``last``: its latest messages)."""
    data: dict[str, Any] = {
        "id": ticket.id,
        "label": ticket.label,
        "status": ticket.status,
        "language": ticket.mediator_language,
        "person_language": ticket.language,
        "last_language": ticket.last_language,
        "language_label": language_label(ticket, "en"),  # "ar (last message it)"
        "topic": ticket.topic,
        "comune": ticket.comune,
        "province": ticket.province,
        "channel": ticket.channel,
        "reason": ticket.reason,
        "priority": ticket.priority,
        "opened_at": ticket.opened_at,
        "claimed_at": ticket.claimed_at,
        "waiting_seconds": round(max(0.0, now - ticket.opened_at)),
        "holder": names.get(ticket.mediator_id) if ticket.mediator_id else None,
        "holder_id": ticket.mediator_id,
    }
    if last is not None:
        data["last_messages"] = [message_json(m, names) for m in last]
    return data


# --- the channel ----------------------------------------------------------------------------


@dataclass
class _Body:
    """A parsed JSON object body."""

    data: dict[str, Any]

    def text(self, key: str = "text") -> str:
        value = self.data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ApiError(400, "empty_text", "Write something first: the text is empty.")
        if len(value) > MAX_TEXT_CHARS:
            raise ApiError(
                400,
                "text_too_long",
                f"A message has at most {MAX_TEXT_CHARS} characters (this one has {len(value)}).",
            )
        return value.strip()

    def client_id(self) -> str | None:
        value = self.data.get("client_id")
        if value is None or value == "":
            return None
        if not isinstance(value, str) or not CLIENT_ID.match(value):
            raise ApiError(
                400, "bad_client_id", "client_id must be 1-64 letters, digits, '-' or '_'."
            )
        return value


class MediatorDeskInput(InputChannel):
    """The local desk for mediators; not a way for people to reach the bot."""

    @classmethod
    def name(cls) -> str:
        return "desk"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def __init__(self, runtime: Runtime | None = None, settings: Settings | None = None):
        self._runtime = runtime
        self._settings = settings

    @property
    def runtime(self) -> Runtime:
        """The runtime given at construction, else the process's (created on first use)."""
        if self._runtime is None:
            self._runtime = get_runtime()
        return self._runtime

    @property
    def settings(self) -> Settings:
        return self._settings or get_settings()

    # --- database work (run in a worker thread) -------------------------------------------

    def _names(self) -> dict[int, str]:
        return {m.id: m.name for m in self.runtime.handoff.store.mediators.all()}

    def _sign_in(self, name: str, password: str | None, languages: Any, trial: bool) -> Mediator:
        """The mediator this name and password (or, on the local try-out, name) prove."""
        store = self.runtime.handoff.store
        mediator = store.mediators.by_name(name)
        if mediator is not None and mediator.password_hash:
            if not check_password(password or "", mediator.password_hash):
                raise ApiError(401, "bad_credentials", "Wrong name or password.")
        elif not trial:
            # Same answer for an unknown name: names are not for guessing here.
            raise ApiError(401, "bad_credentials", "Wrong name or password.")
        elif mediator is None:
            try:
                mediator = store.mediators.add(name, _languages(languages), ui_language="en")
            except IntegrityError:  # the same name signed in at the same moment
                mediator = store.mediators.by_name(name)
        elif mediator.telegram_user_id or mediator.whatsapp:
            raise ApiError(
                401,
                "link_required",
                f"{mediator.name} signs in with the link the "
                "bot sends to their Telegram or WhatsApp, or with a password.",
            )
        if mediator is None:
            raise ApiError(503, "retry", "Could not register the mediator; try again.")
        if not mediator.active:
            raise ApiError(403, "inactive", f"{mediator.name} is switched off as a mediator.")
        return mediator

    def _signed_in(self, mediator: Mediator) -> dict[str, Any]:
        """The answer to a sign-in: the mediator and their session."""
        session = sessions.issue(
            sessions.DESK, str(mediator.id), SESSION_SECONDS, fingerprint(mediator.password_hash)
        )
        return {"mediator": mediator_json(mediator), "session": session}

    def _local_trial(self, request: Request) -> bool:
        """The local try-out: this machine, and no desk token configured."""
        return not self.settings.mediator_desk_token and is_local(request.ip, request.headers)

    def _queue(self, mediator: Mediator) -> dict[str, Any]:
        store = self.runtime.handoff.store
        now = time.time()
        names = self._names()

        def card(ticket: Ticket) -> dict[str, Any]:
            last = store.transcripts.messages(ticket.id, LAST_MESSAGES)
            data = ticket_json(ticket, now, names, last)
            data["speaks"] = mediator.speaks(ticket.mediator_language)
            return data

        return {
            "now": now,
            "waiting": [card(x) for x in store.tickets.in_states((WAITING,))],
            "held": [card(x) for x in store.tickets.held_by(mediator.id)],
            "mediator": mediator_json(mediator),  # a pause or a 403 elsewhere shows at once
        }

    def _set_profile(self, mediator: Mediator, body: _Body) -> Mediator:
        """Apply what the page sent: all of it, or (HandoffError, ApiError) none of it."""
        store = self.runtime.handoff.store.mediators
        data = body.data
        changes: dict[str, Any] = {}
        if "languages" in data:
            changes["languages"] = _languages(data["languages"])
        provinces = data.get("provinces")
        if isinstance(provinces, list):
            provinces = " ".join(str(x) for x in provinces)
        if provinces is not None:
            if not isinstance(provinces, str):
                raise ApiError(400, "bad_provinces", "provinces must be a list or a string.")
            changes["provinces"] = provinces.replace(",", " ").split() or ["all"]
        if "hours" in data:
            if not isinstance(data["hours"], str):
                raise ApiError(400, "bad_hours", "hours must be a string.")
            changes["hours"] = data["hours"] or "always"
        paused = data.get("paused")
        if paused is not None and not isinstance(paused, bool):
            raise ApiError(400, "bad_paused", "paused must be true or false.")
        mediator = store.set_profile(mediator.id, **changes)
        if paused is not None:
            store.set_paused(mediator.id, paused)
        updated = store.get(mediator.id)
        assert updated is not None
        return updated

    def _readable(self, ticket_id: int, mediator: Mediator) -> Ticket:
        """A ticket this mediator may read: waiting, or held (or last held) by them."""
        ticket = self.runtime.handoff.store.tickets.get(ticket_id)
        if ticket is None:
            raise HandoffError("no_ticket", ticket=f"#{ticket_id}")
        if ticket.status != WAITING and ticket.mediator_id != mediator.id:
            raise ApiError(403, "not_yours", mediator_text("not_yours", "en", ticket=ticket.label))
        return ticket

    def _transcript(self, ticket_id: int, mediator: Mediator, after: int) -> dict[str, Any]:
        ticket = self._readable(ticket_id, mediator)
        names = self._names()
        messages = self.runtime.handoff.store.transcripts.messages(ticket.id, after_id=after)
        return {
            "ticket": ticket_json(ticket, time.time(), names),
            "messages": [message_json(m, names) for m in messages],
            **self._files_and_failures(ticket),
        }

    def _files_and_failures(self, ticket: Ticket) -> dict[str, Any]:
        """The ticket's files (downloads) and its undelivered WhatsApp messages (#17)."""
        relay = self.runtime.relay  # the stores on the hand-off's own database
        files = relay.media.for_ticket(ticket.id)
        failed = relay.deliveries.for_ticket(ticket.id, failed_only=True)
        return {
            "files": [
                {
                    "id": f.id,
                    "name": download_name(f),
                    "kind": f.kind,
                    "content_type": f.content_type,
                    "size": f.size,
                    "from": "person" if f.direction == "in" else "mediator",
                    "at": f.created_at,
                }
                for f in files
            ],
            "undelivered": [
                {
                    "to": d.recipient,
                    "status": d.status,
                    "error_code": d.error_code,
                    "at": d.updated_at,
                }
                for d in failed
            ],
        }

    def _changed(self, ticket: Ticket) -> dict[str, Any]:
        return {"ticket": ticket_json(ticket, time.time(), self._names())}

    # --- the blueprint ---------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        page = resources.files("channels").joinpath("static/desk.html").read_text("utf-8")
        desk = Blueprint("mediator_desk", __name__)
        handoff = lambda: self.runtime.handoff  # noqa: E731 - resolved per request

        @desk.route("/", methods=["GET"])
        async def desk_page(_: Request) -> HTTPResponse:
            return response.html(page, headers={"Cache-Control": "no-store"})

        def api(path: str, method: str, signed_in: bool = True) -> Callable[..., Any]:
            """Register an API route with access control, errors as JSON and the mediator."""

            def register(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
                async def route(request: Request, **params: Any) -> HTTPResponse:
                    try:
                        refused = access_error(
                            request.ip, request.headers, self.settings.mediator_desk_token
                        )
                        if refused is not None:
                            raise refused
                        args: dict[str, Any] = {}
                        if "ticket_id" in params:
                            args["ticket_id"] = _ticket_id(params["ticket_id"])
                        if signed_in:
                            args["mediator"] = await self._mediator(request)
                        if method == "POST":
                            args["body"] = _body(
                                request, min(MAX_BODY_BYTES, self.settings.max_request_bytes)
                            )
                        result = await handler(request, **args)
                        return response.json(result)
                    except ApiError as exc:
                        return _error(exc.status, exc.code, exc.message, **exc.extra)
                    except HandoffError as exc:
                        return _handoff_error(exc)
                    except Exception:  # the database went away: say so in JSON, log why
                        logger.exception("desk: %s %s failed", method, path)
                        return _error(
                            503,
                            "unavailable",
                            "The desk could not do that now; try again in a moment.",
                        )

                route.__name__ = f"desk_{handler.__name__}"
                desk.add_route(
                    route, f"/api/{path}", methods=[method], name=f"desk_{handler.__name__}"
                )
                return handler

            return register

        @api("languages", "GET", signed_in=False)
        async def languages(_: Request) -> dict[str, Any]:
            return {"languages": list(LANGUAGES)}

        @api("signin", "POST", signed_in=False)
        async def signin(request: Request, body: _Body) -> dict[str, Any]:
            name = body.data.get("name")
            if not isinstance(name, str) or not name.strip():
                raise ApiError(400, "no_name", "Give your name to sign in.")
            name = " ".join(name.split())
            if len(name) > MAX_NAME_CHARS:
                raise ApiError(
                    400, "name_too_long", f"A name has at most {MAX_NAME_CHARS} characters."
                )
            password = body.data.get("password")
            if password is not None and not isinstance(password, str):
                raise ApiError(400, "bad_password", "The password must be a string.")
            mediator = await asyncio.to_thread(
                self._sign_in,
                name,
                password or None,
                body.data.get("languages"),
                self._local_trial(request),
            )
            return self._signed_in(mediator)

        @api("link", "POST", signed_in=False)
        async def link(_: Request, body: _Body) -> dict[str, Any]:
            code = body.data.get("code")
            if not isinstance(code, str) or not code or len(code) > 128:
                raise ApiError(400, "bad_link", "This sign-in link is not valid.")
            mediator = await asyncio.to_thread(
                self.runtime.handoff.store.mediators.use_login_code, login_code_hash(code)
            )
            if mediator is None:
                raise ApiError(
                    401,
                    "bad_link",
                    "This sign-in link has expired or was used already; ask for a new one.",
                )
            if not mediator.active:
                raise ApiError(403, "inactive", f"{mediator.name} is switched off as a mediator.")
            return self._signed_in(mediator)

        @api("me", "GET")
        async def me(_: Request, mediator: Mediator) -> dict[str, Any]:
            return {"mediator": mediator_json(mediator)}

        @api("me", "POST")
        async def profile(_: Request, mediator: Mediator, body: _Body) -> dict[str, Any]:
            updated = await asyncio.to_thread(self._set_profile, mediator, body)
            return {"mediator": mediator_json(updated)}

        @api("queue", "GET")
        async def queue(_: Request, mediator: Mediator) -> dict[str, Any]:
            return await asyncio.to_thread(self._queue, mediator)

        @api("tickets/<ticket_id>/claim", "POST")
        async def claim(
            _: Request, ticket_id: int, mediator: Mediator, body: _Body
        ) -> dict[str, Any]:
            try:
                change = await asyncio.to_thread(handoff().claim, ticket_id, mediator)
            except HandoffError as exc:
                if exc.code != "already_yours":  # a double click: the ticket is theirs
                    raise
                ticket = await asyncio.to_thread(handoff().store.tickets.get, ticket_id)
                assert ticket is not None
                return {**await asyncio.to_thread(self._changed, ticket), "already": True}
            self.runtime.relay.wake()
            return await asyncio.to_thread(self._changed, change.ticket)

        @api("tickets/<ticket_id>/messages", "GET")
        async def transcript(
            request: Request, ticket_id: int, mediator: Mediator
        ) -> dict[str, Any]:
            raw = request.args.get("after", "0")
            if not raw.isdigit():
                raise ApiError(400, "bad_after", "after must be a message id (0 for all).")
            return await asyncio.to_thread(self._transcript, ticket_id, mediator, int(raw))

        @desk.route("/api/tickets/<ticket_id>/files/<media_id>", methods=["GET"])
        async def download(request: Request, ticket_id: str, media_id: str) -> HTTPResponse:
            """A file of a ticket the mediator may read, as a download."""
            try:
                refused = access_error(
                    request.ip, request.headers, self.settings.mediator_desk_token
                )
                if refused is not None:
                    raise refused
                mediator = await self._mediator(request)
                ticket = await asyncio.to_thread(self._readable, _ticket_id(ticket_id), mediator)
                store = self.runtime.relay.media
                media = (
                    await asyncio.to_thread(store.get, int(media_id))
                    if media_id.isdigit()
                    else None
                )
                if media is None or media.ticket_id != ticket.id or not store.path(media).is_file():
                    raise ApiError(404, "no_file", "That file is not kept (any more).")
            except ApiError as exc:
                return _error(exc.status, exc.code, exc.message, **exc.extra)
            except HandoffError as exc:
                return _handoff_error(exc)
            return await response.file(
                store.path(media),
                mime_type=media.content_type,
                headers={
                    "Content-Disposition": f'attachment; filename="{download_name(media)}"',
                    "Cache-Control": "no-store",
                    "X-Content-Type-Options": "nosniff",
                },
            )

        @api("tickets/<ticket_id>/messages", "POST")
        async def reply(
            _: Request, ticket_id: int, mediator: Mediator, body: _Body
        ) -> dict[str, Any]:
            text, client_id = body.text(), body.client_id()
            change = await asyncio.to_thread(
                handoff().reply,
                ticket_id,
                mediator,
                text,
                f"desk:{client_id}" if client_id else None,
            )
            self.runtime.relay.wake()
            return {"duplicate": change.duplicate}

        @api("tickets/<ticket_id>/notes", "POST")
        async def note(
            _: Request, ticket_id: int, mediator: Mediator, body: _Body
        ) -> dict[str, Any]:
            text, client_id = body.text(), body.client_id()
            change = await asyncio.to_thread(
                handoff().note,
                ticket_id,
                mediator,
                text,
                f"desk:{client_id}" if client_id else None,
            )
            self.runtime.relay.wake()
            return {"duplicate": change.duplicate}

        @api("tickets/<ticket_id>/close", "POST")
        async def close(
            _: Request, ticket_id: int, mediator: Mediator, body: _Body
        ) -> dict[str, Any]:
            change = await asyncio.to_thread(handoff().close, ticket_id, mediator)
            self.runtime.relay.wake()
            return await asyncio.to_thread(self._changed, change.ticket)

        @api("tickets/<ticket_id>/release", "POST")
        async def release(
            _: Request, ticket_id: int, mediator: Mediator, body: _Body
        ) -> dict[str, Any]:
            change = await asyncio.to_thread(handoff().release, ticket_id, mediator)
            self.runtime.relay.wake()
            return await asyncio.to_thread(self._changed, change.ticket)

        @api("tickets/<ticket_id>/transfer", "POST")
        async def transfer(
            _: Request, ticket_id: int, mediator: Mediator, body: _Body
        ) -> dict[str, Any]:
            language = body.data.get("language")
            if not isinstance(language, str) or language.strip().lower() not in LANGUAGES:
                raise ApiError(
                    400, "unknown_language", f"Transfer to one of: {', '.join(LANGUAGES)}."
                )
            change = await asyncio.to_thread(
                handoff().transfer, ticket_id, mediator, language.strip().lower()
            )
            self.runtime.relay.wake()
            return await asyncio.to_thread(self._changed, change.ticket)

        return desk

    async def _mediator(self, request: Request) -> Mediator:
        """The mediator whose session the request carries; nothing else is believed."""
        token = (request.headers.get(SESSION_HEADER) or "").strip()
        subject = sessions.subject(token, sessions.DESK)
        if subject is None or not subject.isdigit():
            raise ApiError(401, "sign_in", "Sign in first (no valid session).")
        mediator = await asyncio.to_thread(self.runtime.handoff.store.mediators.get, int(subject))
        if (
            mediator is None
            or sessions.valid(token, sessions.DESK, fingerprint(mediator.password_hash)) is None
        ):
            raise ApiError(401, "sign_in", "Your session has ended: sign in again.")
        if not mediator.active:
            raise ApiError(403, "inactive", f"{mediator.name} is switched off as a mediator.")
        return mediator


def _ticket_id(raw: str) -> int:
    value = raw.lstrip("#")
    if not value.isdigit() or len(value) > 9:
        raise ApiError(404, "no_ticket", f"There is no ticket {raw}.")
    return int(value)


def _body(request: Request, max_bytes: int = MAX_BODY_BYTES) -> _Body:
    raw = request.body or b""
    if len(raw) > max_bytes:
        raise ApiError(413, "too_large", f"The request body is over {max_bytes} bytes.")
    if not raw.strip():
        return _Body({})
    # A cross-site form cannot send application/json without a CORS preflight, which Rasa's
    # server refuses: requiring it keeps other web pages from driving the desk.
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(415, "json_required", "Send the body as application/json.")
    try:
        return _Body(json_object(raw, max_bytes))
    except BodyError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None


def _languages(value: Any) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[\s,;]+", value)
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ApiError(400, "no_languages", 'Give the languages you speak, e.g. ["fr", "ar"].')
    languages = sorted({x.strip().lower() for x in value if x.strip()})
    unknown = [x for x in languages if x not in LANGUAGES]
    if unknown:
        raise ApiError(
            400,
            "unknown_language",
            f"Unknown language code(s): {', '.join(unknown)}. Known: {', '.join(LANGUAGES)}.",
        )
    if not languages:
        raise ApiError(400, "no_languages", "Give at least one language you speak.")
    return languages


def _error(status: int, code: str, message: str, **extra: Any) -> HTTPResponse:
    return response.json({"error": code, "message": message, **extra}, status=status)


def _handoff_error(exc: HandoffError) -> HTTPResponse:
    status = ERROR_STATUS.get(exc.code, 400)
    try:
        message = mediator_text(exc.code, "en", **exc.values)
    except KeyError:
        message = exc.code
    extra = {"holder": exc.values["name"]} if exc.code == "claimed_by_other" else {}
    return _error(status, exc.code, message, **extra)
