""" "Delete my data": a person's tickets, transcript, events and queued messages go; others stay."""

from __future__ import annotations

from handoff import schema
from handoff.service import Handoff
from handoff.store import HandoffStore
from handoff.texts import mediator_text
from tests.handoff.helpers import count, rows, settings_for, texts


def _everything_of(handoff: Handoff, person: str, text: str) -> int:
    """Open, claim, talk, note, send a file, raise an emergency; return the ticket id."""
    store = handoff.store
    amina = store.mediators.by_name("Amina")
    ticket = handoff.request(person, "whatsapp", "ar", transcript=[("person", text)]).ticket
    handoff.claim(ticket.id, amina)
    handoff.person_wrote(person, f"{text} (2)", f"wa:{person}:1")
    handoff.reply(ticket.id, amina, f"reply to {person}", f"tg:{person}:1")
    handoff.note(ticket.id, amina, f"note about {person}", f"tg:{person}:2")
    handoff.person_sent_media(store.tickets.get(ticket.id), "image", f"wa:{person}:2")
    handoff.emergency(store.tickets.get(ticket.id), f"wa:{person}:3")
    return ticket.id


def test_forget_person_erases_only_that_person(handoff: Handoff) -> None:
    store = handoff.store
    amina = store.mediators.add("Amina", ["ar"], telegram_user_id="111")
    gone = _everything_of(handoff, "p1", "secret of p1")
    kept = _everything_of(handoff, "p2", "words of p2")
    handoff.close(gone, amina)  # an old, closed ticket of p1's too
    handoff.request("p1", "whatsapp", "ar")
    kept_counts = {
        table.name: count(store, table, table.c.ticket_id == kept)
        for table in (schema.messages, schema.events, schema.outbox)
    }
    assert all(kept_counts.values()), kept_counts

    assert store.tickets.erase_person("p1") == 2

    assert count(store, schema.tickets, schema.tickets.c.person == "p1") == 0
    assert store.tickets.get(gone) is None and store.tickets.open_for("p1") is None
    for table in (schema.messages, schema.events, schema.outbox):
        assert count(store, table, table.c.ticket_id == gone) == 0, table.name
    assert rows(store, None, "p1") == []
    # Nothing queued anywhere still speaks of p1's ticket or words.
    leftovers = [
        r.payload["text"]
        for r in rows(store)
        if f"#{gone}" in r.payload["text"] or "p1" in r.payload["text"]
    ]
    assert leftovers == []
    # p2 and the mediator are untouched.
    assert store.tickets.get(kept).person == "p2"
    assert {
        table.name: count(store, table, table.c.ticket_id == kept)
        for table in (schema.messages, schema.events, schema.outbox)
    } == kept_counts
    assert rows(store, "person", "p2") != []
    assert store.mediators.by_name("Amina") == amina
    assert store.tickets.erase_person("p1") == 0


def test_erase_in_a_hand_off_closes_tells_the_mediator_and_erases(handoff: Handoff) -> None:
    store = handoff.store
    amina = store.mediators.add("Amina", ["ar"], telegram_user_id="111")
    gone = _everything_of(handoff, "p1", "secret of p1")

    assert handoff.erase("p1") == 1

    assert store.tickets.get(gone) is None and store.tickets.open_for("p1") is None
    for table in (schema.messages, schema.events, schema.outbox):
        assert count(store, table, table.c.ticket_id == gone) == 0, table.name
    # The mediator who held it is told, in their language, by number only, and the notice
    # belongs to no ticket row (the erasure would have taken it).
    told = [
        r for r in rows(store, "telegram", amina.telegram_user_id) if r.key == f"t{gone}:erased:m"
    ]
    assert [r.payload["text"] for r in told] == [
        mediator_text("person_erased", amina.ui_language, ticket=f"#{gone}")
    ]
    assert told[0].ticket_id is None
    assert not [r for r in rows(store) if "secret of p1" in r.payload["text"]]
    assert handoff.erase("p1") == 0  # nothing left; nobody told twice
    assert len([r for r in rows(store) if r.key.endswith(":erased:m")]) == 1


def test_erase_of_a_waiting_ticket_marks_its_card_closed_in_the_group(
    store: HandoffStore, sqlite_url: str
) -> None:
    handoff = Handoff(store, settings_for(sqlite_url, telegram_mediator_chat_id="-100777"))
    store.mediators.add("Amina", ["ar"], telegram_user_id="111")
    ticket = handoff.request("p1", "whatsapp", "ar").ticket

    assert handoff.erase("p1") == 1

    assert store.tickets.get(ticket.id) is None
    assert texts(store, "telegram", "-100777")[-1] == mediator_text(
        "card_closed", "it", ticket=f"#{ticket.id}"
    )
    assert texts(store, "telegram", "111") == []  # nobody held it


def test_erase_without_a_ticket_tells_nobody(handoff: Handoff) -> None:
    handoff.store.mediators.add("Amina", ["ar"], telegram_user_id="111")
    assert handoff.erase("p9") == 0
    assert rows(handoff.store) == []
