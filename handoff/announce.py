"""What each ticket change sends, and to whom: the callbacks the stores run in its transaction.

Every change of ``handoff.tickets``, ``handoff.transcripts`` and ``handoff.ratings`` takes an
``announce`` callback (``handoff.records.Announce``). :class:`Announcements` holds them, one per
kind of change, so that what a change says lives in one place and the store queues it atomically
with the change:

============  ==================================================================================
opened        cards for mediators (the person's answer comes from the action, not from here)
reminder      the cards again, and the person told they still wait
person_text   what the person wrote, to the mediator who holds the ticket
claimed       the person told who joined; the mediator the conversation so far; the group's
              card edited: held by whom since when, no Claim button
released      the person told; the mediator confirmed; the group's card edited (Claim again),
              the other cards again
transferred   as released, for another language
closed        the person asked for a rating; the mediator confirmed; the group's card edited
cancelled     the person back with the bot; the mediator told; the group's card edited
reopened      the person told the mediator is back; the mediator confirmed; the group's card
              edited (claimed again)
rated         the person thanked; the mediator told the rating
============  ==================================================================================

:meth:`Announcements.reply` builds the callback for one mediator reply, and
:meth:`Announcements.alert` what an emergency in an open ticket sends.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from bot.settings import Settings
from handoff.cards import CLAIM_MESSAGES, Cards, person_destination
from handoff.records import Announce, Mediator, Outgoing, Ticket
from handoff.schema import CLAIMED, WAITING


class Announcements:
    """The messages of each change (see the module docstring)."""

    def __init__(self, cards: Cards, settings: Settings):
        self.cards = cards
        self.store = cards.store
        self.settings = settings

    def opened(
        self, conn: Connection, ticket: Ticket, _: Mediator | None, **__: Any
    ) -> list[Outgoing]:
        return self.cards.cards(ticket, f"t{ticket.id}:card{ticket.announcements}", conn)

    def reminder(
        self, conn: Connection, ticket: Ticket, _: Mediator | None, **__: Any
    ) -> list[Outgoing]:
        key = f"t{ticket.id}:card{ticket.announcements}"
        return [
            *self.cards.cards(ticket, key, conn, reminder=True),
            self.cards.to_person(
                ticket, f"{key}:person", "utter_handoff_still_waiting", ticket=ticket.label
            ),
        ]

    def person_text(
        self, conn: Connection, ticket: Ticket, holder: Mediator | None, *, message_id: int
    ) -> list[Outgoing]:
        if ticket.status != CLAIMED or holder is None:
            return []  # kept in the transcript; the claimant reads it on claiming
        text = self.store.transcripts.text(message_id, conn)
        return self.cards.to_mediator(
            holder,
            f"m{message_id}:m{holder.id}",
            "person_says",
            ticket.id,
            ticket=ticket.label,
            text=text,
        )

    def claimed(
        self, conn: Connection, ticket: Ticket, mediator: Mediator | None, **__: Any
    ) -> list[Outgoing]:
        assert mediator is not None
        key = f"t{ticket.id}:claim{ticket.claimed_at}"
        items = [
            self.cards.to_person(
                ticket, f"{key}:person", "utter_handoff_claimed", name=mediator.name
            )
        ]
        items += self.cards.to_mediator(
            mediator,
            f"{key}:m",
            "you_claimed",
            ticket.id,
            ticket=ticket.label,
            language=ticket.language,
            channel=ticket.channel,
            last=self.cards.last_lines(ticket, CLAIM_MESSAGES, conn) or "—",
        )
        items += self.cards.card_edit(ticket, f"{key}:group", "claimed", mediator.name, conn)
        return items

    def released(
        self, conn: Connection, ticket: Ticket, mediator: Mediator | None, **__: Any
    ) -> list[Outgoing]:
        assert mediator is not None
        key = f"t{ticket.id}:release{ticket.announced_at}"
        return [
            self.cards.to_person(
                ticket, f"{key}:person", "utter_handoff_released", ticket=ticket.label
            ),
            *self.cards.to_mediator(
                mediator, f"{key}:m", "released", ticket.id, ticket=ticket.label
            ),
            *self.cards.card_edit(ticket, f"{key}:group", "released", mediator.name, conn),
            *self.cards.cards(ticket, f"{key}:card", conn, to_group=False),
        ]

    def transferred(
        self, conn: Connection, ticket: Ticket, mediator: Mediator | None, **__: Any
    ) -> list[Outgoing]:
        assert mediator is not None
        key = f"t{ticket.id}:transfer{ticket.announced_at}"
        return [
            self.cards.to_person(
                ticket, f"{key}:person", "utter_handoff_transferred", ticket=ticket.label
            ),
            *self.cards.to_mediator(
                mediator,
                f"{key}:m",
                "transferred",
                ticket.id,
                ticket=ticket.label,
                language=ticket.mediator_language,
            ),
            *self.cards.card_edit(ticket, f"{key}:group", "transferred", mediator.name, conn),
            *self.cards.cards(ticket, f"{key}:card", conn, to_group=False),
        ]

    def closed(
        self, conn: Connection, ticket: Ticket, mediator: Mediator | None, **__: Any
    ) -> list[Outgoing]:
        key = f"t{ticket.id}:close{ticket.closed_at}"
        items = [self.cards.to_person(ticket, f"{key}:person", "utter_handoff_closed")]
        if mediator:
            items += self.cards.to_mediator(
                mediator, f"{key}:m", "closed_by_you", ticket.id, ticket=ticket.label
            )
        name = mediator.name if mediator else None
        return items + self.cards.card_edit(ticket, f"{key}:group", "closed", name, conn)

    def cancelled(
        self, conn: Connection, ticket: Ticket, holder: Mediator | None, **__: Any
    ) -> list[Outgoing]:
        key = f"t{ticket.id}:cancel{ticket.closed_at}"
        items = [self.cards.to_person(ticket, f"{key}:person", "utter_handoff_cancelled")]
        if holder and ticket.mediator_id:
            items += self.cards.to_mediator(
                holder, f"{key}:m", "person_cancelled", ticket.id, ticket=ticket.label
            )
        return items + self.cards.card_edit(ticket, f"{key}:group", "closed", None, conn)

    def reopened(
        self, conn: Connection, ticket: Ticket, mediator: Mediator | None, **__: Any
    ) -> list[Outgoing]:
        assert mediator is not None
        key = f"t{ticket.id}:reopen{ticket.claimed_at}"
        return [
            self.cards.to_person(
                ticket, f"{key}:person", "utter_handoff_claimed", name=mediator.name
            ),
            *self.cards.to_mediator(
                mediator, f"{key}:m", "reopened", ticket.id, ticket=ticket.label
            ),
            *self.cards.card_edit(ticket, f"{key}:group", "claimed", mediator.name, conn),
        ]

    def rated(
        self, conn: Connection, ticket: Ticket, holder: Mediator | None, **__: Any
    ) -> list[Outgoing]:
        key = f"t{ticket.id}:rated"
        items = [self.cards.to_person(ticket, f"{key}:person", "utter_handoff_rated")]
        if holder:
            items += self.cards.to_mediator(
                holder,
                f"{key}:m",
                "person_rated",
                ticket.id,
                ticket=ticket.label,
                rating=ticket.rating,
            )
        return items

    def reply(self, mediator: Mediator, text: str, copy: dict[str, Any] | None = None) -> Announce:
        """The callback for one mediator reply: the text (or a file, ``copy``) to the person."""
        caption = "" if text == "[file]" else text

        def announce(
            conn: Connection, ticket: Ticket, who: Mediator | None, *, message_id: int
        ) -> list[Outgoing]:
            payload: dict[str, Any] = {
                "text": text,
                "kind": "relay",
                "ticket_id": ticket.id,
                "mediator_id": mediator.id,
            }
            if copy and "media_id" in copy:  # a file kept with the ticket (handoff.media)
                payload.update(kind="media", media_id=copy["media_id"], text=caption)
            elif copy:
                payload.update(kind="copy", copy=copy)
            return [
                Outgoing(
                    f"m{message_id}:person", person_destination(ticket), ticket.person, payload
                )
            ]

        return announce

    def alert(self, ticket: Ticket, key: str) -> list[Outgoing]:
        """An emergency in an open ticket: its mediator is told, or the cards go out again."""
        holder = self.store.mediators.get(ticket.mediator_id) if ticket.mediator_id else None
        if holder:
            return self.cards.to_mediator(
                holder, f"{key}:m", "person_emergency", ticket.id, ticket=ticket.label
            )
        ticket = self.store.tickets.get(ticket.id) or ticket  # its new priority, for the card
        return self.cards.cards(ticket, f"{key}:card") if ticket.status == WAITING else []
