"""Send each reply part of a delivery once, even when its turn is run again.

A turn can be cut short after some of its replies went out: the process killed, the database,
Redis or the action server gone in the middle. The inbox then runs the turn again, and the turn
produces the same parts in the same order (the same message on the same conversation state,
or Rasa's own record of it, see ``channels.turns``). So each platform call of a delivery gets a
number, and ``channel_replies`` records it ``sending`` before the call and ``sent`` after; the
retried turn skips the numbers already sent.

One part can be in doubt: the one whose call was under way when the try ended, recorded
``sending`` with no outcome. If the process is still the same (the database went away just
after the platform took the part), it remembers the part went out (``sent_here``, kept across
the tries of a delivery). After a crash, the channel can be asked (``confirm``: WhatsApp lists
the messages Twilio created for the person since the part began); a channel that cannot tell
(Telegram has no such list) sends it again: the one case where a person may get a part twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.common import DeliveryError
from channels.store import NEW, SENT, TAKEN, UNSURE, ChannelStore

logger = logging.getLogger(__name__)

# Whether the platform already has a part: (the time the earlier try began it, its digest).
Confirm = Callable[[float, str], Awaitable[bool]]
FAILURE_NOTICE_PART = 10_000  # the "could not answer" notice: outside the turn's numbering


class LeaseLost(Exception):
    """Another instance took the delivery over; this one must stop sending for it."""


def digest(text: str) -> str:
    """What identifies a part's content; the record keeps this, never the text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ReplyLog:
    """The numbered reply parts of one try of one delivery's turn."""

    def __init__(
        self,
        store: ChannelStore,
        channel: str,
        delivery_id: str,
        attempt: int,
        sent_here: set[int] | None = None,
    ):
        self.store = store
        self.channel = channel
        self.delivery_id = delivery_id
        self.attempt = attempt
        self.sent_here = sent_here if sent_here is not None else set()
        self._next = 0

    def number_from(self, part: int) -> None:
        """Number the next parts from ``part`` (a message outside the turn's own numbering)."""
        self._next = part

    async def send(
        self, content: str, send: Callable[[], Awaitable[Any]], confirm: Confirm | None = None
    ) -> bool:
        """Call ``send`` unless this part already went out; True if it was called.

        ``content`` is what identifies the part (its text, media URL…). A
        :class:`DeliveryError` from ``send`` means the platform did not take the part: it is
        recorded as not sent and the error goes on to the caller.
        """
        part = self._next
        self._next += 1
        key = (self.channel, self.delivery_id, part)
        where = f"{self.channel}: part {part} of delivery {self.delivery_id}"
        content_digest = digest(content)
        claim = await self.store.abegin_reply(*key, self.attempt, content_digest)
        if claim.state == SENT:
            logger.info("%s already sent, not again", where)
            return False
        if claim.state == TAKEN:
            raise LeaseLost(f"delivery {self.delivery_id} was taken over")
        if claim.state == UNSURE:
            if part in self.sent_here:
                logger.info("%s went out before the database failed; not again", where)
                await self.store.areply_sent(*key)
                return False
            if confirm is not None and await confirm(claim.began_at, content_digest):
                logger.warning(
                    "%s reached the platform before the interruption; not sent again", where
                )
                await self.store.areply_sent(*key)
                return False
            logger.warning("%s may have gone out before the interruption; sending it again", where)
        else:
            assert claim.state == NEW
        try:
            await send()
        except DeliveryError:
            await self.store.arelease_reply(*key)
            raise
        self.sent_here.add(part)
        await self.store.areply_sent(*key)
        return True
