"""Delivery reports and mediators' WhatsApp windows (``handoff/delivery.py``), on both databases."""

from __future__ import annotations

import time

import pytest

from handoff.delivery import DeliveryStore
from tests.handoff.helpers import together

SID = "SM" + "a" * 32


@pytest.fixture
def deliveries(db_url):
    store = DeliveryStore(db_url)
    yield store
    store.dispose()


def test_a_callback_before_the_senders_record_is_completed_by_it(deliveries):
    update = deliveries.record_status(SID, "failed", 63016)
    assert update.changed and update.newly_failed
    deliveries.record_sent(
        SID,
        ticket_id=9,
        person="wa-p",
        recipient="mediator",
        mediator_id=3,
        outbox_key="t9:card:m3",
    )
    status = deliveries.status(SID)
    assert (status.status, status.error_code, status.ticket_id, status.mediator_id) == (
        "failed",
        63016,
        9,
        3,
    )
    assert [s.message_sid for s in deliveries.for_ticket(9, failed_only=True)] == [SID]


def test_a_status_only_moves_forward_and_a_failure_is_final(deliveries):
    deliveries.record_sent(SID, ticket_id=9, person="wa-p", recipient="person")
    assert deliveries.status(SID).status == "queued"
    assert deliveries.record_status(SID, "delivered").changed
    assert not deliveries.record_status(SID, "sent").changed
    assert deliveries.record_status(SID, "read").changed
    other = "SM" + "b" * 32
    deliveries.record_status(other, "failed", 63016)
    again = deliveries.record_status(other, "failed", 63016)
    assert not again.changed and not again.newly_failed
    assert not deliveries.record_status(other, "delivered").changed
    assert deliveries.for_ticket(9)[0].status == "read"


def test_of_two_simultaneous_failure_callbacks_one_reports_it(deliveries):
    deliveries.record_sent(SID, ticket_id=9, person="wa-p", recipient="mediator")
    results = together(
        lambda: deliveries.record_status(SID, "undelivered", 63016),
        lambda: deliveries.record_status(SID, "undelivered", 63016),
    )
    assert [kind for kind, _ in results] == ["ok", "ok"]
    assert sum(update.newly_failed for _, update in results) == 1


def test_delete_my_data_and_retention_forget_reports(deliveries):
    deliveries.record_sent(SID, ticket_id=9, person="wa-p", recipient="person")
    deliveries.record_sent("SM" + "c" * 32, ticket_id=10, person="wa-q", recipient="person")
    assert deliveries.erase_person("wa-p") == 1
    assert deliveries.status(SID) is None
    assert deliveries.purge_before(time.time() + 1) == 1


def test_a_mediators_window_keeps_the_latest_message(deliveries):
    address = "whatsapp:+393330000002"
    assert deliveries.last_inbound(address) is None
    deliveries.record_inbound(address, at=1000.0)
    deliveries.record_inbound(address, at=900.0)  # an older message processed late
    assert deliveries.last_inbound(address) == 1000.0
    deliveries.record_inbound(address, at=2000.0)
    assert deliveries.last_inbound(address) == 2000.0
