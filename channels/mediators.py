"""The mediator side of the public channels, and the hand-off check for people's messages.

- **Telegram**: mediators press Claim on a ticket card in the mediators' group (the claim is a
  database compare-and-set, so of two presses one wins; the other is told who has it), then
  talk in their private chat with the bot: plain text goes to the person of the one ticket they
  hold, ``#42 text`` to ticket 42, and commands (``/close``, ``/release``, ``/transfer uk``,
  ``/note …``, ``/tickets``) manage tickets; ``/me``, ``/languages``, ``/provinces``, ``/hours``,
  ``/pause``, ``/resume`` manage their own profile. Telegram refuses to write to a mediator who
  never pressed Start (403); the relay marks them unreachable and their first private message
  clears it. A photo or file they send goes to the person of the one ticket they hold (see
  Files).
- **WhatsApp**: registered mediator numbers writing to the business number get the same
  commands without the slash: ``claim 42``, ``#42 text``, ``close 42``; files likewise.
- **People**: :func:`person_in_handoff` asks ``handoff.gate`` whether a message belongs to a
  mediator conversation; if the handoff tables cannot be read the message goes to the bot
  rather than nowhere.
- **Files**: :func:`receive_files` fetches what a person in hand-off sent (the channel says
  how) and keeps it with their ticket; a Telegram mediator's file is fetched the same way
  (:func:`mediator_file`) and goes to the person as a file of its own kind, whatever their
  channel. What is refused (type, size) is said to the sender in their language.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from handoff.cards import CALLBACK_CLAIM
from handoff.commands import MediatorCommands
from handoff.delivery import DeliveryStatus
from handoff.gate import Runtime, get_runtime, intercept
from handoff.media import MediaStore, Refused, Spool, mediator_refusal_text
from handoff.records import HandoffError, Mediator
from handoff.texts import mediator_text

# Fetches one file into a spool of the media store (``channels.media_fetch``), or refuses it.
Fetch = Callable[[MediaStore], Awaitable[Spool]]

logger = logging.getLogger(__name__)

# Channel messages (see channels.common) → what the mediator is told the person sent.
MEDIA_KINDS = {"media_voice": "voice", "media_attachment": "file", "media_location": "location"}


def _runtime(runtime: Runtime | None) -> Runtime:
    return runtime or get_runtime()


async def person_in_handoff(
    app: Any,
    person: str,
    channel: str,
    text: str,
    source_key: str,
    notice: str | None = None,
    runtime: Runtime | None = None,
    files: Sequence[tuple[int, str]] = (),
) -> bool:
    """True when the handoff took the message (the bot must stay quiet).

    ``files``: what the person sent, already stored with their ticket (:func:`receive_files`).
    """
    try:
        return await intercept(
            app,
            person,
            channel,
            text,
            source_key,
            media_kind=MEDIA_KINDS.get(notice or ""),
            files=files,
            runtime=runtime,
        )
    except Exception:
        logger.exception("handoff: could not check %s's message; the bot answers it", person)
        return False


async def receive_files(
    person: str,
    fetches: Sequence[Fetch],
    source_key: str,
    runtime: Runtime | None = None,
    media: MediaStore | None = None,
) -> tuple[list[tuple[int, str]], list[Refused]] | None:
    """Keep the files of a person with an open ticket: (stored (id, kind), refusals).

    None when the person has no open ticket (the bot answers, and files are not kept). A
    redelivered webhook (the same ``source_key``) stores each file once.
    """
    runtime = _runtime(runtime)
    media = media or runtime.relay.media
    ticket = await asyncio.to_thread(runtime.handoff.store.tickets.open_for, person)
    if ticket is None:
        return None
    stored: list[tuple[int, str]] = []
    refused: list[Refused] = []
    for i, fetch in enumerate(fetches):
        try:
            spool = await fetch(media)
        except Refused as exc:
            refused.append(exc)
            continue
        kept = await asyncio.to_thread(
            media.add, spool, person=person, ticket_id=ticket.id, source_key=f"{source_key}:{i}"
        )
        stored.append((kept.id, kept.kind))
    return stored, refused


async def delivery_failed(status: DeliveryStatus, runtime: Runtime | None = None) -> None:
    """Twilio failed a message it had accepted: the ticket, the group and another route."""
    await _runtime(runtime).relay.status_failed(status)


async def mediator_wrote(address: str, runtime: Runtime | None = None) -> None:
    """A mediator's WhatsApp number wrote: their 24-hour window is open (cards go as text)."""
    await asyncio.to_thread(_runtime(runtime).relay.deliveries.record_inbound, address)


