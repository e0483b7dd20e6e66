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

Files (``send_file``) go as what they are: a photo to Telegram with ``sendPhoto``, a voice note
with ``sendVoice`` (``channels.media_send``); to WhatsApp as ``MediaUrl``, a link to
``/webhooks/media/<token>`` that works for ``MEDIA_LINK_MINUTES``. A card or reminder to a
WhatsApp mediator whose 24-hour window is closed goes as the approved template
(``channels.whatsapp_templates``); without one the text goes, and a 63016 Twilio reports for
it is handled like any failed status (``handoff.relay``). Twilio sends return their
MessageSids, so the relay can match the status callbacks to the ticket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from bot.delivery import DeliveryError, Outbound, SentIds, UnknownRecipient
from bot.settings import Settings, get_settings
from channels import telegram, whatsapp
from channels import whatsapp_templates as templates
from channels.common import button_payload, render_numbered, split_text
from channels.media_send import send_telegram_file, whatsapp_media_url
from channels.store import ChannelStore, get_store
from handoff.delivery import DeliveryStore, get_delivery_store
from handoff.media import MediaStore, get_media_store


class ChannelOutbound(Outbound):
    """The WhatsApp (Twilio) and Telegram clients behind the one outbound interface."""

    def __init__(
        self,
        settings: Settings | None = None,
        store: ChannelStore | None = None,
        media: MediaStore | None = None,
        deliveries: DeliveryStore | None = None,
    ):
        self.settings = settings or get_settings()
        self.store = store or get_store(self.settings.database_url)
        self.media = media or get_media_store(self.settings.database_url)
        self.deliveries = deliveries or get_delivery_store(self.settings.database_url)
        self._twilio: whatsapp.TwilioMessages | None = None
        self._bots: telegram.BotHolder | None = None

    # --- people -----------------------------------------------------------------------------

    async def send_to_person(
        self, person: str, text: str, buttons: Sequence[Mapping[str, Any]] = ()
    ) -> SentIds:
        """Send on the person's channel; see :class:`bot.delivery.Outbound` for the errors.

        Returns the WhatsApp parts' MessageSids (a status callback names the ticket by them).
        """
        if _channel_of(person) == whatsapp.CHANNEL:
            api = self._twilio_api()
            contact = await whatsapp.writable_contact(person, self.store)
            if buttons:
                await self.store.aset_options(person, [button_payload(b) for b in buttons])
                text = render_numbered(text, buttons)
            return [
                await api.create(contact.address, part)
                for part in split_text(text or "", whatsapp.MESSAGE_LIMIT)
            ]
        output = telegram.TelegramOutput(self._bot_holder(), self.store)
        await output.deliver(person, text, buttons or None)
        return None

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

    async def send_template(self, person: str, template: str) -> SentIds:
        """Send an approved WhatsApp template: allowed after the 24-hour window too."""
        contact = await self.store.alookup(person)
        if contact is None:
            raise UnknownRecipient(f"{person} was erased")
        return [await self._twilio_api().create(contact.address, content_sid=template)]

    # --- files ------------------------------------------------------------------------------

    async def send_file(
        self, destination: str, address: str, media_id: int, caption: str = ""
    ) -> SentIds:
        """A stored file to a person or a mediator's chat, as the same kind of file."""
        media = await asyncio.to_thread(self.media.get, media_id)
        if media is None:  # erased, or past retention
            raise DeliveryError(f"file {media_id} is no longer kept", status=410)
        channel = _channel_of(address) if destination == "person" else destination
        if channel == telegram.CHANNEL:
            bots = self._bot_holder()
            if destination == "person":
                chat_id: int | str = await telegram.TelegramOutput(bots, self.store).chat_id(
                    address
                )
            else:
                chat_id = int(address)
            bot = bots.get()
            await telegram.api_call(
                lambda: send_telegram_file(bot, chat_id, media, self.media, caption or None),
                address,
            )
            return None
        if channel == whatsapp.CHANNEL:
            api = self._twilio_api()
            to = address
            if destination == "person":
                to = (await whatsapp.writable_contact(address, self.store)).address
            link = await asyncio.to_thread(whatsapp_media_url, media, self.media)
            body = (caption or "")[: whatsapp.MESSAGE_LIMIT] or None
            return [await api.create(to, body, media_url=link)]
        raise DeliveryError(f"unknown destination {destination}")

    # --- mediators' chats -------------------------------------------------------------------

    async def send_to_mediator(
        self,
        channel: str,
        address: str,
        text: str,
        buttons: Sequence[Mapping[str, Any]] = (),
        template: Mapping[str, Any] | None = None,
    ) -> SentIds:
        """Send to a Telegram chat id (with Claim buttons) or a mediator's WhatsApp number.

        A WhatsApp card or reminder (``template``) goes as the approved template when the
        mediator has not written in 24 hours. Returns the Telegram message id (of the last
        part; a card's edits need it) or Twilio's MessageSids.
        """
        if channel == telegram.CHANNEL:
            choices = [(str(b["title"]), str(b["callback"])) for b in buttons]
            sent = await telegram.send_parts(
                self._bot_holder().get(), int(address), text, choices, f"chat {address}"
            )
            return [str(sent)] if sent is not None else None
        if channel == whatsapp.CHANNEL:
            api = self._twilio_api()
            if template:
                last = None
                if not template.get("force"):  # forced: Twilio said 63016, the window is shut
                    last = await asyncio.to_thread(self.deliveries.last_inbound, address)
                plan = templates.plan(
                    str(template.get("kind") or templates.CARD),
                    text,
                    dict(template.get("variables") or {}),
                    last_inbound_at=last,
                    language=template.get("language"),
                    settings=self.settings,
                )
                # No template configured: the text goes anyway. Our record of the window may
                # be older than the mediator's last message; if it was closed, Twilio's 63016
                # comes back as a status callback and is written on the ticket and told.
                if plan.mode == templates.TEMPLATE:
                    variables = dict(plan.form()).get("ContentVariables")
                    return [
                        await api.create(
                            address, content_sid=plan.content_sid, content_variables=variables
                        )
                    ]
            return [
                await api.create(address, part)
                for part in split_text(text or "", whatsapp.MESSAGE_LIMIT) or ["…"]
            ]
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
