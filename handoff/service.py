"""The handoff's rules: who is told what, where, when a ticket changes.

:class:`Handoff` wraps :class:`handoff.store.HandoffStore` with the messages each change sends
(built here, queued by the store in the same transaction, sent by ``handoff.relay``):

- people get domain responses (``utter_handoff_*``) in their language;
- mediators get ``locales/mediators`` texts in their registered language, on Telegram (the
  mediators' group for cards, their private chat for conversations), on WhatsApp, or only on
  the local desk, which reads the database directly.

:meth:`Handoff.command` reads what a mediator typed ("claim 42", "#42 hello", "close") the same
way on every channel. Methods are synchronous (database work); callers on an event loop run them
with ``asyncio.to_thread``.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.i18n import duration, when
from bot.kb.vocabulary import LANGUAGES
from bot.messages import render_with_buttons
from bot.settings import Settings, get_settings
from handoff import schema as t
from handoff.credentials import LINK_MINUTES, new_login_code
from handoff.hours import next_start, on_duty
from handoff.schema import (
    CLAIMED,
    PRIORITY_EMERGENCY,
    PRIORITY_FALLBACK,
    PRIORITY_NORMAL,
    WAITING,
)
from handoff.store import (
    TRANSCRIPT_LIMIT,
    Change,
    HandoffError,
    HandoffStore,
    Mediator,
    Outgoing,
    Ticket,
    get_handoff_store,
)
from handoff.texts import mediator_text

PRIORITIES = {"request": PRIORITY_NORMAL, "fallback": PRIORITY_FALLBACK,
              "emergency": PRIORITY_EMERGENCY}
CARD_MESSAGES = 4  # last messages shown on a card
CLAIM_MESSAGES = 12  # messages of the conversation so far sent to the mediator who claims
CALLBACK_CLAIM = "claim:"  # Telegram callback_data of a card's Claim button
# Channels whose people can be written to outside a turn (see handoff.relay).
RELAYABLE_CHANNELS = ("whatsapp", "telegram", "webchat")
CANCEL_PAYLOAD = "/handoff_cancel"
MEDIA_KINDS = ("voice", "file", "location")  # what a person may send that is not text
RATING_PAYLOAD = "/handoff_rating"

_COMMAND = re.compile(r"^\s*/?(?P<verb>[a-z]+)(?:@\w+)?\b\s*(?P<rest>.*)$", re.S | re.I)
_TICKET_PREFIX = re.compile(r"^\s*#(?P<id>\d{1,9})\b\s*(?P<rest>.*)$", re.S)
_NUMBER = re.compile(r"^#?(\d{1,9})$")
VERBS = ("claim", "close", "release", "transfer", "note", "reopen", "tickets", "help", "start")


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
        self.settings = settings or get_settings()
        self.store = store or get_handoff_store(self.settings.database_url)

    # --- the person's side ----------------------------------------------------------------

    def request(
        self, person: str, channel: str, language: str, reason: str = "request", *,
        topic: str | None = None, comune: str | None = None, province: str | None = None,
        transcript: Iterable[tuple[str, str]] = (), now: dt.datetime | None = None,
        last_language: str | None = None,
    ) -> Opened:
        """Open (or find) the person's ticket and say what to tell them.

        ``language`` is the conversation's: it routes the ticket, sets the expected wait and is
        what the person is told in. ``last_language``, the person's last message's, is only
        shown to mediators beside it.
        """
        change = self.store.open_ticket(
            person, channel, language, reason=reason, priority=PRIORITIES[reason],
            topic=topic, comune=comune, province=province, transcript=list(transcript),
            announce=self._announce_cards, last_language=last_language,
        )
        ticket = change.ticket
        if not change.created:
            if reason == "emergency":  # someone must look now, whoever holds it or not
                self.store.queue(self._alert(ticket, f"t{ticket.id}:sos{time.time():.0f}"))
            return Opened(ticket, False, "utter_handoff_already_open", {"ticket": ticket.label})
        now = now or dt.datetime.now(dt.timezone.utc)
        later = self._next_on_duty(ticket, now)
        if later is not None:
            return Opened(ticket, True, "utter_handoff_opened_later",
                          {"ticket": ticket.label, "when": when(later, language)})
        wait = self.expected_wait(ticket.mediator_language)
        return Opened(ticket, True, "utter_handoff_opened", {
            "ticket": ticket.label,
            "wait": duration(wait, language),
        })

    def person_wrote(self, person: str, text: str, source_key: str | None) -> Change | None:
        """Store a message of a person in handoff; None if they have no open ticket."""
        return self.store.person_message(person, text, source_key, self._announce_person_text)

    def person_sent_media(self, ticket: Ticket, kind: str, source_key: str) -> None:
        """Tell both sides that a file could not be passed on."""
        self.store.system_message(ticket.id, f"[{kind}]")
        items = [self._to_person(ticket, f"{source_key}:media", "utter_handoff_media_not_relayed")]
        holder = self.store.mediator(ticket.mediator_id) if ticket.mediator_id else None
        if holder:
            items += self._to_mediator(
                holder, f"{source_key}:media:m", "person_media", ticket.id, ticket=ticket.label,
                kind=mediator_text(f"media_{kind if kind in MEDIA_KINDS else 'file'}",
                                   holder.ui_language))
        self.store.queue(items)

    def cancel(self, person: str) -> Change | None:
        """The person pressed "Back to the assistant"; None if nothing was open."""
        ticket = self.store.open_ticket_for(person)
        if ticket is None:
            return None
        return self.store.close(ticket.id, None, self._announce_cancelled, by_person=True)

    def rate(self, person: str, rating: int) -> Change | None:
        """Record a 1–5 rating of the ticket just closed; None if none awaited one."""
        return self.store.rate(person, rating, self._announce_rated)

    def erase(self, person: str) -> int:
        """"Delete my data": close the open ticket, tell who was on it, erase every ticket.

        The mediator holding the ticket is told (``person_erased``); an unclaimed ticket's
        card in the mediators' group is marked closed. The notices name the ticket number only
        and belong to no ticket row, so the erasure does not take them too. Returns the number
        of tickets erased.
        """
        ticket = self.store.open_ticket_for(person)
        notices: list[Outgoing] = []
        if ticket is not None:
            key = f"t{ticket.id}:erased"
            holder = self.store.mediator(ticket.mediator_id) if ticket.mediator_id else None
            if holder is not None and ticket.status == CLAIMED:
                notices += self._to_mediator(holder, f"{key}:m", "person_erased", None,
                                             ticket=ticket.label)
            group = self.settings.telegram_mediator_chat_id
            if group and ticket.status == WAITING:
                notices.append(Outgoing(f"{key}:group", "telegram", group, {
                    "text": mediator_text("card_closed", self.settings.mediator_group_language,
                                          ticket=ticket.label),
                    "kind": "notice", "ticket_id": None}))
        return self.store.forget_person(person, notices)

    def emergency(self, ticket: Ticket, source_key: str) -> None:
        """A message in handoff reads as an emergency: numbers to the person, top priority."""
        with self.store.engine.begin() as conn:
            conn.execute(sa.update(t.tickets).where(t.tickets.c.id == ticket.id)
                         .values(priority=PRIORITY_EMERGENCY))
        items = [self._to_person(ticket, f"{source_key}:sos", "utter_emergency_numbers_static"),
                 *self._alert(ticket, f"{source_key}:sos")]
        self.store.queue(items)

    def _alert(self, ticket: Ticket, key: str) -> list[Outgoing]:
        """An emergency in an open ticket: its mediator is told, or the cards go out again."""
        holder = self.store.mediator(ticket.mediator_id) if ticket.mediator_id else None
        if holder:
            return self._to_mediator(holder, f"{key}:m", "person_emergency", ticket.id,
                                     ticket=ticket.label)
        ticket = self.store.ticket(ticket.id) or ticket  # with its new priority, for the card
        return self._cards(ticket, f"{key}:card") if ticket.status == WAITING else []

    # --- the mediators' side --------------------------------------------------------------

    def claim(self, ticket_id: int, mediator: Mediator) -> Change:
        return self.store.claim(ticket_id, mediator, self._announce_claimed)

    def release(self, ticket_id: int, mediator: Mediator) -> Change:
        return self.store.release(ticket_id, mediator, self._announce_released)

    def transfer(self, ticket_id: int, mediator: Mediator, language: str) -> Change:
        if language not in LANGUAGES:
            raise HandoffError("unknown_command")
        return self.store.release(ticket_id, mediator, self._announce_transferred,
                                  wanted_language=language)

    def close(self, ticket_id: int, mediator: Mediator) -> Change:
        return self.store.close(ticket_id, mediator, self._announce_closed)

    def reopen(self, ticket_id: int, mediator: Mediator) -> Change:
        return self.store.reopen(ticket_id, mediator, self._announce_reopened)

    def reply(self, ticket_id: int, mediator: Mediator, text: str,
              source_key: str | None, copy: dict[str, Any] | None = None) -> Change:
        """Store a mediator's message and queue it for the person (``copy``: a Telegram file)."""
        text = text[:TRANSCRIPT_LIMIT]  # what is stored is what is sent

        def announce(conn: Connection, ticket: Ticket, who: Mediator | None, *,
                     message_id: int) -> list[Outgoing]:
            payload: dict[str, Any] = {"text": text, "kind": "relay", "ticket_id": ticket.id,
                                       "mediator_id": mediator.id}
            if copy:
                payload.update(kind="copy", copy=copy)
            return [Outgoing(f"m{message_id}:person", _person_destination(ticket),
                             ticket.person, payload)]

        return self.store.mediator_message(ticket_id, mediator, text, source_key, announce)

    def note(self, ticket_id: int, mediator: Mediator, text: str,
             source_key: str | None) -> Change:
        return self.store.mediator_message(ticket_id, mediator, text, source_key, author="note")

    def send_desk_link(self, mediator: Mediator, minutes: int = LINK_MINUTES) -> str | None:
        """Queue a one-time sign-in link to the desk to the mediator's Telegram or WhatsApp.

        Returns where it goes ("telegram" or "whatsapp"), or None for a desk-only mediator,
        who has no chat to receive it (they sign in with a password).
        """
        destination = mediator_destination(mediator)
        if destination is None:
            return None
        code, code_hash = new_login_code()
        self.store.set_login_code(mediator.id, code_hash, time.time() + minutes * 60)
        base = self.settings.mediator_desk_url
        link = f"{base}{'' if base.endswith('/') else '/'}#login={code}"
        self.store.queue(self._to_mediator(mediator, f"desk-link:{code_hash[:16]}", "desk_link",
                                           None, minutes=minutes, link=link))
        return destination[0]

    def remind_due(self) -> list[Change]:
        """Announce again tickets nobody claimed, and tell their people they still wait."""
        return self.store.due_for_reminder(self.settings.handoff_reminder_minutes * 60.0,
                                           self._announce_reminder)

    def command(self, mediator: Mediator | None, text: str,
                source_key: str | None = None) -> str | None:
        """Carry out what a mediator typed; return what to answer them (None: relayed)."""
        if mediator is None:
            return mediator_text("not_registered", self.settings.mediator_group_language)
        try:
            return self._command(mediator, text.strip(), source_key)
        except HandoffError as exc:
            if exc.code == "unknown_command":
                return self.help_text(mediator, unknown=True)
            return mediator_text(exc.code, mediator.ui_language, **exc.values)

    def _command(self, mediator: Mediator, text: str, source_key: str | None) -> str | None:
        lang = mediator.ui_language
        prefixed = _TICKET_PREFIX.match(text)
        if prefixed:  # "#42 hello": a message for ticket 42
            ticket_id, body = int(prefixed["id"]), prefixed["rest"].strip()
            if not body:
                raise HandoffError("unknown_command")
            verb_match = _COMMAND.match(body)
            # "#42 /close", and "#42 close" with nothing after the command word.
            if verb_match and verb_match["verb"].lower() in VERBS and (
                    body.startswith("/") or _looks_like_command(verb_match["verb"].lower(),
                                                                verb_match["rest"])):
                return self._verb(mediator, verb_match["verb"].lower(),
                                  f"{ticket_id} {verb_match['rest']}", source_key)
            self.reply(ticket_id, mediator, body, source_key)
            return None
        match = _COMMAND.match(text)
        verb = match["verb"].lower() if match else ""
        if verb in VERBS and (text.startswith("/") or _looks_like_command(verb, match["rest"])):
            return self._verb(mediator, verb, match["rest"], source_key)
        if match and text.startswith("/"):  # "/clsoe": a mistyped command, not for the person
            raise HandoffError("unknown_command")
        held = self.store.held_by(mediator.id)
        if len(held) == 1:
            self.reply(held[0].id, mediator, text, source_key)
            return None
        if not held:
            return mediator_text("nothing_held", lang)
        return mediator_text("which_ticket", lang, tickets=", ".join(x.label for x in held),
                             example=held[0].id)

    def _verb(self, mediator: Mediator, verb: str, rest: str,
              source_key: str | None) -> str | None:
        lang = mediator.ui_language
        words = rest.split()
        if verb in ("help", "start"):
            return self.help_text(mediator)
        if verb == "tickets":
            return self.tickets_text(mediator)
        number = _NUMBER.match(words[0]) if words else None
        if verb in ("claim", "reopen"):
            if not number:
                raise HandoffError("unknown_command")
            ticket_id = int(number.group(1))
            (self.claim if verb == "claim" else self.reopen)(ticket_id, mediator)
            return None  # the confirmation is queued to the mediator
        ticket_id = int(number.group(1)) if number else self._only_held(mediator)
        args = words[1:] if number else words
        if verb == "close":
            self.close(ticket_id, mediator)
        elif verb == "release":
            self.release(ticket_id, mediator)
        elif verb == "transfer":
            if not args:
                raise HandoffError("unknown_command")
            self.transfer(ticket_id, mediator, args[0].lower())
        elif verb == "note":
            body = rest.strip()
            if number:
                body = body.split(None, 1)[1] if len(words) > 1 else ""
            if not body.strip():
                raise HandoffError("unknown_command")
            self.note(ticket_id, mediator, body.strip(), source_key)
            return mediator_text("note_saved", lang, ticket=f"#{ticket_id}")
        return None

    def _only_held(self, mediator: Mediator) -> int:
        held = self.store.held_by(mediator.id)
        if len(held) == 1:
            return held[0].id
        if not held:
            raise HandoffError("nothing_held")
        raise HandoffError("which_ticket", tickets=", ".join(x.label for x in held),
                           example=held[0].id)

    def help_text(self, mediator: Mediator, unknown: bool = False) -> str:
        help_line = mediator_text("help", mediator.ui_language)
        if unknown:
            return mediator_text("unknown_command", mediator.ui_language, help=help_line)
        return help_line

    def tickets_text(self, mediator: Mediator) -> str:
        lang = mediator.ui_language
        waiting = [x for x in self.store.tickets((WAITING,)) if mediator.speaks(x.mediator_language)
                   or not self._speakers(x.mediator_language)]
        yours = self.store.held_by(mediator.id)
        none = mediator_text("none", lang)
        return mediator_text(
            "tickets_list", lang,
            waiting=", ".join(f"{x.label} ({x.mediator_language})" for x in waiting) or none,
            yours=", ".join(f"{x.label} ({x.language})" for x in yours) or none,
        )

    # --- estimates ------------------------------------------------------------------------

    def expected_wait(self, language: str | None = None) -> float:
        """Seconds to a claim: the median over the last 20 claims in ``language``.

        All languages' claims while that language has fewer than 3, else the default.
        """
        for only in ((language,) if language else ()) + (None,):
            query = (sa.select(t.tickets.c.claimed_at - t.tickets.c.opened_at)
                     .where(t.tickets.c.claimed_at.is_not(None))
                     .order_by(t.tickets.c.claimed_at.desc()).limit(20))
            if only:
                query = query.where(t.tickets.c.language == only)
            with self.store.engine.connect() as conn:
                waits = [r[0] for r in conn.execute(query).all() if r[0] is not None and r[0] >= 0]
            if len(waits) >= 3:
                return max(60.0, statistics.median(waits))
        return self.settings.handoff_default_wait_minutes * 60.0

    def _next_on_duty(self, ticket: Ticket, now: dt.datetime) -> dt.datetime | None:
        """None if a mediator (of the language, else anyone) works now; else the next start."""
        candidates = self._speakers(ticket.mediator_language) or [
            m for m in self.store.mediators() if m.active]
        if not candidates or any(on_duty(m.hours, now) for m in candidates):
            return None
        starts = [s for s in (next_start(m.hours, now) for m in candidates) if s]
        return min(starts) if starts else None

    def _speakers(self, language: str, conn: Connection | None = None) -> list[Mediator]:
        return [m for m in self.store.mediators(conn) if m.active and m.speaks(language)]

    # --- what each change sends -----------------------------------------------------------

    def _cards(self, ticket: Ticket, key: str, conn: Connection | None = None,
               reminder: bool = False) -> list[Outgoing]:
        """A card per mediator destination: the group, else each mediator of the language."""
        items: list[Outgoing] = []
        last = self._last_lines(ticket, CARD_MESSAGES, conn)
        group = self.settings.telegram_mediator_chat_id
        if group:
            items.append(self._card(ticket, f"{key}:group", "telegram", group,
                                    self.settings.mediator_group_language, last, reminder))
        speakers = [m for m in self._speakers(ticket.mediator_language, conn)
                    if m.covers(ticket.province)]
        if not speakers:  # nobody speaks it: everyone may help in a shared language
            speakers = [m for m in self.store.mediators(conn) if m.active]
        for mediator in speakers:
            if mediator.whatsapp:
                items.append(self._card(ticket, f"{key}:m{mediator.id}", "whatsapp",
                                        mediator.whatsapp, mediator.ui_language, last, reminder))
            elif mediator.telegram_user_id and not group:
                items.append(self._card(ticket, f"{key}:m{mediator.id}", "telegram",
                                        mediator.telegram_user_id, mediator.ui_language, last,
                                        reminder))
        return items

    def _card(self, ticket: Ticket, key: str, destination: str, address: str, lang: str,
              last: str, reminder: bool) -> Outgoing:
        unknown = mediator_text("unknown", lang)
        values = dict(
            ticket=ticket.label, language=language_label(ticket, lang),
            topic=ticket.topic or unknown,
            comune=ticket.comune or unknown, channel=ticket.channel,
            waiting=duration(time.time() - ticket.opened_at, lang),
            reason=mediator_text(f"reason_{ticket.reason}", lang), last=last,
            icon="🚨" if ticket.priority >= PRIORITY_EMERGENCY else "🆕",
        )
        text = mediator_text("card_reminder" if reminder else "card", lang, **values)
        if destination == "whatsapp":
            text += f"\n\nclaim {ticket.id}"
        buttons = [{"title": mediator_text("button_claim", lang, ticket=ticket.label),
                    "callback": f"{CALLBACK_CLAIM}{ticket.id}"}]
        return Outgoing(key, destination, address,
                        {"text": text, "buttons": buttons, "kind": "card", "ticket_id": ticket.id})

    def _last_lines(self, ticket: Ticket, count: int, conn: Connection | None = None) -> str:
        query = (sa.select(t.messages.c.author, t.messages.c.text)
                 .where(t.messages.c.ticket_id == ticket.id,
                        t.messages.c.author.in_(("person", "bot", "mediator")))
                 .order_by(t.messages.c.id.desc()).limit(count))
        rows = self.store.rows(query, conn)
        icons = {"person": "👤", "bot": "🤖", "mediator": "🧑‍💼"}
        return "\n".join(f"{icons[a]} {_clip(text, 300)}" for a, text in reversed(rows))

    def _to_person(self, ticket: Ticket, key: str, response: str, /, **values: Any) -> Outgoing:
        text, buttons = render_with_buttons(response, ticket.language, **values)
        return Outgoing(key, _person_destination(ticket), ticket.person,
                        {"text": text, "buttons": buttons, "kind": "notice",
                         "ticket_id": ticket.id})

    def _to_mediator(self, mediator: Mediator, key: str, text_key: str,
                     ticket_id: int | None = None, **values: Any) -> list[Outgoing]:
        """A text for one mediator, where they can read it (none for desk-only mediators)."""
        destination = mediator_destination(mediator)
        if destination is None:
            return []
        text = mediator_text(text_key, mediator.ui_language, **values)
        payload = {"text": text, "kind": "notice", "ticket_id": ticket_id}
        return [Outgoing(key, destination[0], destination[1], payload)]

    def notify(self, ticket_id: int, mediator_id: int | None, key: str, text_key: str,
               **values: Any) -> None:
        """Tell a ticket's mediator something (a delivery report) and keep it in the transcript."""
        mediator = self.store.mediator(mediator_id) if mediator_id else None
        lang = mediator.ui_language if mediator else self.settings.mediator_group_language
        self.store.system_message(ticket_id, mediator_text(text_key, lang, **values))
        if mediator:
            self.store.queue(self._to_mediator(mediator, key, text_key, ticket_id, **values))

    def _announce_cards(self, conn: Connection, ticket: Ticket, _: Mediator | None,
                        **__: Any) -> list[Outgoing]:
        return self._cards(ticket, f"t{ticket.id}:card{ticket.announcements}", conn)

    def _announce_reminder(self, conn: Connection, ticket: Ticket, _: Mediator | None,
                           **__: Any) -> list[Outgoing]:
        key = f"t{ticket.id}:card{ticket.announcements}"
        return [*self._cards(ticket, key, conn, reminder=True),
                self._to_person(ticket, f"{key}:person", "utter_handoff_still_waiting",
                                ticket=ticket.label)]

    def _announce_person_text(self, conn: Connection, ticket: Ticket, holder: Mediator | None,
                              *, message_id: int) -> list[Outgoing]:
        if ticket.status != CLAIMED or holder is None:
            return []  # kept in the transcript; the claimant reads it on claiming
        text = conn.execute(sa.select(t.messages.c.text)
                            .where(t.messages.c.id == message_id)).scalar_one()
        return self._to_mediator(holder, f"m{message_id}:m{holder.id}", "person_says",
                                 ticket.id, ticket=ticket.label, text=text)

    def _announce_claimed(self, conn: Connection, ticket: Ticket, mediator: Mediator | None,
                          **__: Any) -> list[Outgoing]:
        assert mediator is not None
        key = f"t{ticket.id}:claim{ticket.claimed_at}"
        items = [self._to_person(ticket, f"{key}:person", "utter_handoff_claimed",
                                 name=mediator.name)]
        items += self._to_mediator(
            mediator, f"{key}:m", "you_claimed", ticket.id, ticket=ticket.label,
            language=ticket.language, channel=ticket.channel,
            last=self._last_lines(ticket, CLAIM_MESSAGES, conn) or "—")
        group = self.settings.telegram_mediator_chat_id
        if group:
            lang = self.settings.mediator_group_language
            items.append(Outgoing(f"{key}:group", "telegram", group, {
                "text": mediator_text("card_claimed", lang, ticket=ticket.label,
                                      language=ticket.language, name=mediator.name),
                "kind": "notice", "ticket_id": ticket.id}))
        return items

    def _announce_released(self, conn: Connection, ticket: Ticket, mediator: Mediator | None,
                           **__: Any) -> list[Outgoing]:
        assert mediator is not None
        key = f"t{ticket.id}:release{ticket.announced_at}"
        return [
            self._to_person(ticket, f"{key}:person", "utter_handoff_released",
                            ticket=ticket.label),
            *self._to_mediator(mediator, f"{key}:m", "released", ticket.id, ticket=ticket.label),
            *self._cards(ticket, f"{key}:card", conn),
        ]

    def _announce_transferred(self, conn: Connection, ticket: Ticket,
                              mediator: Mediator | None, **__: Any) -> list[Outgoing]:
        assert mediator is not None
        key = f"t{ticket.id}:transfer{ticket.announced_at}"
        return [
            self._to_person(ticket, f"{key}:person", "utter_handoff_transferred",
                            ticket=ticket.label),
            *self._to_mediator(mediator, f"{key}:m", "transferred", ticket.id,
                               ticket=ticket.label, language=ticket.mediator_language),
            *self._cards(ticket, f"{key}:card", conn),
        ]

    def _announce_closed(self, conn: Connection, ticket: Ticket, mediator: Mediator | None,
                         **__: Any) -> list[Outgoing]:
        key = f"t{ticket.id}:close{ticket.closed_at}"
        items = [self._to_person(ticket, f"{key}:person", "utter_handoff_closed")]
        if mediator:
            items += self._to_mediator(mediator, f"{key}:m", "closed_by_you", ticket.id,
                                       ticket=ticket.label)
        return items

    def _announce_cancelled(self, conn: Connection, ticket: Ticket, holder: Mediator | None,
                            **__: Any) -> list[Outgoing]:
        key = f"t{ticket.id}:cancel{ticket.closed_at}"
        items = [self._to_person(ticket, f"{key}:person", "utter_handoff_cancelled")]
        if holder and ticket.mediator_id:
            items += self._to_mediator(holder, f"{key}:m", "person_cancelled", ticket.id,
                                       ticket=ticket.label)
        return items

    def _announce_reopened(self, conn: Connection, ticket: Ticket, mediator: Mediator | None,
                           **__: Any) -> list[Outgoing]:
        assert mediator is not None
        key = f"t{ticket.id}:reopen{ticket.claimed_at}"
        return [
            self._to_person(ticket, f"{key}:person", "utter_handoff_claimed", name=mediator.name),
            *self._to_mediator(mediator, f"{key}:m", "reopened", ticket.id, ticket=ticket.label),
        ]

    def _announce_rated(self, conn: Connection, ticket: Ticket, holder: Mediator | None,
                        **__: Any) -> list[Outgoing]:
        key = f"t{ticket.id}:rated"
        items = [self._to_person(ticket, f"{key}:person", "utter_handoff_rated")]
        if holder:
            items += self._to_mediator(holder, f"{key}:m", "person_rated", ticket.id,
                                       ticket=ticket.label, rating=ticket.rating)
        return items


