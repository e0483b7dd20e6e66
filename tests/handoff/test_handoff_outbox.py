"""The outbox: in order, one in flight per address, dead senders' rows retried, held rows freed."""

from __future__ import annotations

import handoff.outbox as outbox_module
from handoff.outbox import SENDING_LEASE_SECONDS
from handoff.records import Outgoing
from handoff.service import Handoff
from handoff.store import HandoffStore
from tests.handoff.helpers import Clock, rows, states


def _queue(store: HandoffStore, *items: tuple[str, str, str]) -> list[int]:
    """Queue (destination, address, text) rows; return their ids."""
    store.outbox.queue(
        Outgoing(f"k-{destination}-{address}-{text}", destination, address, {"text": text})
        for destination, address, text in items
    )
    return [row.id for row in rows(store)][-len(items) :]


def _taken(store: HandoffStore, **kwargs) -> list[str]:
    return [row.payload["text"] for row in store.outbox.take_due(**kwargs)]


def test_rows_go_in_order_one_in_flight_per_address(store: HandoffStore) -> None:
    _queue(
        store,
        ("person", "A", "a1"),
        ("person", "B", "b1"),
        ("person", "A", "a2"),
        ("telegram", "A", "ta1"),
        ("person", "C", "c1"),
        ("person", "A", "a3"),
    )

    first = store.outbox.take_due()

    # a2 and a3 wait for a1; telegram "A" is another address than person "A".
    assert [r.payload["text"] for r in first] == ["a1", "b1", "ta1", "c1"]
    assert [r.id for r in first] == sorted(r.id for r in first)
    assert all(r.attempts == 1 for r in first)
    assert _taken(store) == []  # all in flight, nothing else is due
    by_text = {r.payload["text"]: r.id for r in rows(store)}
    assert states(store)[by_text["a1"]] == "sending"

    store.outbox.mark_sent(by_text["a1"])
    assert _taken(store) == ["a2"]
    store.outbox.mark_failed(by_text["a2"], "blocked")  # a failure does not hold the rest back
    assert _taken(store) == ["a3"]
    assert states(store)[by_text["a1"]] == "sent" and states(store)[by_text["a2"]] == "failed"


def test_take_due_by_destination_and_limit(lite_store: HandoffStore) -> None:
    _queue(
        lite_store,
        ("webchat", "w", "w1"),
        ("person", "A", "a1"),
        ("person", "B", "b1"),
        ("whatsapp", "m", "m1"),
    )

    assert _taken(lite_store, limit=1, destinations=("person", "whatsapp")) == ["a1"]
    assert _taken(lite_store, destinations=("person", "whatsapp")) == ["b1", "m1"]
    assert _taken(lite_store) == ["w1"]


def test_the_same_key_is_queued_once(lite_store: HandoffStore) -> None:
    item = Outgoing("t1:card1:group", "telegram", "-100", {"text": "card"})

    assert lite_store.outbox.queue([item]) == [item]
    assert lite_store.outbox.queue([item]) == []
    assert len(rows(lite_store)) == 1


def test_a_row_left_sending_by_a_dead_process_is_taken_again_after_the_lease(
    store: HandoffStore, clock: Clock
) -> None:
    _queue(store, ("person", "A", "a1"), ("person", "A", "a2"))
    (taken,) = store.outbox.take_due()  # ... and the process dies before mark_sent

    clock.advance(SENDING_LEASE_SECONDS - 5)
    assert _taken(store) == []  # still within the lease: maybe still being sent
    clock.advance(10)
    again = store.outbox.take_due()

    assert [(r.id, r.attempts) for r in again] == [(taken.id, 2)]  # a2 still waits for it
    assert _taken(store) == []  # and a fresh lease started
    store.outbox.mark_sent(taken.id)
    assert _taken(store) == ["a2"]


def test_lease_constant_is_what_take_due_uses(lite_store: HandoffStore, monkeypatch) -> None:
    _queue(lite_store, ("person", "A", "a1"))
    lite_store.outbox.take_due()
    assert _taken(lite_store) == []

    monkeypatch.setattr(outbox_module, "SENDING_LEASE_SECONDS", -1.0)

    assert _taken(lite_store) == ["a1"]


def test_retry_later_delays_the_row_and_what_follows_it(
    lite_store: HandoffStore, clock: Clock
) -> None:
    store = lite_store
    _queue(store, ("person", "A", "a1"), ("person", "A", "a2"), ("person", "B", "b1"))
    a1, b1 = store.outbox.take_due()
    assert a1.payload["text"] == "a1"
    store.outbox.mark_sent(b1.id)

    store.outbox.retry_later(a1.id, 10, "429 too many requests")

    assert _taken(store) == []  # a1 is not due yet, and a2 waits behind it
    clock.advance(5)
    assert _taken(store) == []
    clock.advance(6)
    retried = store.outbox.take_due()
    assert [(r.payload["text"], r.attempts) for r in retried] == [("a1", 2)]
    store.outbox.mark_sent(a1.id)
    assert _taken(store) == ["a2"]


def test_held_rows_go_back_to_pending_when_the_person_writes(handoff: Handoff) -> None:
    store = handoff.store
    amina = store.mediators.add("Amina", ["ar"], telegram_user_id="111")
    ticket = handoff.request("p1", "whatsapp", "ar").ticket
    handoff.claim(ticket.id, amina)
    handoff.reply(ticket.id, amina, "هل ما زلت هنا؟", None)
    (claimed,) = store.outbox.take_due(destinations=("person",))  # "a mediator has joined"
    store.outbox.mark_sent(claimed.id)
    (reply,) = store.outbox.take_due(destinations=("person",))
    assert reply.payload["text"] == "هل ما زلت هنا؟"
    store.outbox.mark_held(reply.id, "window closed")  # WhatsApp's 24-hour window
    held = reply.id
    assert states(store)[held] == "held"
    assert _taken(store, destinations=("person",)) == []  # held rows are not retried

    handoff.person_wrote("p1", "نعم", "wa:SM77")

    assert states(store)[held] == "pending"
    assert _taken(store, destinations=("person",)) == ["هل ما زلت هنا؟"]
    # Someone else writing frees nothing of p1's.
    other = handoff.request("p2", "whatsapp", "ar").ticket
    handoff.claim(other.id, amina)
    handoff.reply(other.id, amina, "p2 reply", None)
    for row in store.outbox.take_due(destinations=("person",)):
        store.outbox.mark_sent(row.id)  # p1's freed reply, p2's "a mediator has joined"
    (p2_row,) = store.outbox.take_due(destinations=("person",))
    assert p2_row.payload["text"] == "p2 reply"
    store.outbox.mark_held(p2_row.id, "window closed")
    handoff.person_wrote("p1", "again", "wa:SM78")
    assert states(store)[p2_row.id] == "held"
