"""Bounds and shapes of what reaches Rasa's HTTP API: one guard installed on Rasa's Sanic app.

Rasa's handlers trust their bodies: ``/model/parse`` answered 500 to 17 malformed bodies (``[]``,
a string, ``null``…), ``/conversations/<id>/messages`` to a non-object, and nothing bounded a
message, so a 10 MB text went to DIET and froze the server for minutes. ``app.rasa_main`` calls
:func:`install` on the app Rasa builds, before it serves:

- ``REQUEST_MAX_SIZE`` is ``MAX_REQUEST_BYTES``: Sanic refuses a bigger body from its
  Content-Length before reading it, with a JSON 413 (every route, the channels' included);
- errors Sanic raises itself (404, 405, 413, a malformed request line) are JSON;
- a request middleware checks the JSON body of each API route that takes one (see ``ROUTES``):
  invalid UTF-8, invalid or too deeply nested JSON, a wrong shape or a wrong type get a 400 in
  Rasa's own error format, and a message longer than ``MAX_MESSAGE_CHARS`` a 400 before NLU;
- the routes that manage models (``/model/train``, ``/model/test/*``, ``PUT``/``DELETE /model``)
  answer 404: models are trained by ``bot train`` and chosen by ``bot run``; in the server they
  would let a token holder stall every conversation for minutes or load any file as a model.

Requests without the right ``?token=`` are let through untouched, so Rasa answers them 401
before anything is said about their body. The channels' webhooks (``/webhooks/…``) check their
own bodies.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.json_body import BodyError, parse_json
from bot.settings import Settings, get_settings

CLOSED_ROUTES = {
    ("POST", "/model/train"),
    ("POST", "/model/test/stories"),
    ("POST", "/model/test/intents"),
    ("PUT", "/model"),
    ("DELETE", "/model"),
}


class BadBody(Exception):
    """A body the API refuses: 400 with this message."""


Check = Callable[[Any, Request, Settings], None]


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadBody("The request body must be a JSON object.")
    return body


def _text(value: Any, name: str, settings: Settings, required: bool = True) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str):
        raise BadBody(f"'{name}' must be a string.")
    if len(value) > settings.max_message_chars:
        raise BadBody(f"'{name}' has more than {settings.max_message_chars} characters.")


def _optional(body: dict[str, Any], name: str, kinds: tuple[type, ...], what: str) -> None:
    value = body.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
        raise BadBody(f"'{name}' must be {what}.")


def _entities(value: Any, name: str = "entities") -> None:
    """None, ``{name: value}`` or ``[{"entity", "value"}, …]``, as Rasa reads entities."""
    if value is None:
        return
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str | int | float) for k, v in value.items()
    ):
        return
    if isinstance(value, list) and all(
        isinstance(e, dict) and isinstance(e.get("entity"), str) and "value" in e for e in value
    ):
        return
    raise BadBody(f'\'{name}\' must be a list of {{"entity", "value"}} objects.')


def check_parse(body: Any, request: Request, settings: Settings) -> None:
    """``POST /model/parse``: ``{"text": str, "message_id"?: str}``."""
    body = _object(body)
    _text(body.get("text"), "text", settings)
    _optional(body, "message_id", (str,), "a string")


def check_message(body: Any, request: Request, settings: Settings) -> None:
    """``POST /conversations/<id>/messages``: ``{"text", "sender": "user", "parse_data"?}``."""
    body = _object(body)
    _text(body.get("text"), "text", settings)
    if body.get("sender") != "user":
        raise BadBody("'sender' must be \"user\".")
    parse_data = body.get("parse_data")
    if parse_data is None:
        return
    if not isinstance(parse_data, dict):
        raise BadBody("'parse_data' must be an object.")
    intent = parse_data.get("intent")
    if intent is not None and not (
        isinstance(intent, dict)
        and isinstance(intent.get("name"), str)
        and isinstance(intent.get("confidence", 1.0), int | float)
    ):
        raise BadBody('\'parse_data.intent\' must be {"name": str, "confidence": number}.')
    _entities(parse_data.get("entities"), "parse_data.entities")
    if isinstance(parse_data.get("entities"), dict):
        raise BadBody("'parse_data.entities' must be a list.")


def check_trigger(body: Any, request: Request, settings: Settings) -> None:
    """``POST /conversations/<id>/trigger_intent``: ``{"name": str, "entities"?}``."""
    body = _object(body)
    if not isinstance(body.get("name"), str) or not body["name"]:
        raise BadBody("'name' must be the name of an intent.")
    _entities(body.get("entities"))


def check_execute(body: Any, request: Request, settings: Settings) -> None:
    """``POST /conversations/<id>/execute``: ``{"name": str, "policy"?, "confidence"?}``."""
    body = _object(body)
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise BadBody("'name' must be the name of an action.")
    agent = getattr(request.app.ctx, "agent", None)
    domain = getattr(agent, "domain", None)
    if domain is not None and name not in domain.action_names_or_texts:
        raise BadBody(f"There is no action '{name[:80]}' in the domain.")
    _optional(body, "policy", (str,), "a string")
    _optional(body, "confidence", (int, float), "a number")


def check_events(body: Any, request: Request, settings: Settings) -> None:
    """Events to append, replace or predict from: an event object or a list of them.

    Each must pass Rasa's event schema and be an event Rasa can build, as its handler would
    (it answers 500 otherwise), with a numeric timestamp (a string one fails when it is saved).
    """
    import jsonschema
    from rasa.shared.core.events import Event
    from rasa.shared.utils.schemas.events import EVENTS_SCHEMA

    events = body if isinstance(body, list) else [body]
    if not events or not all(isinstance(e, dict) for e in events):
        raise BadBody("The request body must be an event object or a list of them.")
    try:
        jsonschema.validate(events, EVENTS_SCHEMA)
    except jsonschema.ValidationError:
        raise BadBody("An event in the request body does not follow Rasa's format.") from None
    for event in events:
        _optional(event, "timestamp", (int, float), "a number")
        _optional(event, "metadata", (dict,), "an object")
        _text(event.get("text"), "text", settings, required=False)
        try:
            built = Event.from_parameters(event)
        except Exception:
            built = None
        if built is None:
            raise BadBody("An event in the request body is not a valid Rasa event.")


def check_tracker(body: Any, request: Request, settings: Settings) -> None:
    """``PUT /conversations/<id>/tracker/events``: events a tracker can be rebuilt from."""
    check_events(body, request, settings)
    agent = getattr(request.app.ctx, "agent", None)
    domain = getattr(agent, "domain", None)
    if domain is None:
        return
    from rasa.shared.core.trackers import DialogueStateTracker

    try:
        DialogueStateTracker.from_dict("check", body, domain.slots)
    except Exception:
        raise BadBody("These events do not make a conversation.") from None


# (method, path pattern, check) of every API route that reads a body.
ROUTES: list[tuple[str, re.Pattern[str], Check]] = [
    ("POST", re.compile(r"^/model/parse/?$"), check_parse),
    ("POST", re.compile(r"^/conversations/.+/messages/?$"), check_message),
    ("POST", re.compile(r"^/conversations/.+/trigger_intent/?$"), check_trigger),
    ("POST", re.compile(r"^/conversations/.+/execute/?$"), check_execute),
    ("POST", re.compile(r"^/conversations/.+/tracker/events/?$"), check_events),
    ("PUT", re.compile(r"^/conversations/.+/tracker/events/?$"), check_tracker),
    ("POST", re.compile(r"^/model/predict/?$"), check_events),
]


def _error(status: int, reason: str, message: str) -> HTTPResponse:
    """Rasa's own error format, so API clients read one shape."""
    import rasa

    return response.json(
        {
            "version": rasa.__version__,
            "status": "failure",
            "message": message,
            "reason": reason,
            "details": {},
            "help": None,
            "code": status,
        },
        status=status,
    )


