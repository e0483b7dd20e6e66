"""Send the handoff outbox: to people, to mediators on Telegram and WhatsApp.

One worker per Rasa process. It wakes when this process queues something (:meth:`Relay.wake`)
and polls every ``POLL_SECONDS`` for rows other processes queued (the action server opening a
ticket) or that a dead process left behind. Each row is claimed in the database before it is
sent (``HandoffStore.take_due``), so several instances never send one row twice, and rows for
one address go in order.

Delivery is at least once with the window for a repeat as narrow as it can be: a row is marked
sent right after the platform accepted it; only a crash between those two steps (a few
milliseconds) sends it again after the lease. Neither Twilio nor Telegram accepts an
idempotency key that would close that gap.

Failures are never silent:

- WhatsApp person silent for over 24 hours: the approved template
  (``TWILIO_HANDOFF_TEMPLATE_SID``) asks them to reply, the reply is *held* and goes out when
  they write; without a template the row fails. Either way the mediator is told.
- blocked bot, erased person, refused message: the row fails and the mediator is told;
- platform or network trouble: retried with backoff, then failed and told.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.settings import Settings, get_settings
from channels.common import (
    DeliveryError,
    RecipientUnreachable,
    UnknownRecipient,
    WindowClosed,
)
from channels.store import ChannelStore, get_store
from handoff.service import Handoff
from handoff.store import MAX_SEND_ATTEMPTS, HandoffStore, OutboxRow

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5
REMINDER_CHECK_SECONDS = 30.0
STOP_SECONDS = 10.0  # how long a stopping server lets the worker finish its round
OUTAGE_LOG_EVERY = 120  # failed rounds between two log lines (a minute at POLL_SECONDS)
SENT_BY_RELAY = ("person", "telegram", "whatsapp")  # web chat people fetch their own


class Relay:
    """The outbox worker of one process."""

    def __init__(self, handoff: Handoff, channel_store: ChannelStore | None = None,
                 settings: Settings | None = None):
        self.handoff = handoff
        self.store: HandoffStore = handoff.store
        self.settings = settings or handoff.settings or get_settings()
        self.channel_store = channel_store or get_store(self.settings.database_url)
        self._event: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._twilio: Any = None
        self._bots: Any = None
        self._last_reminder_check = 0.0
        self._stopping = False

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker on the running loop (idempotent)."""
        loop = asyncio.get_running_loop()
        if self._task is not None and not self._task.done() and self._task.get_loop() is loop:
            return
        self._event = asyncio.Event()
        self._task = loop.create_task(self._run())

    def wake(self) -> None:
        """Something was queued in this process: send it now rather than at the next poll."""
        self.start()
        assert self._event is not None
        self._event.set()

    async def flush(self) -> None:
        """Send what is due now, in this task, without waiting for the worker's turn.

        Failures are left to the worker's next round.
        """
        try:
            await self.drain()
        except Exception:
            logger.exception("handoff relay: immediate send failed; the worker retries")
            self.wake()

    async def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Let the worker finish the round it is in, then stop it and close the HTTP clients.

        Cancelling in the middle of a send would leave a row the platform accepted marked
        "sending", and it would go out again after the lease: so the worker is asked to stop
        and only cancelled if its round outlasts ``timeout``.
        """
        task = self._task
        if task is not None and not task.done():
            self._stopping = True
            if self._event is not None:
                self._event.set()
            await asyncio.wait({task}, timeout=timeout)
            if not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=1.0)
        self._task = None
        self._stopping = False
        if self._twilio is not None:
            await self._twilio.aclose()
            self._twilio = None
        if self._bots is not None:
            await self._bots.aclose()
            self._bots = None

    async def _run(self) -> None:
        assert self._event is not None
        event = self._event
        failures = 0
        while not self._stopping:
            try:
                await self.drain()
                await self._maybe_remind()
                if failures:
                    logger.info("handoff relay: working again after %d failed rounds", failures)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: log, wait, try again
                # One traceback per outage, then a line a minute: the worker polls twice a
                # second, and an outage must not bury the log.
                failures += 1
                if failures == 1:
                    logger.exception("handoff relay: round failed")
                elif failures % OUTAGE_LOG_EVERY == 0:
                    logger.warning("handoff relay: still failing (%d rounds, last: %s)",
                                   failures, type(exc).__name__)
            if self._stopping:
                break
            # asyncio.wait, not wait_for: on Python 3.10 wait_for can swallow a cancellation
            # that arrives just as the event is set (bpo-42130) and the worker never stops.
            waiter = asyncio.ensure_future(event.wait())
            try:
                await asyncio.wait({waiter}, timeout=POLL_SECONDS)
            finally:
                waiter.cancel()
            event.clear()

    async def _maybe_remind(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_reminder_check < REMINDER_CHECK_SECONDS:
            return
        self._last_reminder_check = loop.time()
        if await asyncio.to_thread(self.handoff.remind_due):
            self.wake()

    async def drain(self) -> int:
        """Send every row that is due now; returns how many were handled."""
        handled = 0
        while True:
            rows = await asyncio.to_thread(self.store.take_due, 50, SENT_BY_RELAY)
            if not rows:
                return handled
            # Rows for different addresses go concurrently; one address's rows in order.
            by_address: dict[tuple[str, str], list[OutboxRow]] = {}
            for row in rows:
                by_address.setdefault((row.destination, row.address), []).append(row)
            await asyncio.gather(*(self._send_in_order(group) for group in by_address.values()))
            handled += len(rows)

    async def _send_in_order(self, rows: list[OutboxRow]) -> None:
        for row in rows:
            await self.send(row)

    # --- one row --------------------------------------------------------------------------

    async def send(self, row: OutboxRow) -> None:
        """Deliver one claimed row and record the outcome."""
        try:
            if row.destination == "person":
                await self._to_person(row)
            elif row.destination == "telegram":
                await self._to_telegram_chat(row)
            elif row.destination == "whatsapp":
                await self._to_whatsapp_number(row)
            else:
                raise DeliveryError(f"unknown destination {row.destination}")
        except WindowClosed as exc:
            await self._window_closed(row, exc)
            return
        except (RecipientUnreachable, UnknownRecipient) as exc:
            await self._failed(row, str(exc))
            return
        except DeliveryError as exc:
            await self._undelivered(row, exc, str(exc))
            return
        await asyncio.to_thread(self.store.mark_sent, row.id)

    async def _undelivered(self, row: OutboxRow, exc: DeliveryError, reason: str) -> None:
        """Refused for good (4xx other than 429, or too many attempts): failed; else retried."""
        permanent = exc.status is not None and 400 <= exc.status < 500 and exc.status != 429
        if permanent or row.attempts >= MAX_SEND_ATTEMPTS:
            await self._failed(row, reason)
        else:
            delay = min(60.0, 0.5 * 2 ** row.attempts)
            logger.warning("handoff relay: row %s to retry in %.0f s: %s", row.id, delay, reason)
            await asyncio.to_thread(self.store.retry_later, row.id, delay, reason)

    async def _to_person(self, row: OutboxRow) -> None:
        person = row.address
        text = row.payload.get("text") or ""
        buttons = row.payload.get("buttons") or []
        copy = row.payload.get("copy") if row.payload.get("kind") == "copy" else None
        if person.startswith("wa-"):
            from channels import whatsapp

            if copy:
                # A closed window is reported as such (template, or the mediator told) first.
                await whatsapp.writable_contact(person, self.channel_store)
                raise DeliveryError("files cannot be passed to WhatsApp", status=415)
            await whatsapp.send_to_person(person, text, buttons, settings=self.settings,
                                          store=self.channel_store, api=self._twilio_api())
        elif person.startswith("tg-"):
            from channels import telegram

            if copy:
                chat_id = await telegram.TelegramOutput(
                    self._bot_holder(), self.channel_store)._chat_id(person)
                bot = self._bot_holder().get()
                await telegram._call(lambda: bot.copy_message(
                    chat_id, copy["from_chat_id"], copy["message_id"]), person)
            else:
                await telegram.send_to_person(person, text, buttons or None,
                                              settings=self.settings, store=self.channel_store,
                                              bots=self._bot_holder())
        else:
            raise UnknownRecipient(f"{person} cannot be written to outside a turn")

    async def _to_telegram_chat(self, row: OutboxRow) -> None:
        from telegram import InlineKeyboardButton, InlineKeyboardMarkup

        from channels.common import split_text
        from channels.telegram import MESSAGE_LIMIT, _call

        bot = self._bot_holder().get()
        buttons = row.payload.get("buttons") or []
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(b["title"][:64], callback_data=b["callback"])]
             for b in buttons]
        ) if buttons else None
        parts = split_text(row.payload.get("text") or "…", MESSAGE_LIMIT)
        for n, part in enumerate(parts):
            keyboard = markup if n == len(parts) - 1 else None
            await _call(lambda part=part, keyboard=keyboard: bot.send_message(
                int(row.address), part, reply_markup=keyboard), f"chat {row.address}")

    async def _to_whatsapp_number(self, row: OutboxRow) -> None:
        from channels.common import split_text
        from channels.whatsapp import MESSAGE_LIMIT

        api = self._twilio_api()
        for part in split_text(row.payload.get("text") or "…", MESSAGE_LIMIT):
            await api.create(row.address, part)

    # --- outcomes -------------------------------------------------------------------------

    async def _window_closed(self, row: OutboxRow, exc: WindowClosed) -> None:
        ticket_id = row.ticket_id
        if row.destination != "person" or ticket_id is None:
            await self._failed(row, str(exc))
            return
        template = self.settings.twilio_handoff_template_sid
        if not template:
            await asyncio.to_thread(self.store.mark_failed, row.id, "window closed, no template")
            if row.payload.get("kind") in ("relay", "copy"):
                await self._notify(row, "window_closed_failed")
            return
        first = await asyncio.to_thread(self.store.mark_template_sent, ticket_id)
        if first:
            contact = await self.channel_store.alookup(row.address)
            if contact is None:
                await self._failed(row, "person erased")
                return
            try:
                await self._twilio_api().create(contact.address, content_sid=template)
            except DeliveryError as error:
                # No template went out: the next attempt (or the next reply) must send it, not
                # hold a message behind a template the person never got.
                await asyncio.to_thread(self.store.clear_template_sent, ticket_id)
                await self._undelivered(row, error, f"template refused: {error}")
                return
        # The mediator hears of the closed window with their first message held behind it,
        # also when the template went out for an earlier notice (a ticket claimed late).
        tell = row.payload.get("kind") in ("relay", "copy") and (
            first or not await asyncio.to_thread(self._message_held, row))
        await asyncio.to_thread(self.store.mark_held, row.id, "window closed, template sent")
        if tell:
            await self._notify(row, "delivered_as_template")

    def _message_held(self, row: OutboxRow) -> bool:
        """Whether a mediator's earlier message of this ticket already waits for the window."""
        return any(
            state == "held" and other.id != row.id and other.ticket_id == row.ticket_id
            and other.payload.get("kind") in ("relay", "copy")
            for other, state in self.store.outbox_rows("person", row.address)
        )

    async def _failed(self, row: OutboxRow, reason: str) -> None:
        logger.error("handoff relay: row %s to %s failed: %s", row.id, row.destination, reason)
        await asyncio.to_thread(self.store.mark_failed, row.id, reason)
        if row.destination == "person" and row.payload.get("kind") in ("relay", "copy"):
            await self._notify(row, "delivery_failed", reason=reason)

    async def _notify(self, row: OutboxRow, text_key: str, **values: Any) -> None:
        ticket_id = row.ticket_id
        if ticket_id is None:
            return
        await asyncio.to_thread(
            self.handoff.notify, ticket_id, row.payload.get("mediator_id"),
            f"{row.key}:report", text_key, ticket=f"#{ticket_id}", **values)
        self.wake()

    # --- clients (one per process and loop) -----------------------------------------------

    def _twilio_api(self) -> Any:
        from channels.whatsapp import TwilioMessages, is_configured

        if not is_configured(self.settings):
            raise DeliveryError("the WhatsApp channel is not configured", status=503)
        if self._twilio is None:
            self._twilio = TwilioMessages.from_settings(self.settings)
        return self._twilio

    def _bot_holder(self) -> Any:
        from channels.telegram import BotHolder, is_configured

        if not is_configured(self.settings):
            raise DeliveryError("the Telegram channel is not configured", status=503)
        if self._bots is None:
            self._bots = BotHolder(self.settings)
        return self._bots
