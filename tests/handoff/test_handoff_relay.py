"""Messages in a ticket: always stored, relayed to the other side once, notes never shown."""

from __future__ import annotations

from handoff import schema
from handoff.service import Handoff
from tests.handoff.helpers import count, rows


def _setup(handoff: Handoff):
    store = handoff.store
    amina = store.mediators.add("Amina", ["ar"], telegram_user_id="111", ui_language="en")
    karim = store.mediators.add("Karim", ["ar"], whatsapp="whatsapp:+393330000003")
    ticket = handoff.request("p1", "whatsapp", "ar").ticket
    return store, amina, karim, ticket


def _to_mediators(store) -> list:
    return [
        r
        for r in rows(store)
        if r.destination in ("telegram", "whatsapp") and r.payload["kind"] != "card"
    ]


def test_person_message_while_waiting_is_kept_not_relayed(lite: Handoff) -> None:
    handoff = lite
    store, amina, _, ticket = _setup(handoff)
    before = rows(store)

    change = handoff.person_wrote("p1", "أين أنتم؟", "wa:SM1")

    assert change is not None and change.ticket.id == ticket.id and change.outgoing == []
    assert rows(store) == before
    transcript = store.transcripts.messages(ticket.id)
    assert [(m.author, m.text) for m in transcript] == [("person", "أين أنتم؟")]
    # Whoever claims reads it in the conversation so far.
    handoff.claim(ticket.id, amina)
    (claimed,) = _to_mediators(store)
    assert "أين أنتم؟" in claimed.payload["text"]
    # Someone without an open ticket is not in handoff.
    assert handoff.person_wrote("nobody", "hi", "wa:SM2") is None


def test_after_claim_person_messages_reach_the_holder_once(handoff: Handoff) -> None:
    store, amina, karim, ticket = _setup(handoff)
    handoff.claim(ticket.id, karim)  # Karim reads on WhatsApp
    before = {r.id for r in rows(store)}

    first = handoff.person_wrote("p1", "عندي موعد غداً", "wa:SM10")
    repeat = handoff.person_wrote("p1", "عندي موعد غداً", "wa:SM10")  # the webhook, again

    assert not first.duplicate and repeat.duplicate
    new = [r for r in rows(store) if r.id not in before]
    assert [(r.destination, r.address) for r in new] == [("whatsapp", "whatsapp:+393330000003")]
    assert new[0].payload["text"] == f"#{ticket.id} › عندي موعد غداً"
    assert new[0].ticket_id == ticket.id
    assert [m.text for m in store.transcripts.messages(ticket.id)].count("عندي موعد غداً") == 1
    assert count(store, schema.messages, schema.messages.c.source_key == "wa:SM10") == 1
    # Nothing about it went to the other mediator.
    assert not [r for r in new if r.address == "111"]
    # The same words under another delivery are a new message.
    handoff.person_wrote("p1", "عندي موعد غداً", "wa:SM11")
    assert len([r for r in rows(store) if r.id not in before]) == 2


def test_holder_on_telegram_gets_person_messages_privately(lite: Handoff) -> None:
    handoff = lite
    store, amina, _, ticket = _setup(handoff)
    handoff.claim(ticket.id, amina)
    before = {r.id for r in rows(store)}

    handoff.person_wrote("p1", "شكراً", "wa:SM20")

    new = [r for r in rows(store) if r.id not in before]
    assert [(r.destination, r.address, r.payload["text"]) for r in new] == [
        ("telegram", "111", f"#{ticket.id} › شكراً")
    ]


def test_mediator_reply_goes_to_the_person_once_and_notes_never(handoff: Handoff) -> None:
    store, amina, _, ticket = _setup(handoff)
    handoff.claim(ticket.id, amina)
    before = {r.id for r in rows(store)}

    reply = handoff.reply(ticket.id, amina, "مرحبا، أنا أمينة", "tg:900:1")
    repeat = handoff.reply(ticket.id, amina, "مرحبا، أنا أمينة", "tg:900:1")
    handoff.note(ticket.id, amina, "seems to need a lawyer", "tg:900:2")

    assert not reply.duplicate and repeat.duplicate
    new = [r for r in rows(store) if r.id not in before]
    assert [(r.destination, r.address, r.payload["text"]) for r in new] == [
        ("person", "p1", "مرحبا، أنا أمينة")
    ]
    assert new[0].payload["ticket_id"] == ticket.id
    assert not any("lawyer" in r.payload["text"] for r in rows(store))
    transcript = [(m.author, m.text) for m in store.transcripts.messages(ticket.id)]
    assert transcript == [("mediator", "مرحبا، أنا أمينة"), ("note", "seems to need a lawyer")]


def test_web_chat_people_get_replies_in_their_polling_queue(lite: Handoff) -> None:
    handoff, store = lite, lite.store
    amina = store.mediators.add("Amina", ["fr"], telegram_user_id="111")
    ticket = handoff.request("web-1", "webchat", "fr").ticket
    handoff.claim(ticket.id, amina)

    handoff.reply(ticket.id, amina, "Bonjour !", None)

    assert "Bonjour !" in [r.payload["text"] for r in rows(store, "webchat", "web-1")]
    assert rows(store, "person") == []


def test_only_the_holder_can_write_to_the_person(lite: Handoff) -> None:
    handoff = lite
    store, amina, karim, ticket = _setup(handoff)
    handoff.claim(ticket.id, amina)
    before = rows(store)

    from handoff.records import HandoffError

    for send in (
        lambda: handoff.reply(ticket.id, karim, "hello", None),
        lambda: handoff.note(ticket.id, karim, "hello", None),
    ):
        try:
            send()
        except HandoffError as exc:
            assert exc.code == "not_yours"
        else:
            raise AssertionError("a mediator who does not hold the ticket wrote to it")
    assert rows(store) == before
    assert store.transcripts.messages(ticket.id) == []
