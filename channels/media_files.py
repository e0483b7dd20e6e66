"""``/webhooks/media/<token>``: a hand-off file, for whoever holds an unexpired link to it.

Twilio sends media to WhatsApp only by URL: it fetches the file itself (``GET``, after a
``HEAD`` to check its type) from a public address. So a file a mediator sends to a person on
WhatsApp is served here, behind a link ``MediaStore.link`` made for it: a 256-bit random token
that works for ``MEDIA_LINK_MINUTES``. Unknown, expired and erased tokens all get the same 404,
so the answer says nothing about which tokens exist.

Registered like the other channels (a line in ``credentials.yml``); it takes no messages.
Served files carry their stored type with ``X-Content-Type-Options: nosniff``, are never
cached, and have a name that says nothing about the person (``ticket-42-7.jpg``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff.media import MediaStore, download_name, get_media_store


class MediaFilesInput(InputChannel):
    """Serves files by token; ``store`` is the process's media store unless a test gives one."""

    @classmethod
    def name(cls) -> str:
        return "media"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def __init__(self, store: MediaStore | None = None):
        self._store = store

    @property
    def store(self) -> MediaStore:
        return self._store or get_media_store()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("media_files", __name__)

        @bp.route("/<token>", methods=["GET", "HEAD"])
        async def serve(request: Request, token: str) -> HTTPResponse:
            media = await asyncio.to_thread(self.store.resolve, token)
            if media is None:
                return response.text("not found", status=404)
            headers = {
                "Content-Disposition": f'inline; filename="{download_name(media)}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            }
            if request.method == "HEAD":
                headers["Content-Length"] = str(media.size)
                return response.raw(b"", content_type=media.content_type, headers=headers)
            return await response.file(
                self.store.path(media), mime_type=media.content_type, headers=headers
            )

        return bp
