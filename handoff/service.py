"""The handoff's rules: what happens to a ticket when a person or a mediator does something.

:class:`Handoff` is the one entry for every change (request, claim, reply, close, rate, erase…)
and decides its outcome; it does not write SQL, build messages or parse text itself:

- the stores (``handoff.store``) write each change in one transaction, with what it sends;
- the announcements (``handoff.announce``) say what each change sends, built from the cards and
  messages of ``handoff.cards``: people get domain responses (``utter_handoff_*``) in their
  language, mediators ``locales/mediators`` texts in theirs, on Telegram (the mediators' group
  for cards, their private chat for conversations), on WhatsApp, or only on the local desk;
- the commands (``handoff.commands``), one floor up, read what a mediator typed ("claim 42",
  "#42 hello", "close") the same way on every channel and call the methods here.

The relay (``handoff.relay``) sends what was queued. Methods are synchronous (database work);
callers on an event loop run them with ``asyncio.to_thread``.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.escalation import PRIORITIES, REASON_EMERGENCY
from bot.i18n import duration, when
from bot.kb.vocabulary import LANGUAGES
from bot.settings import Settings, get_settings
from handoff.announce import Announcements
from handoff.cards import CARD_EDIT, Cards, mediator_destination
from handoff.credentials import LINK_MINUTES, new_login_code
from handoff.hours import next_start, on_duty
from handoff.records import TRANSCRIPT_LIMIT, Change, HandoffError, Mediator, Outgoing, Ticket
from handoff.schema import (
    CLAIMED,
    PRIORITY_EMERGENCY,
    WAITING,
)
from handoff.store import HandoffStore, get_handoff_store
from handoff.texts import mediator_text

CANCEL_PAYLOAD = "/handoff_cancel"
MEDIA_KINDS = ("voice", "file", "location")  # what a person may send that is not text
RATING_PAYLOAD = "/handoff_rating"
FILE_KINDS = {"image": "image", "voice": "voice", "document": "file"}  # → media_<x> texts
RECENT_CLAIMS = 20  # claims the expected wait is the median of
MIN_CLAIMS = 3  # fewer claims in the language: all languages' claims, then the default
MIN_WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class Opened:
    """The outcome of a request, for the action that tells the person."""

    ticket: Ticket
    created: bool
    response: str  # utter_handoff_opened | _opened_later | _already_open
    values: dict[str, str]


class Handoff:
    """Ticket changes with the messages they send."""

    def __init__(self, store: HandoffStore | None = None, settings: Settings | None = None):
        settings = settings or get_settings()
        self._settings = settings
        self.store = store or get_handoff_store(settings.database_url)
        self.cards = Cards(self.store, settings)
        self.announce = Announcements(self.cards, settings)
        self.settings = settings

    @property
    def settings(self) -> Settings:
        """The settings every part of the service reads (replaced whole, e.g. in tests)."""
        return self._settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        self._settings = settings
        self.cards.settings = self.announce.settings = settings

    # --- the person's side ----------------------------------------------------------------

    def request(
        self,
        person: str,
        channel: str,
        language: str,
        reason: str = "request",
        *,
        topic: str | None = None,
        comune: str | None = None,
        province: str | None = None,
        transcript: Iterable[tuple[str, str]] = (),
        now: dt.datetime | None = None,
        last_language: str | None = None,
    ) -> Opened:
        """Open (or find) the person's ticket and say what to tell them.

        ``language`` is the conversation's: it routes the ticket, sets the expected wait and is
        what the person is told in. ``last_language``, the person's last message's, is only
        shown to mediators beside it.
        """
        change = self.store.tickets.open(
            person,
            channel,
            language,
            reason=reason,
            priority=PRIORITIES[reason],
            topic=topic,
            comune=comune,
            province=province,
            transcript=list(transcript),
            announce=self.announce.opened,
            last_language=last_language,
        )
        ticket = change.ticket
        if not change.created:
            if reason == REASON_EMERGENCY:  # someone must look now, whoever holds it or not
                key = f"t{ticket.id}:sos{time.time():.0f}"
                self.store.outbox.queue(self.announce.alert(ticket, key))
            return Opened(ticket, False, "utter_handoff_already_open", {"ticket": ticket.label})
        now = now or dt.datetime.now(dt.timezone.utc)
        later = self._next_on_duty(ticket, now)
        if later is not None:
            return Opened(
                ticket,
                True,
                "utter_handoff_opened_later",
                {"ticket": ticket.label, "when": when(later, language)},
            )
        wait = self.expected_wait(ticket.mediator_language)
        return Opened(
            ticket,
            True,
            "utter_handoff_opened",
            {
                "ticket": ticket.label,
                "wait": duration(wait, language),
            },
        )

    def person_wrote(self, person: str, text: str, source_key: str | None) -> Change | None:
        """Store a message of a person in handoff; None if they have no open ticket."""
        return self.store.transcripts.person_message(
            person, text, source_key, self.announce.person_text
        )

    def person_sent_media(self, ticket: Ticket, kind: str, source_key: str) -> None:
        """Tell both sides that a file could not be passed on."""
        self.store.transcripts.system_message(ticket.id, f"[{kind}]")
        items = [
            self.cards.to_person(ticket, f"{source_key}:media", "utter_handoff_media_not_relayed")
        ]
        holder = self.store.mediators.get(ticket.mediator_id) if ticket.mediator_id else None
        if holder:
            items += self.cards.to_mediator(
                holder,
                f"{source_key}:media:m",
                "person_media",
                ticket.id,
                ticket=ticket.label,
                kind=mediator_text(
                    f"media_{kind if kind in MEDIA_KINDS else 'file'}", holder.ui_language
                ),
            )
        self.store.outbox.queue(items)

    def person_sent_files(
        self, ticket: Ticket, files: Sequence[tuple[int, str]], caption: str, source_key: str
    ) -> None:
        """Pass files a person sent (stored ``handoff_media`` ids and kinds) to the holder.

        An unclaimed ticket keeps them: the desk lists them as downloads, and the transcript
        line (``[image]``) shows on the card.
        """
        holder = self.store.mediators.get(ticket.mediator_id) if ticket.mediator_id else None
        if holder is None:
            return
        items = []
        for media_id, kind in files:
            for item in self.cards.to_mediator(
                holder,
                f"{source_key}:file{media_id}:m{holder.id}",
                "person_file",
                ticket.id,
                ticket=ticket.label,
                kind=mediator_text(f"media_{FILE_KINDS.get(kind, 'file')}", holder.ui_language),
                caption=caption,
            ):
                item.payload.update(kind="media", media_id=media_id)
                items.append(item)
        self.store.outbox.queue(items)

    def cancel(self, person: str) -> Change | None:
        """The person pressed "Back to the assistant"; None if nothing was open."""
        ticket = self.store.tickets.open_for(person)
        if ticket is None:
            return None
        return self.store.tickets.close(ticket.id, None, self.announce.cancelled, by_person=True)

    def rate(self, person: str, rating: int) -> Change | None:
        """Record a 1–5 rating of the ticket just closed; None if none awaited one."""
        return self.store.ratings.rate(person, rating, self.announce.rated)

    def erase(self, person: str) -> int:
        """On "delete my data": close the open ticket, tell who was on it, erase every ticket.

        The mediator holding the ticket is told (``person_erased``); the ticket's card in the
        mediators' group is edited to "closed", dropping the person's lines (a card not sent
        yet: a notice that it is closed, when unclaimed). The notices name the ticket number only
        and belong to no ticket row, so the erasure does not take them too. Returns the number
        of tickets erased.
        """
        ticket = self.store.tickets.open_for(person)
        notices: list[Outgoing] = []
        if ticket is not None:
            key = f"t{ticket.id}:erased"
            holder = self.store.mediators.get(ticket.mediator_id) if ticket.mediator_id else None
            if holder is not None and ticket.status == CLAIMED:
                notices += self.cards.to_mediator(
                    holder, f"{key}:m", "person_erased", None, ticket=ticket.label
                )
            group = self.settings.telegram_mediator_chat_id
            closed = mediator_text(
                "card_closed", self.settings.mediator_group_language, ticket=ticket.label
            )
            if group and ticket.card_message_id:
                # The card shows the person's last messages: it becomes "closed", nothing more.
                payload: dict[str, Any] = {"text": closed, "buttons": [], "kind": CARD_EDIT}
                payload.update(ticket_id=None, message_id=ticket.card_message_id)
                notices.append(Outgoing(f"{key}:group", "telegram", str(group), payload))
            elif group and ticket.status == WAITING:
                notices.append(
                    Outgoing(
                        f"{key}:group",
                        "telegram",
                        group,
                        {"text": closed, "kind": "notice", "ticket_id": None},
                    )
                )
        return self.store.tickets.erase_person(person, notices)

    def emergency(self, ticket: Ticket, source_key: str) -> None:
        """A message in handoff reads as an emergency: numbers to the person, top priority."""
        self.store.tickets.set_priority(ticket.id, PRIORITY_EMERGENCY)
        items = [
            self.cards.to_person(ticket, f"{source_key}:sos", "utter_emergency_numbers_static"),
            *self.announce.alert(ticket, f"{source_key}:sos"),
        ]
        self.store.outbox.queue(items)

    # --- the mediators' side --------------------------------------------------------------

    def claim(self, ticket_id: int, mediator: Mediator) -> Change:
        return self.store.tickets.claim(ticket_id, mediator, self.announce.claimed)

    def release(self, ticket_id: int, mediator: Mediator) -> Change:
        return self.store.tickets.release(ticket_id, mediator, self.announce.released)

    def transfer(self, ticket_id: int, mediator: Mediator, language: str) -> Change:
        if language not in LANGUAGES:
            raise HandoffError("unknown_command")
        return self.store.tickets.release(
            ticket_id, mediator, self.announce.transferred, wanted_language=language
        )

    def close(self, ticket_id: int, mediator: Mediator) -> Change:
        return self.store.tickets.close(ticket_id, mediator, self.announce.closed)

    def reopen(self, ticket_id: int, mediator: Mediator) -> Change:
        return self.store.tickets.reopen(ticket_id, mediator, self.announce.reopened)

    def reply(
        self,
        ticket_id: int,
        mediator: Mediator,
        text: str,
        source_key: str | None,
        copy: dict[str, Any] | None = None,
    ) -> Change:
        """Store a mediator's message and queue it for the person (``copy``: a Telegram file)."""
        text = text[:TRANSCRIPT_LIMIT]  # what is stored is what is sent
        return self.store.transcripts.mediator_message(
            ticket_id, mediator, text, source_key, self.announce.reply(mediator, text, copy)
        )

    def note(self, ticket_id: int, mediator: Mediator, text: str, source_key: str | None) -> Change:
        return self.store.transcripts.mediator_message(
            ticket_id, mediator, text, source_key, author="note"
        )

    def send_desk_link(self, mediator: Mediator, minutes: int = LINK_MINUTES) -> str | None:
        """Queue a one-time sign-in link to the desk to the mediator's Telegram or WhatsApp.

        Returns where it goes ("telegram" or "whatsapp"), or None for a desk-only mediator,
        who has no chat to receive it (they sign in with a password).
        """
        destination = mediator_destination(mediator)
        if destination is None:
            return None
        code, code_hash = new_login_code()
        self.store.mediators.set_login_code(mediator.id, code_hash, time.time() + minutes * 60)
        base = self.settings.mediator_desk_url
        link = f"{base}{'' if base.endswith('/') else '/'}#login={code}"
        self.store.outbox.queue(
            self.cards.to_mediator(
                mediator,
                f"desk-link:{code_hash[:16]}",
                "desk_link",
                None,
                minutes=minutes,
                link=link,
            )
        )
        return destination[0]

    def remind_due(self) -> list[Change]:
        """Announce again tickets nobody claimed, and tell their people they still wait."""
        return self.store.tickets.due_for_reminder(
            self.settings.handoff_reminder_minutes * 60.0, self.announce.reminder
        )

    # --- estimates ------------------------------------------------------------------------

    def expected_wait(self, language: str | None = None) -> float:
        """Seconds to a claim: the median over the last ``RECENT_CLAIMS`` in ``language``.

        All languages' claims while that language has fewer than ``MIN_CLAIMS``, else the
        default (``HANDOFF_DEFAULT_WAIT_MINUTES``).
        """
        for only in ((language,) if language else ()) + (None,):
            waits = self.store.tickets.recent_waits(only, RECENT_CLAIMS)
            if len(waits) >= MIN_CLAIMS:
                return max(MIN_WAIT_SECONDS, statistics.median(waits))
        return self.settings.handoff_default_wait_minutes * 60.0

    def _next_on_duty(self, ticket: Ticket, now: dt.datetime) -> dt.datetime | None:
        """None if a mediator (of the language, else anyone) works now; else the next start."""
        candidates = self.cards.speakers(ticket.mediator_language) or [
            m for m in self.store.mediators.all() if m.on_call
        ]
        if not candidates or any(on_duty(m.hours, now) for m in candidates):
            return None
        starts = [s for s in (next_start(m.hours, now) for m in candidates) if s]
        return min(starts) if starts else None

    # --- reports -------------------------------------------------------------------------

    def notify(
        self, ticket_id: int, mediator_id: int | None, key: str, text_key: str, **values: Any
    ) -> None:
        """Tell a ticket's mediator something (a delivery report) and keep it in the transcript."""
        mediator = self.store.mediators.get(mediator_id) if mediator_id else None
        lang = mediator.ui_language if mediator else self.settings.mediator_group_language
        self.store.transcripts.system_message(ticket_id, mediator_text(text_key, lang, **values))
        if mediator:
            self.store.outbox.queue(
                self.cards.to_mediator(mediator, key, text_key, ticket_id, **values)
            )


def parse_rating(text: str) -> int | None:
    """1–5 from a rating button ("/handoff_rating 4") or a bare digit."""
    value = text.strip()
    if value.startswith(RATING_PAYLOAD):
        value = value[len(RATING_PAYLOAD) :].strip()
    if len(value) == 1 and value.isdigit() and 1 <= int(value) <= 5:
        return int(value)
    return None
