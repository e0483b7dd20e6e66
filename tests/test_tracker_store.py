"""Conversations are stored in DATABASE_URL and erased completely on request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.settings import PROJECT_ROOT
from bot.tracker_store import ErasingSQLTrackerStore
from tests.databases import postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
    else:
        with postgres_database("tracker_test") as pg_url:
            yield pg_url


def stored_events(url: str, sender: str) -> int:
    engine = sa.create_engine(url, future=True)
    with engine.connect() as conn:
        count = conn.execute(
            sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}
        ).scalar_one()
    engine.dispose()
    return int(count)


async def test_delete_my_data_erases_the_conversation_and_only_it(url: str) -> None:
    store = ErasingSQLTrackerStore(domain=Domain.empty(), host=url)
    for sender in ("person-a", "person-b"):
        tracker = DialogueStateTracker.from_events(
            sender, [UserUttered("ciao"), ActionExecuted("utter_greet"), BotUttered("Ciao!")]
        )
        await store.save(tracker)
    assert stored_events(url, "person-a") > 0

    tracker = await store.retrieve("person-a")
    tracker.update(UserUttered("sì, cancella"))
    tracker.update(ActionExecuted("action_delete_my_data"))
    tracker.update(BotUttered("Fatto"))
    await store.save(tracker)

    assert stored_events(url, "person-a") == 0
    assert stored_events(url, "person-b") > 0
    assert await store.retrieve("person-a") is None


async def test_delete_my_data_erases_the_address_and_mediator_tickets(url: str) -> None:
    from channels.store import get_store
    from handoff.gate import get_runtime
    from handoff.service import Handoff
    from handoff.store import get_handoff_store
    from handoff.texts import mediator_text

    channels, handoff = get_store(url), Handoff(get_handoff_store(url))
    amina = handoff.store.mediators.add("Amina", ["ar"], telegram_user_id="111")
    for person in ("wa-a", "wa-b"):
        address = f"whatsapp:+39333000{person[-1] == 'a':d}"
        channels.record_inbound(person, "whatsapp", address)
        channels.claim("whatsapp", f"SM-{person}", {"from": address, "text": "my words"})
        handoff.request(person, "whatsapp", "ar", transcript=[("person", "my address is …")])
    ticket = handoff.store.tickets.open_for("wa-a")
    handoff.claim(ticket.id, amina)  # "delete my data" in the middle of a hand-off
    store = ErasingSQLTrackerStore(domain=Domain.empty(), host=url)
    tracker = DialogueStateTracker.from_events(
        "wa-a", [UserUttered("delete my data"), ActionExecuted("action_delete_my_data")])
    await store.save(tracker)
    await get_runtime(url).relay.stop()

    assert channels.lookup("wa-a") is None
    tickets = handoff.store.tickets
    assert tickets.open_for("wa-a") is None and tickets.get(ticket.id) is None
    assert channels.claim("whatsapp", "SM-wa-a", {})  # its inbox row is gone: a new claim
    assert channels.lookup("wa-b") is not None
    assert handoff.store.tickets.open_for("wa-b") is not None
    assert not channels.claim("whatsapp", "SM-wa-b", {})
    told = [row.payload["text"] for row, _ in handoff.store.outbox.rows("telegram", "111")]
    assert mediator_text("person_erased", "it", ticket=f"#{ticket.id}") in told
    channels.dispose()
    handoff.store.dispose()


async def test_a_later_turn_is_stored_normally(url: str) -> None:
    store = ErasingSQLTrackerStore(domain=Domain.empty(), host=url)
    tracker = DialogueStateTracker.from_events(
        "person",
        [
            UserUttered("delete my data"),
            ActionExecuted("action_delete_my_data"),
            UserUttered("hello again"),
            ActionExecuted("utter_greet"),
        ],
    )
    await store.save(tracker)
    assert stored_events(url, "person") > 0


def test_endpoints_use_the_erasing_store_that_imports() -> None:
    """Rasa silently falls back to an in-memory store when the class does not import."""
    from rasa.shared.utils.common import class_from_module_path

    endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())
    assert class_from_module_path(endpoints["tracker_store"]["type"]) is ErasingSQLTrackerStore
