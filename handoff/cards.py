"""What mediators and people read about a ticket: ticket cards, and the two message builders.

A *card* announces a waiting ticket: language, topic, town, channel, how long the person has
waited, why, and the last lines of the conversation, with a Claim button (on WhatsApp, the
``claim 42`` to type instead). Cards go to the mediators' Telegram group when there is one, and
to each mediator of the ticket's language who covers its province on WhatsApp (or in a Telegram
private chat when there is no group); when nobody speaks the language, to every mediator on
call (active and not paused).

The group card shows its state (issue #17): :meth:`Cards.card_edit` re-renders it with who holds
it and since when, and the relay edits the message in place (its id is stored on the ticket
when it is sent). Claimed or closed, the card loses its Claim button; released or transferred,
it gets it back, in the group and not as a new card. A closed card keeps no conversation lines.

:meth:`Cards.to_person` and :meth:`Cards.to_mediator` build the other messages of a change: a
domain response (``utter_handoff_*``) in the person's language, a ``locales/mediators`` text in
the mediator's. Nothing here writes to the database; the announcements (``handoff.announce``)
hand what is built here to the store inside the change's transaction.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from bot.i18n import duration, when
from bot.messages import render_with_buttons
from bot.settings import Settings
from handoff.records import Mediator, Outgoing, Ticket
from handoff.schema import PRIORITY_EMERGENCY
from handoff.store import HandoffStore
from handoff.texts import mediator_text

CARD_MESSAGES = 4  # last messages shown on a card
CLAIM_MESSAGES = 12  # messages of the conversation so far sent to the mediator who claims
CALLBACK_CLAIM = "claim:"  # Telegram callback_data of a card's Claim button
CLIP_CHARS = 300  # one message's share of a card
CARD_EDIT = "card_edit"  # outbox kind: edit the ticket's card in the group (handoff.relay)
ROME = ZoneInfo("Europe/Rome")


class Cards:
    """Builds cards and messages from the store's records and the settings."""

    def __init__(self, store: HandoffStore, settings: Settings):
        self.store = store
        self.settings = settings

    def speakers(self, language: str, conn: Connection | None = None) -> list[Mediator]:
        """The mediators on call (active, not paused) who speak ``language``."""
        return [m for m in self.store.mediators.all(conn) if m.on_call and m.speaks(language)]

    def cards(
        self,
        ticket: Ticket,
        key: str,
        conn: Connection | None = None,
        reminder: bool = False,
        to_group: bool = True,
    ) -> list[Outgoing]:
        """A card per mediator destination: the group, else each mediator of the language.

        ``to_group=False``: the group's card is edited instead (a release or a transfer).
        """
        items: list[Outgoing] = []
        last = self.last_lines(ticket, CARD_MESSAGES, conn)
        group = self.settings.telegram_mediator_chat_id
        if group and to_group:
            items.append(
                self.card(
                    ticket,
                    f"{key}:group",
                    "telegram",
                    group,
                    self.settings.mediator_group_language,
                    last,
                    reminder,
                )
            )
        speakers = [
            m for m in self.speakers(ticket.mediator_language, conn) if m.covers(ticket.province)
        ]
        if not speakers:  # nobody speaks it: everyone may help in a shared language
            speakers = [m for m in self.store.mediators.all(conn) if m.on_call]
        for mediator in speakers:
            if mediator.whatsapp:
                items.append(
                    self.card(
                        ticket,
                        f"{key}:m{mediator.id}",
                        "whatsapp",
                        mediator.whatsapp,
                        mediator.ui_language,
                        last,
                        reminder,
                    )
                )
            elif mediator.telegram_user_id and not group:
                items.append(
                    self.card(
                        ticket,
                        f"{key}:m{mediator.id}",
                        "telegram",
                        mediator.telegram_user_id,
                        mediator.ui_language,
                        last,
                        reminder,
                    )
                )
        return items

    def card(
        self,
        ticket: Ticket,
        key: str,
        destination: str,
        address: str,
        lang: str,
        last: str,
        reminder: bool,
    ) -> Outgoing:
        """One card, in the reader's language ``lang``."""
        unknown = mediator_text("unknown", lang)
        values = dict(
            ticket=ticket.label,
            language=language_label(ticket, lang),
            topic=ticket.topic or unknown,
            comune=ticket.comune or unknown,
            channel=ticket.channel,
            waiting=duration(time.time() - ticket.opened_at, lang),
            reason=mediator_text(f"reason_{ticket.reason}", lang),
            last=last,
            icon="🚨" if ticket.priority >= PRIORITY_EMERGENCY else "🆕",
        )
        text = mediator_text("card_reminder" if reminder else "card", lang, **values)
        if destination == "whatsapp":
            text += f"\n\nclaim {ticket.id}"
        buttons = [
            {
                "title": mediator_text("button_claim", lang, ticket=ticket.label),
                "callback": f"{CALLBACK_CLAIM}{ticket.id}",
            }
        ]
        return Outgoing(
            key,
            destination,
            address,
            {
                "text": text,
                "buttons": buttons,
                "kind": "card",
                "ticket_id": ticket.id,
                "reminder": reminder,  # a WhatsApp reminder's template differs (handoff.relay)
            },
        )

    def card_edit(
        self,
        ticket: Ticket,
        key: str,
        state: str,
        name: str | None,
        conn: Connection | None = None,
    ) -> list[Outgoing]:
        """The group card of ``ticket`` as it is now, to replace the one sent; none without a group.

        ``state``: claimed, released, transferred or closed, by ``name`` (None: the person
        closed it). The message id is the ticket's when the card was sent already; else the
        relay finds it when it sends this, after the card (same destination, in order).
        """
        group = self.settings.telegram_mediator_chat_id
        if not group:
            return []
        lang = self.settings.mediator_group_language
        at = {
            "claimed": ticket.claimed_at,
            "closed": ticket.closed_at,
        }.get(state) or time.time()
        closed = state == "closed"
        last = "" if closed else self.last_lines(ticket, CARD_MESSAGES, conn)
        card = self.card(ticket, key, "telegram", str(group), lang, last, False)
        text_key = f"card_state_{state}" + ("_by_person" if closed and not name else "")
        line = mediator_text(
            text_key,
            lang,
            name=name or "",
            since=when(dt.datetime.fromtimestamp(at, ROME), lang),
            language=ticket.mediator_language,
        )
        waiting = state in ("released", "transferred")
        payload = {
            "text": f"{line}\n\n{card.payload['text']}".rstrip(),
            "buttons": card.payload["buttons"] if waiting else [],
            "kind": CARD_EDIT,
            "ticket_id": ticket.id,
        }
        return [Outgoing(key, "telegram", str(group), payload)]

    def last_lines(self, ticket: Ticket, count: int, conn: Connection | None = None) -> str:
        """The conversation's last ``count`` lines, one icon each for person, bot and mediator."""
        rows = self.store.transcripts.conversation(ticket.id, count, conn)
        icons = {"person": "👤", "bot": "🤖", "mediator": "🧑‍💼"}
        return "\n".join(f"{icons[a]} {_clip(text, CLIP_CHARS)}" for a, text in rows)

    def to_person(self, ticket: Ticket, key: str, response: str, /, **values: Any) -> Outgoing:
        """A domain response for the ticket's person, in the conversation's language."""
        text, buttons = render_with_buttons(response, ticket.language, **values)
        return Outgoing(
            key,
            person_destination(ticket),
            ticket.person,
            {"text": text, "buttons": buttons, "kind": "notice", "ticket_id": ticket.id},
        )

    def to_mediator(
        self,
        mediator: Mediator,
        key: str,
        text_key: str,
        ticket_id: int | None = None,
        **values: Any,
    ) -> list[Outgoing]:
        """A text for one mediator, where they can read it (none for desk-only mediators)."""
        destination = mediator_destination(mediator)
        if destination is None:
            return []
        text = mediator_text(text_key, mediator.ui_language, **values)
        payload = {"text": text, "kind": "notice", "ticket_id": ticket_id}
        return [Outgoing(key, destination[0], destination[1], payload)]


def language_label(ticket: Ticket, lang: str) -> str:
    """The language to speak, and the last message's when another: "ar (last message it)".

    ``lang`` is the reader's (the mediator's or the group's) language.
    """
    language = ticket.mediator_language
    if not ticket.last_language or ticket.last_language == language:
        return language
    return mediator_text(
        "language_last_message", lang, language=language, last=ticket.last_language
    )


def mediator_destination(mediator: Mediator) -> tuple[str, str] | None:
    """Where a mediator reads the bot: their Telegram private chat, WhatsApp, or only the desk."""
    if mediator.telegram_user_id:
        return ("telegram", mediator.telegram_user_id)
    if mediator.whatsapp:
        return ("whatsapp", mediator.whatsapp)
    return None


def person_destination(ticket: Ticket) -> str:
    """The outbox destination of the ticket's person."""
    # Web chat people read their messages by polling; the others are written to.
    return "webchat" if ticket.channel == "webchat" else "person"


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
