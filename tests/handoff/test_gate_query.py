"""The gate asks one query per message of a person who is not in hand-off (issue #17, part 5).

Every message on every channel passes ``handoff.gate.intercept``; these tests count the SQL
statements it sends (an engine listener) on both databases and check that the one query still
tells the three cases apart: not in hand-off, in hand-off, owed a rating.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from sqlalchemy import event

from handoff.gate import Runtime, intercept
from handoff.relay import Relay
from handoff.service import Handoff
from handoff.store import HandoffStore
from tests.handoff.helpers import settings_for

NO_APP = SimpleNamespace(ctx=None)  # no agent: the gate never needs NLU out of a hand-off


@contextmanager
def statements(store: HandoffStore) -> Iterator[list[str]]:
    """The SQL statements run on ``store``'s engine inside the block."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    engine = store.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def runtime(store: HandoffStore, db_url: str) -> Iterator[Runtime]:
    handoff = Handoff(store, settings_for(db_url))
    yield Runtime(handoff, Relay(handoff))


async def test_a_person_not_in_hand_off_costs_one_query(runtime, store):
    with statements(store) as seen:
        for text in ("ciao", "il mio permesso è scaduto", "3", ""):
            assert (
                await intercept(NO_APP, "p-free", "whatsapp", text, None, runtime=runtime) is False
            )
    assert len(seen) == 4, seen  # one SELECT per message, whatever the message reads as
    assert all(s.lstrip().upper().startswith("SELECT") for s in seen)


async def test_the_one_query_still_finds_the_open_ticket(runtime, store):
    handoff = runtime.handoff
    amina = store.mediators.add("Amina", ["en"], telegram_user_id="111")
    handoff.claim(handoff.request("p-in", "whatsapp", "en").ticket.id, amina)
    assert await intercept(NO_APP, "p-in", "whatsapp", "are you there?", "k1", runtime=runtime)
    lines = [m.text for m in store.transcripts.messages(store.tickets.open_for("p-in").id)]
    assert "are you there?" in lines
    await runtime.relay.stop()


async def test_the_one_query_still_finds_the_rating_owed(runtime, store):
    handoff = runtime.handoff
    amina = store.mediators.add("Amina", ["en"], telegram_user_id="111")
    ticket = handoff.request("p-rate", "whatsapp", "en").ticket
    handoff.claim(ticket.id, amina)
    handoff.close(ticket.id, amina)
    assert await intercept(NO_APP, "p-rate", "whatsapp", "5", "k2", runtime=runtime) is True
    assert store.tickets.get(ticket.id).rating == 5
    # Rated: the next "5" is an ordinary message again, for the bot, after one query.
    with statements(store) as seen:
        assert await intercept(NO_APP, "p-rate", "whatsapp", "5", "k3", runtime=runtime) is False
    assert len(seen) == 1
    await runtime.relay.stop()


async def test_writing_something_else_stops_the_wait_for_a_rating(runtime, store):
    handoff = runtime.handoff
    amina = store.mediators.add("Amina", ["en"], telegram_user_id="111")
    ticket = handoff.request("p-skip", "whatsapp", "en").ticket
    handoff.claim(ticket.id, amina)
    handoff.close(ticket.id, amina)
    assert await intercept(NO_APP, "p-skip", "whatsapp", "thanks!", "k4", runtime=runtime) is False
    assert store.tickets.standing("p-skip").idle
    assert store.tickets.get(ticket.id).rating is None
    await runtime.relay.stop()
