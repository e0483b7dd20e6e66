"""The outbound port over Twilio and Telegram: how the mediator handoff reaches anyone.

:class:`ChannelOutbound` implements :class:`bot.delivery.Outbound`, the interface the relay
(``handoff.relay``) sends through; ``channels.relay_worker`` builds one when the server starts
and hands it to the relay. Routing a person by pseudonym prefix happens here and nowhere else:
``wa-`` goes to WhatsApp, ``tg-`` to Telegram, and the channel's contact record
(``channel_contacts``) gives the real address. The channels' own code does the sending (text
split, numbered options on WhatsApp, the inline keyboard on Telegram), so a reply in a turn and
a message from a mediator look the same.

One client per platform per port, opened on first use (nothing is called at start-up) and closed
by :meth:`ChannelOutbound.aclose`. A channel without its credentials raises
``DeliveryError(status=503)``: the relay retries it, then reports it failed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.delivery import DeliveryError, Outbound, UnknownRecipient
from bot.settings import Settings, get_settings
from channels import telegram, whatsapp
from channels.common import button_payload, render_numbered, split_text
from channels.store import ChannelStore, get_store


class ChannelOutbound(Outbound):
    """The WhatsApp (Twilio) and Telegram clients behind the one outbound interface."""

    def __init__(self, settings: Settings | None = None, store: ChannelStore | None = None):
        self.settings = settings or get_settings()
        self.store = store or get_store(self.settings.database_url)
        self._twilio: whatsapp.TwilioMessages | None = None
        self._bots: telegram.BotHolder | None = None

    # --- people -----------------------------------------------------------------------------

    async def send_to_person(
        self, person: str, text: str, buttons: Sequence[Mapping[str, Any]] = ()
    ) -> None:
        """Send on the person's channel; see :class:`bot.delivery.Outbound` for the errors."""
        if _channel_of(person) == whatsapp.CHANNEL:
            api = self._twilio_api()
            await whatsapp.writable_contact(person, self.store)
            if buttons:
                await self.store.aset_options(person, [button_payload(b) for b in buttons])
                text = render_numbered(text, buttons)
            await whatsapp.WhatsAppOutput(api, self.store).deliver(person, text)
        else:
            output = telegram.TelegramOutput(self._bot_holder(), self.store)
            await output.deliver(person, text, buttons or None)

    async def copy_to_person(self, person: str, copy: Mapping[str, Any]) -> None:
        """Copy a mediator's Telegram message (a file) to the person; WhatsApp cannot."""
        if _channel_of(person) == whatsapp.CHANNEL:
            # A closed window is reported as such (template, or the mediator told) first.
            await whatsapp.writable_contact(person, self.store)
            raise DeliveryError("files cannot be passed to WhatsApp", status=415)
        bots = self._bot_holder()
        chat_id = await telegram.TelegramOutput(bots, self.store).chat_id(person)
        bot = bots.get()
        await telegram.api_call(
            lambda: bot.copy_message(chat_id, copy["from_chat_id"], copy["message_id"]), person
        )

    async def send_template(self, person: str, template: str) -> None:
        """Send an approved WhatsApp template: allowed after the 24-hour window too."""
        contact = await self.store.alookup(person)
        if contact is None:
            raise UnknownRecipient(f"{person} was erased")
        await self._twilio_api().create(contact.address, content_sid=template)

    # --- mediators' chats -------------------------------------------------------------------

    async def send_to_mediator(
        self, channel: str, address: str, text: str, buttons: Sequence[Mapping[str, Any]] = ()
    ) -> str | None:
        """Send to a Telegram chat id (with Claim buttons) or a mediator's WhatsApp number.

        Returns the Telegram message id (of the last part), which a card's edits need.
        """
        if channel == telegram.CHANNEL:
            choices = [(str(b["title"]), str(b["callback"])) for b in buttons]
            sent = await telegram.send_parts(
                self._bot_holder().get(), int(address), text, choices, f"chat {address}"
            )
            return str(sent) if sent is not None else None
        if channel == whatsapp.CHANNEL:
            api = self._twilio_api()
            for part in split_text(text or "", whatsapp.MESSAGE_LIMIT) or ["…"]:
                await api.create(address, part)
            return None
        raise DeliveryError(f"unknown destination {channel}")

    async def edit_mediator_message(
        self,
        channel: str,
        address: str,
        message_id: str,
        text: str,
        buttons: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Edit a card in a Telegram chat; WhatsApp messages cannot be edited (415)."""
        if channel != telegram.CHANNEL:
            raise DeliveryError(f"messages on {channel} cannot be edited", status=415)
        choices = [(str(b["title"]), str(b["callback"])) for b in buttons]
        bot, who = self._bot_holder().get(), f"chat {address}"
        await telegram.edit_text(bot, int(address), int(message_id), text, choices, who)

    # --- clients ----------------------------------------------------------------------------

    def _twilio_api(self) -> whatsapp.TwilioMessages:
        if not whatsapp.is_configured(self.settings):
            raise DeliveryError("the WhatsApp channel is not configured", status=503)
        if self._twilio is None:
            self._twilio = whatsapp.TwilioMessages.from_settings(self.settings)
        return self._twilio

    def _bot_holder(self) -> telegram.BotHolder:
        if not telegram.is_configured(self.settings):
            raise DeliveryError("the Telegram channel is not configured", status=503)
        if self._bots is None:
            self._bots = telegram.BotHolder(self.settings)
        return self._bots

    async def aclose(self) -> None:
        """Close both HTTP clients; the next send opens them again."""
        if self._twilio is not None:
            await self._twilio.aclose()
            self._twilio = None
        if self._bots is not None:
            await self._bots.aclose()
            self._bots = None


def _channel_of(person: str) -> str:
    """The channel a pseudonym's prefix names: the only place people are routed."""
    if person.startswith(whatsapp.PREFIX + "-"):
        return whatsapp.CHANNEL
    if person.startswith(telegram.PREFIX + "-"):
        return telegram.CHANNEL
    raise UnknownRecipient(f"{person} cannot be written to outside a turn")
