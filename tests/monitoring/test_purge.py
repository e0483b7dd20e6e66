"""The retention purge removes what is past retention and nothing else."""

from __future__ import annotations

import datetime as dt
import time

import sqlalchemy as sa

from handoff import schema as handoff
from handoff.db import migrate
from monitoring import queries, schema
from monitoring.events import ROME
from monitoring.purge import purge
from monitoring.store import MonitoringStore
from tests.monitoring.factory import turn

DAY = 24 * 3600
NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=ROME).timestamp()
OLD = NOW - 100 * DAY  # 2026-08-29: past 90 days
RECENT = NOW - 10 * DAY


def ticket(conn, person: str, opened: float, closed: float | None, rating: int | None) -> int:
    result = conn.execute(
        handoff.tickets.insert().values(
            person=person,
            channel="telegram",
            language="ar",
            topic="asylum",
            province="BA",
            reason="request",
            priority=0,
            status="closed" if closed else "waiting",
            opened_at=opened,
            claimed_at=opened + 600 if closed else None,
            closed_at=closed,
            rating=rating,
        )
    )
    ticket_id = result.inserted_primary_key[0]
    conn.execute(
        handoff.messages.insert().values(
            ticket_id=ticket_id, at=opened, author="person", text="help"
        )
    )
    conn.execute(handoff.events.insert().values(ticket_id=ticket_id, at=opened, kind="opened"))
    return ticket_id


def test_purge_deletes_what_is_past_retention_and_keeps_the_aggregates(tmp_path):
    url = f"sqlite:///{tmp_path / 'all.db'}"
    migrate(url).dispose()
    store = MonitoringStore(url)
    rasa_events = sa.Table(
        "events",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(255)),
        sa.Column("timestamp", sa.Float),
    )
    rasa_events.create(store.engine)
    with store.engine.begin() as conn:
        conn.execute(
            rasa_events.insert(),
            [{"sender_id": "old", "timestamp": OLD}, {"sender_id": "new", "timestamp": RECENT}],
        )
        old_ticket = ticket(conn, "wa-old", OLD, OLD + 3600, 4)
        new_ticket = ticket(conn, "wa-new", RECENT, RECENT + 3600, 5)
        open_ticket = ticket(conn, "wa-open", OLD, None, None)
    for index in range(5):
        store.record(f"old{index}", turn(at=OLD, outcome="fallback", text="old question"))
        store.record(f"new{index}", turn(at=RECENT, outcome="fallback", text="new question"))
    old_person = store.person("old0", OLD)

    counts = purge(store, 90, now=NOW)

    with store.engine.connect() as conn:
        assert conn.execute(sa.select(rasa_events.c.sender_id)).scalars().all() == ["new"]
        assert set(conn.execute(sa.select(handoff.tickets.c.id)).scalars()) == {
            new_ticket,
            open_ticket,
        }
        # Transcript lines past retention go, even of a ticket still open.
        assert set(conn.execute(sa.select(handoff.messages.c.ticket_id)).scalars()) == {new_ticket}
        assert (
            conn.execute(sa.select(handoff.events.c.ticket_id)).scalars().all().count(old_ticket)
            == 0
        )
        assert (
            conn.execute(sa.select(schema.unanswered.c.text)).scalars().all()
            == ["new question"] * 5
        )
        months = set(conn.execute(sa.select(schema.keys.c.month)).scalars())
        facts = set(conn.execute(sa.select(schema.tickets.c.ticket_id)).scalars())
        kept_turns = conn.execute(sa.select(sa.func.count()).select_from(schema.turns)).scalar()
    assert months == {"2026-11"}  # August's key is gone; November (recent) stays
    assert facts == {old_ticket, new_ticket, open_ticket}  # the ticket's figures outlive it
    assert kept_turns == 10
    assert counts["conversation_events"] == 1 and counts["queue_texts"] == 5

    # August's rows still count, but the person can no longer be found from the sender id.
    august = queries.summary(store.engine, dt.date(2026, 8, 1), dt.date(2026, 8, 31))
    assert august["people"] == 5
    assert store.person("old0", OLD) != old_person
    store.engine.dispose()


def test_purge_with_nothing_old_deletes_nothing(store):
    store.record("someone", turn(at=time.time(), outcome="fallback", text="hello?"))
    counts = purge(store, 90)
    assert counts["queue_texts"] == 0 and counts["month_keys"] == 0
