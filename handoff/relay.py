"""Send the handoff outbox: to people, to mediators on Telegram and WhatsApp.

One worker per Rasa process, started with the outbound port it sends through
(:class:`bot.delivery.Outbound`; ``channels.relay_worker`` hands it the Twilio and Telegram one
when the server starts, tests a port of their own). The relay imports no channel: what to send,
when, and what a failure means are decided here; how a message reaches a platform is the
port's. Without a port it sends nothing and leaves the rows to the process that has one.

The worker wakes when this process queues something (:meth:`Relay.wake`) and polls every
``POLL_SECONDS`` for rows other processes queued (the action server opening a ticket) or that a
dead process left behind. Each row is claimed in the database before it is
sent (``OutboxStore.take_due``), so several instances never send one row twice, and rows for
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
- a message to a mediator that fails (refused, no template for a closed window, or a
  ``failed``/``undelivered`` status callback such as 63016): written on the ticket, told to the
  mediators' group, and sent again another way when there is one (:meth:`Relay.status_failed`).

Files go as outbox rows of kind ``media`` (a ``handoff_media`` id and a caption); the port sends
them as what they are. WhatsApp messages the port reports (their MessageSids) are recorded in
``handoff.delivery`` with the ticket and recipient, so a status callback finds its ticket. The
worker's round also deletes files past retention and old delivery rows, every
``PURGE_SECONDS``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from bot.delivery import (
    DeliveryError,
    Outbound,
    RecipientUnreachable,
    UnknownRecipient,
    WindowClosed,
)
from bot.i18n import duration
from bot.settings import Settings, get_settings
from handoff.cards import CARD_EDIT
from handoff.delivery import DeliveryStatus, DeliveryStore
from handoff.media import MediaStore
from handoff.outbox import MAX_SEND_ATTEMPTS
from handoff.records import OutboxRow, Outgoing
from handoff.service import Handoff
from handoff.store import HandoffStore
from handoff.texts import mediator_text

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5
REMINDER_CHECK_SECONDS = 30.0
STOP_SECONDS = 10.0  # how long a stopping server lets the worker finish its round
OUTAGE_LOG_EVERY = 120  # failed rounds between two log lines (a minute at POLL_SECONDS)
SENT_BY_RELAY = ("person", "telegram", "whatsapp")  # web chat people fetch their own
PURGE_SECONDS = 3600.0  # files past retention are deleted within the hour
DELIVERY_ROWS_DAYS = 30  # delivery statuses kept this long (the desk shows a ticket's failures)
RELAYED_KINDS = ("relay", "copy", "media")  # a mediator's own message (not a bot notice)


class Relay:
    """The outbox worker of one process."""

    def __init__(
        self, handoff: Handoff, outbound: Outbound | None = None, settings: Settings | None = None
    ):
        self.handoff = handoff
        self.store: HandoffStore = handoff.store
        self.settings = settings or handoff.settings or get_settings()
        self.outbound = outbound
        self._event: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_reminder_check = 0.0
        self._last_purge = 0.0
        self._stopping = False
        self._deliveries: DeliveryStore | None = None
        self._media: MediaStore | None = None

    @property
    def deliveries(self) -> DeliveryStore:
        """Delivery statuses in the hand-off's database (opened on first use)."""
        if self._deliveries is None:
            self._deliveries = DeliveryStore(self.store.engine)
        return self._deliveries

    @property
    def media(self) -> MediaStore:
        """The hand-off's files in its database (opened on first use)."""
        if self._media is None:
            self._media = MediaStore(self.store.engine, self.settings)
        return self._media

    # --- life cycle -----------------------------------------------------------------------

    def start(self, outbound: Outbound | None = None) -> None:
        """Start the worker on the running loop (idempotent), sending through ``outbound``.

        Without a port given now or before, nothing starts.
        """
        if outbound is not None:
            self.outbound = outbound
        if self.outbound is None:
            return
        loop = asyncio.get_running_loop()
        if self._task is not None and not self._task.done() and self._task.get_loop() is loop:
            return
        self._event = asyncio.Event()
        self._task = loop.create_task(self._run())

    def wake(self) -> None:
        """Something was queued in this process: send it now rather than at the next poll."""
        self.start()
        if self._event is not None:
            self._event.set()

    async def flush(self) -> None:
        """Send what is due now, in this task, without waiting for the worker's turn.

        Failures are left to the worker's next round; without a port, to the process that has one.
        """
        if self.outbound is None:
            return
        try:
            await self.drain()
        except Exception:
            logger.exception("handoff relay: immediate send failed; the worker retries")
            self.wake()

    async def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Let the worker finish the round it is in, then stop it (the port stays open).

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

    async def _run(self) -> None:
        assert self._event is not None
        event = self._event
        failures = 0
        while not self._stopping:
            try:
                await self.drain()
                await self._maybe_remind()
                await self._maybe_purge()
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
                    logger.warning(
                        "handoff relay: still failing (%d rounds, last: %s)",
                        failures,
                        type(exc).__name__,
                    )
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

    async def _maybe_purge(self) -> None:
        loop = asyncio.get_running_loop()
        if self._last_purge and loop.time() - self._last_purge < PURGE_SECONDS:
            return
        self._last_purge = loop.time()
        await asyncio.to_thread(self.purge)

    def purge(self, now: float | None = None) -> int:
        """Delete files past ``MEDIA_RETENTION_DAYS`` and old delivery rows; files deleted."""
        now = time.time() if now is None else now
        deleted = self.media.purge_expired(now)
        self.deliveries.purge_before(now - DELIVERY_ROWS_DAYS * 86400)
        if deleted:
            logger.info("handoff relay: %d file(s) past retention deleted", deleted)
        return deleted

    async def drain(self) -> int:
        """Send every row that is due now; returns how many were handled (none without a port)."""
        handled = 0
        if self.outbound is None:
            return handled
        while True:
            rows = await asyncio.to_thread(self.store.outbox.take_due, 50, SENT_BY_RELAY)
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
        outbound = self.outbound
        assert outbound is not None  # drain() takes no row without a port
        payload = row.payload
        copy = payload.get("copy") if payload.get("kind") == "copy" else None
        sent: Any = None
        if row.destination == "person" and payload.get("window_closed"):
            # Twilio failed the first try with 63016: the template, and held till they write.
            await self._window_closed(row, WindowClosed("63016 on the first try", code=63016))
            return
        try:
            if payload.get("kind") == "media":
                sent = await outbound.send_file(
                    row.destination,
                    row.address,
                    int(payload["media_id"]),
                    payload.get("text") or "",
                )
            elif row.destination == "person" and copy:
                await outbound.copy_to_person(row.address, copy)
            elif row.destination == "person":
                sent = await outbound.send_to_person(
                    row.address, payload.get("text") or "", payload.get("buttons") or []
                )
            elif payload.get("kind") == CARD_EDIT:
                if not await self._edit_card(row):
                    return
            else:
                template = None
                if row.destination == "whatsapp" and payload.get("kind") == "card":
                    template = await asyncio.to_thread(self._template, row)
                sent = await outbound.send_to_mediator(
                    row.destination,
                    row.address,
                    payload.get("text") or "",
                    payload.get("buttons") or [],
                    template=template,
                )
                if sent and payload.get("kind") == "card" and self._is_group(row):
                    # Claims, releases, transfers and closes edit this card (issue #17).
                    assert row.ticket_id is not None
                    await asyncio.to_thread(
                        self.store.tickets.set_card_message, row.ticket_id, sent[-1]
                    )
        except WindowClosed as exc:
            await self._window_closed(row, exc)
            return
        except (RecipientUnreachable, UnknownRecipient) as exc:
            if isinstance(exc, RecipientUnreachable) and row.destination == "telegram":
                # A mediator who never pressed Start (or blocked the bot): shown on the desk
                # and in `bot handoff mediator list` until they write to the bot.
                await asyncio.to_thread(
                    self.store.mediators.set_unreachable, row.address, time.time()
                )
            await self._failed(row, str(exc))
            return
        except DeliveryError as exc:
            await self._undelivered(row, exc, str(exc))
            return
        if await asyncio.to_thread(self._mark_sent, row, sent):
            self.wake()

    def _mark_sent(self, row: OutboxRow, sent: Any) -> bool:
        """Mark the row sent and record its MessageSids; True if a failure was reported.

        Twilio can post "failed" before this records which ticket the message was for; the
        callback then found no ticket, so the failure is handled here instead.
        """
        self.store.outbox.mark_sent(row.id)
        reported = False
        if row.destination == "telegram":  # Telegram message ids: no delivery reports to match
            return False
        for message_sid in sent or ():
            self.deliveries.record_sent(
                message_sid,
                ticket_id=row.ticket_id,
                person=row.address if row.destination == "person" else self._person(row),
                recipient="person" if row.destination == "person" else "mediator",
                mediator_id=row.payload.get("mediator_id") or self._mediator_id(row),
                outbox_key=row.key,
            )
            status = self.deliveries.status(message_sid)
            if status is not None and status.failed:
                reported = self._status_failed(status) or reported
        return reported

    def _person(self, row: OutboxRow) -> str | None:
        ticket = self.store.tickets.get(row.ticket_id) if row.ticket_id else None
        return ticket.person if ticket else None

    def _mediator_id(self, row: OutboxRow) -> int | None:
        if row.destination != "whatsapp":
            return None
        mediator = self.store.mediators.by_whatsapp(row.address)
        return mediator.id if mediator else None

    def _template(self, row: OutboxRow) -> dict[str, Any] | None:
        """What a WhatsApp card's template is filled with (``channels.whatsapp_templates``)."""
        ticket = self.store.tickets.get(row.ticket_id) if row.ticket_id else None
        if ticket is None:
            return None
        mediator = self.store.mediators.by_whatsapp(row.address)
        lang = mediator.ui_language if mediator else self.settings.mediator_group_language
        if row.payload.get("reminder"):
            values = [
                ticket.label,
                ticket.mediator_language,
                duration(time.time() - ticket.opened_at, lang),
            ]
            kind = "reminder"
        else:
            values = [
                ticket.label,
                ticket.mediator_language,
                mediator_text(f"reason_{ticket.reason}", lang),
                ticket.topic or "",
                ticket.comune or "",
            ]
            kind = "card"
        variables = {str(i): str(v) for i, v in enumerate(values, 1)}
        force = bool(row.payload.get("force_template"))
        return {"kind": kind, "variables": variables, "language": lang, "force": force}

    def _is_group(self, row: OutboxRow) -> bool:
        group = self.settings.telegram_mediator_chat_id
        return bool(group) and row.destination == "telegram" and row.address == str(group)

    async def _edit_card(self, row: OutboxRow) -> bool:
        """Edit the ticket's group card; False when there is none (never sent, or erased).

        The card row goes before its edits (one destination, sent in order), so the message id
        is known by now unless the card itself failed; then there is nothing to edit.
        """
        assert self.outbound is not None
        # The ticket's card now (a reminder may have replaced it since this row was queued);
        # the payload's for an erased ticket, whose row is gone.
        ticket = None
        if row.ticket_id is not None:
            ticket = await asyncio.to_thread(self.store.tickets.get, row.ticket_id)
        message_id = (ticket.card_message_id if ticket else None) or row.payload.get("message_id")
        if not message_id:
            logger.info("handoff relay: row %s: no card to edit", row.id)
            await asyncio.to_thread(self.store.outbox.mark_failed, row.id, "no card to edit")
            return False
        await self.outbound.edit_mediator_message(
            row.destination,
            row.address,
            str(message_id),
            row.payload.get("text") or "",
            row.payload.get("buttons") or [],
        )
        return True

    async def _undelivered(self, row: OutboxRow, exc: DeliveryError, reason: str) -> None:
        """Refused for good (4xx other than 429, or too many attempts): failed; else retried."""
        permanent = exc.status is not None and 400 <= exc.status < 500 and exc.status != 429
        if permanent or row.attempts >= MAX_SEND_ATTEMPTS:
            await self._failed(row, reason)
        else:
            delay = min(60.0, 0.5 * 2**row.attempts)
            logger.warning("handoff relay: row %s to retry in %.0f s: %s", row.id, delay, reason)
            await asyncio.to_thread(self.store.outbox.retry_later, row.id, delay, reason)

    # --- outcomes -------------------------------------------------------------------------

    async def _window_closed(self, row: OutboxRow, exc: WindowClosed) -> None:
        ticket_id = row.ticket_id
        if row.destination != "person" or ticket_id is None:
            await self._failed(row, f"error {exc.code}" if exc.code else str(exc))
            return
        template = self.settings.twilio_handoff_template_sid
        if not template:
            await asyncio.to_thread(
                self.store.outbox.mark_failed, row.id, "window closed, no template"
            )
            if row.payload.get("kind") in RELAYED_KINDS:
                await self._notify(row, "window_closed_failed")
            return
        first = await asyncio.to_thread(self.store.tickets.mark_template_sent, ticket_id)
        if first:
            assert self.outbound is not None
            try:
                await self.outbound.send_template(row.address, template)
            except UnknownRecipient:
                await self._failed(row, "person erased")
                return
            except DeliveryError as error:
                # No template went out: the next attempt (or the next reply) must send it, not
                # hold a message behind a template the person never got.
                await asyncio.to_thread(self.store.tickets.clear_template_sent, ticket_id)
                await self._undelivered(row, error, f"template refused: {error}")
                return
        # The mediator hears of the closed window with their first message held behind it,
        # also when the template went out for an earlier notice (a ticket claimed late).
        tell = row.payload.get("kind") in RELAYED_KINDS and (
            first or not await asyncio.to_thread(self._message_held, row)
        )
        await asyncio.to_thread(self.store.outbox.mark_held, row.id, "window closed, template sent")
        if tell:
            await self._notify(row, "delivered_as_template")

    def _message_held(self, row: OutboxRow) -> bool:
        """Whether a mediator's earlier message of this ticket already waits for the window."""
        return any(
            state == "held"
            and other.id != row.id
            and other.ticket_id == row.ticket_id
            and other.payload.get("kind") in RELAYED_KINDS
            for other, state in self.store.outbox.rows("person", row.address)
        )

    async def _failed(self, row: OutboxRow, reason: str) -> None:
        logger.error("handoff relay: row %s to %s failed: %s", row.id, row.destination, reason)
        await asyncio.to_thread(self.store.outbox.mark_failed, row.id, reason)
        if row.destination == "person" and row.payload.get("kind") in RELAYED_KINDS:
            await self._notify(row, "delivery_failed", reason=reason)
        elif row.destination != "person" and row.ticket_id is not None:
            if await asyncio.to_thread(self._mediator_failed, row, reason):
                self.wake()

    # --- status callbacks: Twilio failed a message it had accepted -------------------------

    async def status_failed(self, status: DeliveryStatus) -> None:
        """A ``failed``/``undelivered`` callback: record it, tell, try another route."""
        if await asyncio.to_thread(self._status_failed, status):
            self.wake()

    def _status_failed(self, status: DeliveryStatus) -> bool:
        row = self.store.outbox.by_key(status.outbox_key) if status.outbox_key else None
        reason = f"error {status.error_code}" if status.error_code else status.status
        if row is None or status.ticket_id is None:
            return False
        if status.recipient == "person":
            if row.payload.get("kind") in RELAYED_KINDS:
                self.handoff.notify(
                    status.ticket_id,
                    row.payload.get("mediator_id"),
                    f"{row.key}:status",
                    "delivery_failed",
                    ticket=f"#{status.ticket_id}",
                    reason=reason,
                )
                self._tell_group(status.ticket_id, f"{row.key}:status", "delivery_failed", reason)
                if status.window_closed and not row.key.endswith(":again"):
                    # The person's window had closed after all: their message goes again
                    # behind the approved template (or the mediator hears it cannot).
                    again = {**row.payload, "window_closed": True}
                    self.store.outbox.queue(
                        [Outgoing(f"{row.key}:again", row.destination, row.address, again)]
                    )
            else:
                self.store.transcripts.system_message(
                    status.ticket_id,
                    mediator_text(
                        "delivery_failed",
                        self.settings.mediator_group_language,
                        ticket=f"#{status.ticket_id}",
                        reason=reason,
                    ),
                )
            return True
        return self._mediator_failed(row, reason, forced_template=status.window_closed)

    def _mediator_failed(self, row: OutboxRow, reason: str, forced_template: bool = False) -> bool:
        """A message to a mediator's chat did not arrive: ticket, group, and another route."""
        assert row.ticket_id is not None
        mediator = (
            self.store.mediators.by_whatsapp(row.address) if row.destination == "whatsapp" else None
        )
        name = mediator.name if mediator else row.address
        self.store.transcripts.system_message(
            row.ticket_id,
            mediator_text(
                "mediator_delivery_failed",
                self.settings.mediator_group_language,
                ticket=f"#{row.ticket_id}",
                name=name,
                reason=reason,
            ),
        )
        items: list[Outgoing] = []
        group = self.settings.telegram_mediator_chat_id
        if group and not (row.destination == "telegram" and row.address == group):
            items.append(
                Outgoing(
                    f"{row.key}:failed:group",
                    "telegram",
                    group,
                    {
                        "text": mediator_text(
                            "mediator_delivery_failed",
                            self.settings.mediator_group_language,
                            ticket=f"#{row.ticket_id}",
                            name=name,
                            reason=reason,
                        ),
                        "kind": "notice",
                        "ticket_id": row.ticket_id,
                    },
                )
            )
        retried = row.key.endswith((":retry", ":template"))
        if (
            forced_template
            and not retried
            and row.destination == "whatsapp"
            and row.payload.get("kind") == "card"
        ):
            # 63016: the window had closed after all; the card goes again as the template.
            items.append(
                Outgoing(
                    f"{row.key}:template",
                    "whatsapp",
                    row.address,
                    {**row.payload, "force_template": True},
                )
            )
        # Another route: the mediator's Telegram chat when they have one.
        if mediator and mediator.telegram_user_id and not retried:
            items.append(
                Outgoing(
                    f"{row.key}:retry",
                    "telegram",
                    mediator.telegram_user_id,
                    {k: v for k, v in row.payload.items()},
                )
            )
        self.store.outbox.queue(items)
        return bool(items)

    def _tell_group(self, ticket_id: int, key: str, text_key: str, reason: str) -> None:
        group = self.settings.telegram_mediator_chat_id
        if not group:
            return
        text = mediator_text(
            text_key, self.settings.mediator_group_language, ticket=f"#{ticket_id}", reason=reason
        )
        self.store.outbox.queue(
            [
                Outgoing(
                    f"{key}:group",
                    "telegram",
                    group,
                    {"text": text, "kind": "notice", "ticket_id": ticket_id},
                )
            ]
        )

    async def _notify(self, row: OutboxRow, text_key: str, **values: Any) -> None:
        ticket_id = row.ticket_id
        if ticket_id is None:
            return
        await asyncio.to_thread(
            self.handoff.notify,
            ticket_id,
            row.payload.get("mediator_id"),
            f"{row.key}:report",
            text_key,
            ticket=f"#{ticket_id}",
            **values,
        )
        self.wake()
