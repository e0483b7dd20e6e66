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

from app.tracker_store import ErasingSQLTrackerStore
from bot.settings import PROJECT_ROOT
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
        "wa-a", [UserUttered("delete my data"), ActionExecuted("action_delete_my_data")]
    )
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


async def test_a_failing_erasure_hook_does_not_keep_the_others_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import erasure

    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    monkeypatch.setattr(erasure, "_hooks", [])
    erased: list[tuple[str, str]] = []

    def broken(sender: str, _: str) -> None:
        raise RuntimeError("store down")

    store = ErasingSQLTrackerStore(domain=Domain.empty(), host=url)
    assert [what for what, _ in erasure.registered()] == [
        "channel address",
        "mediator tickets",
        "hand-off files",
        "monitoring rows",
    ]
    monkeypatch.setattr(erasure, "_hooks", [])
    erasure.register("broken store", broken)
    erasure.register("kept store", lambda sender, db: erased.append((sender, db)))
    erasure.register("kept store", broken)  # a second registration of a name is ignored

    tracker = DialogueStateTracker.from_events(
        "person-a", [UserUttered("cancella"), ActionExecuted("action_delete_my_data")]
    )
    await store.save(tracker)

    assert erased == [("person-a", url)]
    assert stored_events(url, "person-a") == 0


async def test_delete_my_data_reaches_the_files_and_the_monitoring_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A photo sent to a mediator and the person's monitoring rows go with the conversation."""
    import sqlalchemy as sa

    from app import erasure
    from handoff import media
    from monitoring import schema as monitoring_schema
    from monitoring.events import Turn
    from monitoring.store import MonitoringStore

    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    media.get_settings.cache_clear()
    media.get_media_store.cache_clear()
    monkeypatch.setattr(erasure, "_hooks", [])
    try:
        files = media.get_media_store(url)
        with files.spool("image/jpeg", 200) as spool:
            spool.write(b"\xff\xd8\xff\xe0" + b"\x00" * 196)
            spool.finish()
            photo = files.add(spool, person="person-b", ticket_id=1)
        monitoring = MonitoringStore(url)
        turn = Turn(
            at=1_765_000_000.0,
            channel="telegram",
            language="it",
            intent="greet",
            service=None,
            faq=None,
            comune=None,
            province=None,
            outcome="answered",
            low_confidence=False,
            out_of_hours=False,
            text="",
        )
        monitoring.record("person-b", turn)
        monitoring.record("person-c", turn)

        store = ErasingSQLTrackerStore(domain=Domain.empty(), host=url)
        tracker = DialogueStateTracker.from_events(
            "person-b", [UserUttered("cancella"), ActionExecuted("action_delete_my_data")]
        )
        await store.save(tracker)

        assert not files.path(photo).exists()
        with monitoring.engine.connect() as conn:
            rows = conn.execute(sa.select(sa.func.count()).select_from(monitoring_schema.turns))
            assert rows.scalar() == 1  # person-c's turn stays
    finally:
        media.get_media_store.cache_clear()
        media.get_settings.cache_clear()
