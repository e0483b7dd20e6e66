"""What the public input channels (WhatsApp, Telegram) share: switched on by the environment.

A channel is listed in ``credentials.yml`` but configured only from the environment; without its
variables it is off — one log line at start-up, a health route saying so, no webhook — instead of
crashing Rasa. Its store (inbox, contacts) is the process-wide one unless a test passes another.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import Settings, get_settings
from channels.common import UnknownRecipient
from channels.inbox import Inbox
from channels.replies import Confirm, ReplyLog
from channels.store import ChannelStore, get_store


class EnvironmentInputChannel(InputChannel):
    """Base of the public channels; subclasses set the class variables and ``configured``."""

    CHANNEL: ClassVar[str]  # the name in /webhooks/<name>/ and in the tracker's input_channel
    SWITCH_ON_HINT: ClassVar[str]  # the variables that switch it on, for the "off" log line

    @staticmethod
    def configured(settings: Settings) -> bool:  # pragma: no cover - always overridden
        raise NotImplementedError

    @classmethod
    def name(cls) -> str:
        """Rasa mounts the webhook at /webhooks/<name>/ and records it as input_channel."""
        return cls.CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Read the environment, not credentials.yml; without credentials the channel is off."""
        settings = get_settings()
        if not cls.configured(settings):
            # Logged under the channel's own module, where operators look for it.
            logging.getLogger(cls.__module__).info(
                "%s channel off: set %s to switch it on", cls.CHANNEL, cls.SWITCH_ON_HINT
            )
            return cls(None)
        return cls(settings)

    def __init__(self, settings: Settings | None, store: ChannelStore | None = None):
        self.settings = settings
        self._store = store
        self.inbox: Inbox | None = None

    @property
    def store(self) -> ChannelStore:
        """Return the store given at construction, else the process-wide one."""
        if self._store is None:
            self._store = get_store()
        return self._store

    def health_blueprint(self) -> Blueprint:
        """A blueprint answering ``GET /webhooks/<name>/`` with whether the channel is on."""
        bp = Blueprint(f"{self.CHANNEL}_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.settings else "off"})

        return bp


class ContactOutputChannel(OutputChannel):
    """Base of the public channels' replies: to a pseudonym, whose address is looked up.

    The address comes from the turn's own webhook when there is one (``known``, saving a query
    per reply), else from ``channel_contacts``, which only holds people who wrote to us.
    Within a delivery's turn every platform call goes through the delivery's ``replies`` log,
    so a retried turn does not send a part twice; outside a turn (the handoff relay, which has
    its own outbox) there is none.
    """

    CHANNEL: ClassVar[str]
    ADDRESS_KIND: ClassVar[str]  # "WhatsApp address", "Telegram chat": for the error message

    def __init__(
        self,
        store: ChannelStore,
        known: dict[str, str] | None = None,
        replies: ReplyLog | None = None,
    ):
        self.store = store
        self.known = known or {}
        self.replies = replies

    async def _once(
        self, content: str, send: Callable[[], Awaitable[Any]], confirm: Confirm | None = None
    ) -> None:
        """One platform call: skipped if this delivery's earlier try already made it."""
        if self.replies is None:
            await send()
        else:
            await self.replies.send(content, send, confirm)

    @classmethod
    def name(cls) -> str:
        """Rasa mounts the webhook at /webhooks/<name>/ and records it as input_channel."""
        return cls.CHANNEL

    async def _address(self, recipient_id: str) -> str:
        if recipient_id in self.known:
            return self.known[recipient_id]
        contact = await self.store.alookup(recipient_id)
        if contact is None or contact.channel != self.CHANNEL:
            raise UnknownRecipient(f"no {self.ADDRESS_KIND} for {recipient_id}")
        return contact.address
