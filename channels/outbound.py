"""Write to a person by pseudonym from outside a webhook (the mediator handoff, reminders).

The pseudonym's prefix says which channel reaches the person (``wa-`` WhatsApp, ``tg-``
Telegram); the channel module looks up the real address in ``channel_contacts``. Failures are
exceptions, never silence: see :class:`channels.common.DeliveryError` and its subclasses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from channels.common import DeliveryError, UnknownRecipient
from channels.store import ChannelStore, get_store


async def send_to_person(
    pseudonym_id: str, text: str, buttons: Sequence[Mapping[str, Any]] | None = None,
    *, store: ChannelStore | None = None,
) -> None:
    """Send ``text`` (with options) on whichever channel the person wrote from.

    Raises ``WindowClosed`` (WhatsApp, more than 24 h since the person wrote: use a template
    or tell the mediator), ``RecipientUnreachable`` (Telegram, bot blocked),
    ``UnknownRecipient`` (never wrote, or erased) or ``DeliveryError`` (the platform refused).
    """
    if pseudonym_id.startswith("wa-"):
        from channels.whatsapp import send_to_person as send
    elif pseudonym_id.startswith("tg-"):
        from channels.telegram import send_to_person as send
    else:
        raise UnknownRecipient(f"{pseudonym_id} is not a WhatsApp or Telegram pseudonym")
    await send(pseudonym_id, text, buttons, store=store)


async def can_write_freely(pseudonym_id: str, *, store: ChannelStore | None = None) -> bool:
    """Whether a free-form message may go out now.

    False when WhatsApp's 24-hour window has closed or the person is unknown; Telegram has no
    window.
    """
    from channels.whatsapp import window_open

    contact = await (store or get_store()).alookup(pseudonym_id)
    if contact is None:
        return False
    if contact.channel == "whatsapp":
        return window_open(contact.last_inbound_at)
    return True


__all__ = ["DeliveryError", "can_write_freely", "send_to_person"]