def language_label(ticket: Ticket, lang: str) -> str:
    """The language to speak, and the last message's when another: "ar (last message it)".

    ``lang`` is the reader's (the mediator's or the group's) language.
    """
    language = ticket.mediator_language
    if not ticket.last_language or ticket.last_language == language:
        return language
    return mediator_text("language_last_message", lang, language=language,
                         last=ticket.last_language)


def mediator_destination(mediator: Mediator) -> tuple[str, str] | None:
    """Where a mediator reads the bot: their Telegram private chat, WhatsApp, or only the desk."""
    if mediator.telegram_user_id:
        return ("telegram", mediator.telegram_user_id)
    if mediator.whatsapp:
        return ("whatsapp", mediator.whatsapp)
    return None


def _person_destination(ticket: Ticket) -> str:
    # Web chat people read their messages by polling; the others are written to.
    return "webchat" if ticket.channel == "webchat" else "person"


def parse_rating(text: str) -> int | None:
    """1–5 from a rating button ("/handoff_rating 4") or a bare digit."""
    value = text.strip()
    if value.startswith(RATING_PAYLOAD):
        value = value[len(RATING_PAYLOAD):].strip()
    if len(value) == 1 and value.isdigit() and 1 <= int(value) <= 5:
        return int(value)
    return None


def _looks_like_command(verb: str, rest: str) -> bool:
    """Without a slash, "close" or "claim 42" is a command; "close to the station" is not."""
    words = rest.split()
    if verb in ("tickets", "help", "close", "release"):
        return not words or (len(words) == 1 and bool(_NUMBER.match(words[0])))
    if verb in ("claim", "reopen"):
        return len(words) == 1 and bool(_NUMBER.match(words[0]))
    if verb == "transfer":
        return 1 <= len(words) <= 2 and words[-1].lower() in LANGUAGES
    if verb == "note":  # "note 42 text"; a bare "note …" may well be meant for the person
        return len(words) >= 2 and bool(_NUMBER.match(words[0]))
    return False


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
