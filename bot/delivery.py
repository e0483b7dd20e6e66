"""The outbound port: the one way the mediator handoff sends, and the errors a send raises.

The handoff's relay (``handoff.relay``) must reach people on WhatsApp and Telegram, mediators'
chats and the mediators' group, but it sits below the channels: the floors run ``bot`` <
``handoff`` < ``channels``, and a lower floor never imports a higher one. So the interface lives
here, on the ground floor, and the channels implement it (``channels.outbound.ChannelOutbound``,
over the Twilio and Telegram clients); whoever starts the relay hands it one. The relay stays in
``handoff`` because what it decides (retries, held rows, the 24-hour template, telling the
mediator) is hand-off policy over the outbox, not transport.

A message the platform did not take raises one of these, whichever the channel::

    DeliveryError            the platform refused or could not be reached (``status``: HTTP-like,
    │                        ``code``: the platform's own error code); 4xx but 429 is for good
    ├── UnknownRecipient     no address for this pseudonym: never wrote, or erased
    ├── WindowClosed         WhatsApp, over 24 hours since the person wrote: only a template
    └── RecipientUnreachable the person blocked the bot (Telegram 403)

The channels raise the same classes from their own replies (``channels.common`` re-exports
them), so one ``except`` serves both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

# What a send returns: the platform's ids of the messages it created (Twilio MessageSids, so
# their status callbacks can be matched to the ticket), or None when there are none to follow.
SentIds = Sequence[str] | None


class DeliveryError(Exception):
    """An outgoing message was not accepted; ``code`` is the platform's error code, if any."""

    def __init__(self, message: str, code: int | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.status = status


class UnknownRecipient(DeliveryError):
    """No address is known for this pseudonym (the person never wrote, or was erased)."""


class WindowClosed(DeliveryError):
    """WhatsApp: more than 24 hours since the person last wrote; only a template may go out."""


class RecipientUnreachable(DeliveryError):
    """The person blocked the bot or deleted the chat (Telegram 403)."""


class Outbound(Protocol):
    """Send outside a dialogue turn: to a person by pseudonym, or to a mediator's chat.

    People are addressed by pseudonym (``wa-…``, ``tg-…``); the implementation finds the real
    address. Mediators' chats are addressed as the outbox stores them: ``("telegram", chat id)``
    (a private chat or the mediators' group) or ``("whatsapp", "whatsapp:+39…")``. Buttons are
    mappings: for a person Rasa's ``{"title", "payload"}``, for a mediator's chat
    ``{"title", "callback"}`` (the Claim button of a ticket card).
    """

    async def send_to_person(
        self, person: str, text: str, buttons: Sequence[Mapping[str, Any]] = ()
    ) -> SentIds:
        """Send ``text`` (with options) on whichever channel the person wrote from."""

    async def copy_to_person(self, person: str, copy: Mapping[str, Any]) -> None:
        """Copy a file a mediator sent (``{"from_chat_id", "message_id"}`` on Telegram).

        WhatsApp cannot take one: ``WindowClosed``/``UnknownRecipient`` if the person could
        not be written to anyway, else ``DeliveryError`` with status 415.
        """

    async def send_template(self, person: str, template: str) -> SentIds:
        """Send the approved WhatsApp template ``template`` (a Content SID) to the person.

        The only message WhatsApp lets a business send after the 24-hour window closed.
        """

    async def send_to_mediator(
        self,
        channel: str,
        address: str,
        text: str,
        buttons: Sequence[Mapping[str, Any]] = (),
        template: Mapping[str, Any] | None = None,
    ) -> SentIds:
        """Send ``text`` to a mediator's chat on ``channel`` ("telegram" or "whatsapp").

        ``template`` (``{"kind": "card"|"reminder", "variables": {...}, "language": ...}``)
        lets a WhatsApp card or reminder go as the approved template when the mediator's
        24-hour window is closed (``"force": True``: Twilio said it is). Returns the ids of the
        messages sent: Twilio's MessageSids, or the Telegram message id (the last part's), which
        a ticket card's later edits need.
        """

    async def send_file(
        self, destination: str, address: str, media_id: int, caption: str = ""
    ) -> SentIds:
        """Send a stored hand-off file (``handoff.media``) as what it is.

        ``destination`` is "person" (``address`` a pseudonym), "telegram" or "whatsapp" (a
        mediator's chat). Telegram gets the same kind of file (photo, voice, document);
        WhatsApp gets it as media through a short-lived link the assistant serves.
        """

    async def edit_mediator_message(
        self,
        channel: str,
        address: str,
        message_id: str,
        text: str,
        buttons: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Replace the text (and buttons: none removes them) of a message sent to a chat.

        Telegram only (a ticket card in the mediators' group). An edit that changes nothing
        is no error.
        """

    async def aclose(self) -> None:
        """Close the HTTP clients (the server is stopping)."""