async def telegram_mediator(user_id: int | None, runtime: Runtime | None = None) -> Mediator | None:
    """The active mediator with this Telegram user id, if any."""
    if user_id is None:
        return None
    store = _runtime(runtime).handoff.store
    mediator = await asyncio.to_thread(store.mediators.by_telegram, user_id)
    return mediator if mediator and mediator.active else None


async def whatsapp_mediator(address: str, runtime: Runtime | None = None) -> Mediator | None:
    """The active mediator with this WhatsApp address, if any."""
    store = _runtime(runtime).handoff.store
    mediator = await asyncio.to_thread(store.mediators.by_whatsapp, address)
    return mediator if mediator and mediator.active else None


async def telegram_mediator_reached(mediator: Mediator, runtime: Runtime | None = None) -> None:
    """The mediator wrote to the bot in private: Telegram lets the bot write to them now."""
    if mediator.unreachable_since is not None and mediator.telegram_user_id:
        store = _runtime(runtime).handoff.store
        await asyncio.to_thread(store.mediators.set_unreachable, mediator.telegram_user_id, None)


async def mediator_command(
    mediator: Mediator | None, text: str, source_key: str, runtime: Runtime | None = None
) -> str | None:
    """Carry out a mediator's message; returns the answer for them (None: nothing to say)."""
    runtime = _runtime(runtime)
    commands = MediatorCommands(runtime.handoff)
    answer = await asyncio.to_thread(commands.run, mediator, text, source_key)
    await runtime.relay.flush()
    return answer


async def mediator_file(
    mediator: Mediator,
    caption: str,
    source_key: str,
    copy: dict[str, Any],
    runtime: Runtime | None = None,
    fetch: Fetch | None = None,
) -> str | None:
    """A file a Telegram mediator sent, for the person of the one ticket they hold.

    With ``fetch`` the file is downloaded, kept with the ticket and sent as a file of its own
    kind (a WhatsApp person gets it by link); without it, copied (Telegram people only).
    """
    runtime = _runtime(runtime)
    handoff = runtime.handoff
    held = await asyncio.to_thread(handoff.store.tickets.held_by, mediator.id)
    if len(held) != 1:
        key = "nothing_held" if not held else "which_ticket"
        return mediator_text(
            key,
            mediator.ui_language,
            tickets=", ".join(x.label for x in held),
            example=held[0].id if held else "",
        )
    if fetch is not None:
        media = runtime.relay.media
        try:
            spool = await fetch(media)
        except Refused as refused:
            return mediator_refusal_text(refused, mediator.ui_language, held[0].label)
        kept = await asyncio.to_thread(
            media.add,
            spool,
            person=held[0].person,
            ticket_id=held[0].id,
            direction="out",
            source_key=source_key,
        )
        copy = {"media_id": kept.id}
    try:
        await asyncio.to_thread(
            handoff.reply, held[0].id, mediator, caption or "[file]", source_key, copy
        )
    except HandoffError as exc:
        return mediator_text(exc.code, mediator.ui_language, **exc.values)
    runtime.relay.wake()
    return None


async def claim_from_card(
    mediator: Mediator | None, data: str, runtime: Runtime | None = None
) -> tuple[bool, str]:
    """A Claim button pressed: (won, what to show the presser in the callback answer)."""
    runtime = _runtime(runtime)
    settings = runtime.handoff.settings
    if mediator is None:
        return False, mediator_text("not_registered", settings.mediator_group_language)
    try:
        ticket_id = int(data[len(CALLBACK_CLAIM) :])
    except ValueError:
        return False, mediator_text("no_ticket", mediator.ui_language, ticket=data)
    try:
        change = await asyncio.to_thread(runtime.handoff.claim, ticket_id, mediator)
    except HandoffError as exc:
        return False, mediator_text(exc.code, mediator.ui_language, **exc.values)
    runtime.relay.wake()
    return True, mediator_text(
        "card_claimed",
        mediator.ui_language,
        ticket=change.ticket.label,
        language=change.ticket.language,
        name=mediator.name,
    )
