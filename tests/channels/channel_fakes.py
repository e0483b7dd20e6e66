"""Fake Twilio and Telegram API servers on 127.0.0.1, speaking the real wire formats.

Twilio: ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``, HTTP basic auth with the
account SID and auth token, form-encoded ``To``/``From``/``Body``/``MediaUrl``; answers 201 with
the Message resource JSON, or a Twilio error JSON when told to fail. ``GET`` on the same path
lists the messages created, newest first, filtered by ``To`` and ``From``.
A message created with a ``StatusCallback`` URL gets status callbacks posted there afterwards,
the way Twilio posts them: form-encoded, signed with ``X-Twilio-Signature``, one per status
(queued, sent, delivered; or queued then failed/undelivered with an ``ErrorCode``, e.g. 63016
for free-form text to an address whose 24-hour window is closed). Media added with
``add_media`` are served at Twilio's media URLs to HTTP basic auth only, as a redirect to a
short-lived copy on another origin (``cdn``), which records what credentials reached it.
Telegram: ``POST /bot<token>/<method>`` with JSON or form-encoded parameters (nested values
JSON-encoded, as python-telegram-bot sends them); answers ``{"ok": true, "result": ...}``.
``getFile`` and ``GET /file/bot<token>/<path>`` serve files added with ``add_file``.
Also the helpers that build webhook requests the way Twilio and Telegram build them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "f" * 32
WHATSAPP_NUMBER = "whatsapp:+14155238886"
BOT_TOKEN = "123456:TEST-token_abcdefghijklmnopqrstuv"
WEBHOOK_SECRET = "s3cret-Token_for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class FakeTwilio:
    """Records every Message created; ``fail_with`` makes the next creations fail."""

    messages: list[dict[str, str]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    created: list[float] = field(default_factory=list)  # wall-clock time of each message
    fail_with: tuple[int, int] | None = None  # (HTTP status, Twilio error code)
    runner: web.AppRunner | None = None
    base_url: str = ""
    _sids: Any = field(default_factory=lambda: itertools.count(1))
    # Status callbacks: the statuses each address's messages go through (default queued, sent,
    # delivered), addresses whose 24-hour window is closed (free-form text fails with 63016),
    # and every callback posted as (url, form, HTTP status of the answer).
    statuses: dict[str, list[tuple[str, int | None]]] = field(default_factory=dict)
    window_closed: set[str] = field(default_factory=set)
    window_closed_status: str = "failed"
    callbacks: list[tuple[str, dict[str, str], int]] = field(default_factory=list)
    callback_delay: float = 0.01
    # Media: Twilio's media URLs (auth, then a redirect to ``cdn``) and what the CDN was sent;
    # media a created message points at (``MediaUrl``) is fetched, as Twilio does.
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    cdn_requests: list[dict[str, str]] = field(default_factory=list)
    fetched: list[tuple[str, int, str, bytes]] = field(default_factory=list)
    cdn: web.AppRunner | None = None
    cdn_url: str = ""
    cdn_chunked: bool = False  # stream without a Content-Length
    _tasks: set[Any] = field(default_factory=set)

    async def start(self) -> FakeTwilio:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._create)
        app.router.add_get("/2010-04-01/Accounts/{sid}/Messages.json", self._list)
        app.router.add_get("/2010-04-01/Accounts/{sid}/Messages/{msid}/Media/{media}", self._media)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.base_url = f"http://127.0.0.1:{port}"
        cdn = web.Application()
        cdn.router.add_get("/{media}", self._cdn)
        self.cdn = web.AppRunner(cdn)
        await self.cdn.setup()
        cdn_port = free_port()
        await web.TCPSite(self.cdn, "127.0.0.1", cdn_port).start()
        self.cdn_url = f"http://127.0.0.1:{cdn_port}"
        return self

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self.runner:
            await self.runner.cleanup()
        if self.cdn:
            await self.cdn.cleanup()

    # --- media ------------------------------------------------------------------------------

    def add_media(self, content: bytes, content_type: str) -> str:
        """Keep a file as if someone sent it on WhatsApp; returns its MediaUrl."""
        media_sid = f"ME{next(self._sids):032x}"
        self.media[media_sid] = (content, content_type)
        return (
            f"{self.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/"
            f"MM{next(self._sids):032x}/Media/{media_sid}"
        )

    async def _media(self, request: web.Request) -> web.Response:
        refused = self._unauthorized(request)
        if refused is not None:
            return refused
        if request.match_info["media"] not in self.media:
            return web.json_response(
                {"code": 20404, "message": "not found", "status": 404}, status=404
            )
        raise web.HTTPTemporaryRedirect(f"{self.cdn_url}/{request.match_info['media']}")

    async def _cdn(self, request: web.Request) -> web.Response:
        self.cdn_requests.append(dict(request.headers))
        content, content_type = self.media[request.match_info["media"]]
        if not self.cdn_chunked:
            return web.Response(body=content, content_type=content_type)
        stream = web.StreamResponse(headers={"Content-Type": content_type})
        stream.enable_chunked_encoding()
        await stream.prepare(request)
        for start in range(0, len(content), 16 * 1024):
            await stream.write(content[start : start + 16 * 1024])
        await stream.write_eof()
        return stream

    async def _fetch(self, url: str) -> None:
        import aiohttp

        async with aiohttp.ClientSession() as http, http.get(url) as resp:
            body = await resp.read()
            self.fetched.append((url, resp.status, resp.headers.get("Content-Type", ""), body))

    # --- status callbacks -------------------------------------------------------------------

    def _statuses_for(self, form: dict[str, str]) -> list[tuple[str, int | None]]:
        if form["To"] in self.window_closed and not form.get("ContentSid"):
            return [("queued", None), (self.window_closed_status, 63016)]
        return self.statuses.get(
            form["To"], [("queued", None), ("sent", None), ("delivered", None)]
        )

    async def _post_statuses(self, url: str, sid: str, form: dict[str, str]) -> None:
        import aiohttp

        async with aiohttp.ClientSession() as http:
            for status, code in self._statuses_for(form):
                await asyncio.sleep(self.callback_delay)
                callback = status_callback_form(sid, status, form["To"], form["From"], code)
                body, headers = twilio_signed(url, callback)
                try:
                    async with http.post(url, data=body, headers=headers) as resp:
                        self.callbacks.append((url, callback, resp.status))
                except aiohttp.ClientError:
                    self.callbacks.append((url, callback, 0))

    async def wait_for_callbacks(self, count: int, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.callbacks) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.callbacks

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    def _unauthorized(request: web.Request) -> web.Response | None:
        import aiohttp

        auth = request.headers.get("Authorization", "")
        expected = aiohttp.BasicAuth(ACCOUNT_SID, AUTH_TOKEN).encode()
        if request.match_info["sid"] != ACCOUNT_SID or auth != expected:
            return web.json_response(
                {"code": 20003, "message": "Authenticate", "status": 401}, status=401
            )
        return None

    def record(self, form: dict[str, str], at: float | None = None) -> str:
        """Keep a created message (as if an earlier process had sent it); returns its SID."""
        self.messages.append(dict(form))
        self.times.append(time.perf_counter())
        self.created.append(at if at is not None else time.time())
        return f"SM{next(self._sids):032x}"

    async def _list(self, request: web.Request) -> web.Response:
        from datetime import datetime, timezone
        from email.utils import format_datetime

        refused = self._unauthorized(request)
        if refused is not None:
            return refused
        wanted = {k: request.query[k] for k in ("To", "From") if k in request.query}
        listed = [
            {
                "body": m.get("Body", ""),
                "to": m["To"],
                "from": m["From"],
                "status": "sent",
                "date_created": format_datetime(datetime.fromtimestamp(int(at), timezone.utc)),
            }
            for m, at in zip(self.messages, self.created, strict=True)
            if all(m.get(k) == v for k, v in wanted.items())
        ]
        page = int(request.query.get("PageSize", "50"))
        return web.json_response({"messages": listed[::-1][:page], "page_size": page})

    async def _create(self, request: web.Request) -> web.Response:
        refused = self._unauthorized(request)
        if refused is not None:
            return refused
        form = await request.post()
        if self.fail_with:
            status, code = self.fail_with
            return web.json_response(
                {"code": code, "message": "failed", "more_info": "", "status": status},
                status=status,
            )
        if (
            "To" not in form
            or "From" not in form
            or not (form.get("Body") or form.get("MediaUrl") or form.get("ContentSid"))
        ):
            return web.json_response(
                {"code": 21604, "message": "A 'To' phone number is required.", "status": 400},
                status=400,
            )
        record = {k: str(v) for k, v in form.items()}
        sid = self.record(record)
        if record.get("MediaUrl"):
            self._spawn(self._fetch(record["MediaUrl"]))
        if record.get("StatusCallback"):
            self._spawn(self._post_statuses(record["StatusCallback"], sid, record))
        return web.json_response(
            {
                "account_sid": ACCOUNT_SID,
                "api_version": "2010-04-01",
                "body": record.get("Body", ""),
                "date_created": None,
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": record["From"],
                "num_media": "1" if "MediaUrl" in record else "0",
                "num_segments": "1",
                "sid": sid,
                "status": "queued",
                "to": record["To"],
                "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
            },
            status=201,
        )

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, str]]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.messages


@dataclass
class FakeTelegram:
    """Records every Bot API call as (method, parameters)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    runner: web.AppRunner | None = None
    base_url: str = ""
    blocked_chats: set[int] = field(default_factory=set)
    # Users who never pressed Start: Telegram refuses the bot's first message to them.
    never_started: set[int] = field(default_factory=set)
    # What each chat shows now, as editMessageText leaves it: (chat id, message id) → message.
    shown: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    # Files for getFile and the download route: file_id → (content, file_path); ids that
    # getFile refuses as too big (over the Bot API's 20 MB), and the downloads made.
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    too_big: set[str] = field(default_factory=set)
    downloads: list[str] = field(default_factory=list)

    def add_file(self, content: bytes, file_path: str) -> str:
        """Keep a file as if a user sent it; returns its file_id."""
        file_id = f"AgAC{next(self._ids):08d}"
        self.files[file_id] = (content, file_path)
        return file_id

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != BOT_TOKEN:
            return web.json_response({"ok": False, "error_code": 401}, status=401)
        path = request.match_info["path"]
        self.downloads.append(path)
        for content, file_path in self.files.values():
            if file_path == path:
                return web.Response(body=content, content_type="application/octet-stream")
        return web.json_response({"ok": False, "error_code": 404}, status=404)

    async def start(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_get("/file/bot{token}/{path:.*}", self._download)
        app.router.add_post("/bot{token}/{method}", self._method)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    def methods(self, name: str) -> list[dict[str, Any]]:
        return [params for method, params in self.calls if method == name]

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != BOT_TOKEN:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        if request.content_type == "application/json":
            params = await request.json()
        else:
            params = {}
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):  # an upload (sendPhoto, sendVoice, ...)
                    params[key] = {"filename": value.filename, "bytes": value.file.read()}
                    continue
                try:
                    params[key] = json.loads(value)
                except (TypeError, ValueError):
                    params[key] = value
        self.calls.append((method, params))
        self.times.append(time.perf_counter())
        if method == "getMe":
            result: Any = {
                "id": 123456,
                "is_bot": True,
                "first_name": "Test",
                "username": "test_bot",
            }
        elif method == "sendMessage":
            chat_id = int(params["chat_id"])
            if chat_id in self.never_started:
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 403,
                        "description": "Forbidden: bot can't initiate conversation with a user",
                    },
                    status=403,
                )
            if chat_id in self.blocked_chats:
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 403,
                        "description": "Forbidden: bot was blocked by the user",
                    },
                    status=403,
                )
            if not str(params.get("text", "")).strip() or len(str(params["text"])) > 4096:
                return web.json_response(
                    {"ok": False, "error_code": 400, "description": "Bad Request: text"},
                    status=400,
                )
            result = {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": params["text"],
                "from": {"id": 123456, "is_bot": True, "first_name": "Test"},
            }
            if params.get("reply_markup"):
                result["reply_markup"] = params["reply_markup"]
            self.shown[(chat_id, result["message_id"])] = result
        elif method in ("editMessageText", "editMessageReplyMarkup"):
            # As the Bot API answers: 400 for a message it does not know or an edit that
            # changes nothing; editMessageText without reply_markup removes the keyboard.
            key = (int(params["chat_id"]), int(params["message_id"]))
            if key not in self.shown:
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 400,
                        "description": "Bad Request: message to edit not found",
                    },
                    status=400,
                )
            before = self.shown[key]
            after = dict(before)
            if method == "editMessageText":
                after["text"] = params["text"]
            after.pop("reply_markup", None)
            if params.get("reply_markup"):
                after["reply_markup"] = params["reply_markup"]
            if after == before:
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 400,
                        "description": "Bad Request: message is not modified: specified new "
                        "message content and reply markup are exactly the same as a current "
                        "content and reply markup of the message",
                    },
                    status=400,
                )
            after["edit_date"] = int(time.time())
            self.shown[key] = after
            result = after
        elif method == "copyMessage":  # a mediator's photo or file, copied to a person
            chat_id = int(params["chat_id"])
            if chat_id in self.blocked_chats:
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 403,
                        "description": "Forbidden: bot was blocked by the user",
                    },
                    status=403,
                )
            result = {"message_id": next(self._ids)}
        elif method in ("sendPhoto", "sendDocument", "sendVoice", "sendAudio"):
            file = {"file_id": f"F{next(self._ids)}", "file_unique_id": f"U{next(self._ids)}"}
            field_name = method[len("send") :].lower()
            result = {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                field_name: [{**file, "width": 1, "height": 1}]
                if field_name == "photo"
                else {**file, "duration": 1}
                if field_name in ("voice", "audio")
                else file,
            }
            if params.get("caption"):
                result["caption"] = params["caption"]
        elif method == "getFile":
            file_id = str(params.get("file_id", ""))
            if file_id in self.too_big:
                return web.json_response(
                    {"ok": False, "error_code": 400, "description": "Bad Request: file is too big"},
                    status=400,
                )
            if file_id not in self.files:
                return web.json_response(
                    {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"},
                    status=400,
                )
            content, file_path = self.files[file_id]
            result = {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_size": len(content),
                "file_path": file_path,
            }
        elif method == "getWebhookInfo":
            urls = [p.get("url", "") for m, p in self.calls if m == "setWebhook"]
            result = {
                "url": urls[-1] if urls else "",
                "has_custom_certificate": False,
                "pending_update_count": 0,
            }
        else:  # answerCallbackQuery, setWebhook, deleteWebhook
            result = True
        return web.json_response({"ok": True, "result": result})

    async def wait_for(self, method: str, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.methods(method)) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.methods(method)


# --- webhook requests as the platforms build them ----------------------------------------------

_message_sids = itertools.count(1)
_update_ids = itertools.count(500_000_000)


def twilio_form(
    body: str | None = "ciao",
    sender: str = "whatsapp:+393331234567",
    sid: str | None = None,
    **extra: str,
) -> dict[str, str]:
    """A WhatsApp inbound-message webhook's parameters, as Twilio posts them."""
    sid = sid or f"SM{next(_message_sids):032x}"
    form = {
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ProfileName": "Amina",
        "SmsSid": sid,
        "WaId": sender.split("+")[-1],
        "SmsStatus": "received",
        "To": WHATSAPP_NUMBER,
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    if body is not None:
        form["Body"] = body
    form.update(extra)
    return form


def twilio_signed(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> tuple[bytes, dict]:
    """Form body and headers, signed exactly as Twilio signs them."""
    signature = RequestValidator(token).compute_signature(url, form)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "X-Twilio-Signature": signature,
        "I-Twilio-Idempotency-Token": "token",
        "User-Agent": "TwilioProxy/1.1",
    }
    return urlencode(form).encode(), headers


def status_callback_form(
    sid: str, status: str, to: str, sender: str = WHATSAPP_NUMBER, error_code: int | None = None
) -> dict[str, str]:
    """A message status callback's parameters, as Twilio posts them for WhatsApp."""
    form = {
        "ChannelPrefix": "whatsapp",
        "ApiVersion": "2010-04-01",
        "MessageStatus": status,
        "SmsSid": sid,
        "SmsStatus": status,
        "ChannelInstallSid": "XE" + "0" * 32,
        "To": to,
        "From": sender,
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "ChannelToAddress": to.removeprefix("whatsapp:"),
    }
    if error_code is not None:
        form["ErrorCode"] = str(error_code)
    return form


def telegram_text_update(
    text: str,
    chat_id: int = 987654321,
    language: str | None = "it",
    update_id: int | None = None,
    chat_type: str = "private",
) -> dict:
    """An Update carrying a text message, as the Bot API posts it."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Amina"}
    if language:
        user["language_code"] = language
    return {
        "update_id": update_id or next(_update_ids),
        "message": {
            "message_id": 17,
            "date": int(time.time()),
            "from": user,
            "chat": {"id": chat_id, "first_name": "Amina", "type": chat_type}
            if chat_type == "private"
            else {"id": -1001, "title": "g", "type": chat_type},
            "text": text,
        },
    }


def telegram_message_update(
    message_fields: dict, chat_id: int = 987654321, language: str | None = "it"
) -> dict:
    update = telegram_text_update("", chat_id=chat_id, language=language)
    del update["message"]["text"]
    update["message"].update(message_fields)
    return update


def telegram_callback_update(
    data: str, chat_id: int = 987654321, language: str | None = "it"
) -> dict:
    user = {"id": chat_id, "is_bot": False, "first_name": "Amina"}
    if language:
        user["language_code"] = language
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": f"cb{next(_update_ids)}",
            "from": user,
            "chat_instance": "42",
            "data": data,
            "message": {
                "message_id": 18,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Amina"},
                "from": {"id": 123456, "is_bot": True, "first_name": "Test"},
                "text": "Pick one",
            },
        },
    }


# --- the whole assistant (`bot run`) with its channels pointed at the fakes ---------------------


@dataclass
class RunningStack:
    process: asyncio.subprocess.Process
    base_url: str
    action_port: int = 0

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except asyncio.TimeoutError:
                self.process.kill()
                await self.process.wait()


async def start_stack(
    root,
    twilio: FakeTwilio,
    telegram: FakeTelegram,
    database_url: str,
    timeout: float = 420.0,
    extra_env: dict[str, str] | None = None,
    log_path=None,
) -> RunningStack:
    """Start `python -m app run` (Rasa + action server) on free ports; wait until it answers.

    ``log_path``: a file that gets both servers' output (appended), else it is discarded.
    """
    import os
    import sys

    import aiohttp

    rasa_port, action_port = free_port(), free_port()
    env = dict(os.environ)
    env.update(
        RASA_PORT=str(rasa_port),
        ACTION_PORT=str(action_port),
        DATABASE_URL=database_url,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_WHATSAPP_NUMBER=WHATSAPP_NUMBER,
        TWILIO_API_BASE_URL=twilio.base_url,
        TELEGRAM_BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
        TELEGRAM_API_BASE_URL=telegram.base_url,
        PSEUDONYM_SECRET="e2e-pseudonym-key",
        PYTHONPATH=str(root),
    )
    env.pop("TWILIO_WEBHOOK_URL", None)
    # "{base_url}" in a value: the assistant's own address (status callbacks, media links).
    base = f"http://127.0.0.1:{rasa_port}"
    env.update({k: v.replace("{base_url}", base) for k, v in (extra_env or {}).items()})
    log = open(log_path, "ab") if log_path else asyncio.subprocess.DEVNULL  # noqa: SIM115
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app",
            "run",
            cwd=str(root),
            env=env,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT if log_path else log,
            start_new_session=True,
        )
    finally:
        if log_path:
            log.close()
    stack = RunningStack(process, f"http://127.0.0.1:{rasa_port}", action_port)
    token = env.get("RASA_AUTH_TOKEN")
    status_url = "/status" + (f"?token={token}" if token else "")
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"bot run exited with {process.returncode}")
            try:
                async with http.get(stack.base_url + status_url) as resp:
                    if resp.status == 200 and (await resp.json()).get("model_file"):
                        break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(1)
        else:
            await stack.stop()
            raise RuntimeError("the assistant did not start in time")
        # The action server must answer too (slot mappings call it on every message).
        while time.monotonic() < deadline:
            try:
                async with http.get(f"http://127.0.0.1:{action_port}/health") as resp:
                    if resp.status == 200:
                        return stack
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
    await stack.stop()
    raise RuntimeError("the action server did not start in time")
