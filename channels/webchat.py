"""A local web chat page for trying the assistant in a browser, with no accounts.

It only serves a static page at ``/webhooks/webchat/``; the page talks to Rasa's REST channel
on the same origin, so no CORS set-up is needed. It is meant for ``make run`` on one machine,
not as a public channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse


class WebChatInput(InputChannel):
    """Serves the chat page; messages go through the ``rest`` channel."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        page = resources.files("channels").joinpath("static/webchat.html").read_text("utf-8")
        webchat = Blueprint("webchat_page", __name__)

        @webchat.route("/", methods=["GET"])
        async def index(_: Request) -> HTTPResponse:
            return response.html(page)

        return webchat