def _authorised(request: Request, token: str | None) -> bool:
    if token is None:
        return True
    given = request.args.get("token") or ""
    return hmac.compare_digest(given.encode(), token.encode())


def install(app: Sanic, auth_token: str | None, settings: Settings | None = None) -> None:
    """Bound bodies, make Sanic's errors JSON and check the API's bodies on ``app``."""
    settings = settings or get_settings()
    app.config.REQUEST_MAX_SIZE = settings.max_request_bytes
    app.config.FALLBACK_ERROR_FORMAT = "json"

    @app.exception(SanicException)
    async def sanic_error(request: Request, exc: SanicException) -> HTTPResponse:
        try:
            status = HTTPStatus(int(getattr(exc, "status_code", 500) or 500))
        except ValueError:
            status = HTTPStatus.INTERNAL_SERVER_ERROR
        message = status.phrase + "."
        if status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
            message = f"The request body is over {settings.max_request_bytes} bytes."
        return response.json(
            {"error": status.name.lower(), "message": message}, status=status.value
        )

    @app.signal("http.lifecycle.exception")
    async def failed(request: Request, exception: BaseException) -> None:
        request.ctx.failed = True

    @app.on_request
    async def guard(request: Request) -> HTTPResponse | None:
        path, method = request.path, request.method
        if path.startswith("/webhooks/") or getattr(request.ctx, "failed", False):
            # Sanic runs request middleware again for an error response (a body over the
            # cap fails while it is read): the error handler answers those.
            return None
        if (method, path.rstrip("/") or "/") in CLOSED_ROUTES:
            return _error(404, "NotFound", "This route is closed on this server.")
        for route_method, pattern, check in ROUTES:
            if method != route_method or not pattern.match(path):
                continue
            if not _authorised(request, auth_token):
                return None  # Rasa answers 401 before reading the body
            try:
                body = parse_json(request.body, settings.max_request_bytes)
                check(body, request, settings)
            except BodyError as exc:
                return _error(exc.status, "BadRequest", exc.message)
            except BadBody as exc:
                return _error(400, "BadRequest", str(exc))
            request.parsed_json = body
            return None
        return None
