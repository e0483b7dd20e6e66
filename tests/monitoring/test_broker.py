"""The event broker records one text-free row per turn, in the order Rasa publishes events."""

from __future__ import annotations

import sqlalchemy as sa

from monitoring import schema
from monitoring.broker import MonitoringEventBroker
from tests.monitoring.factory import action, bot, slot, user


def publish(broker: MonitoringEventBroker, sender: str, events: list[dict]) -> None:
    for event in events:
        broker.publish({"sender_id": sender, **event})


async def test_each_turn_becomes_one_row_without_text_and_carries_the_conversation(store):
    broker = MonitoringEventBroker(store)
    publish(
        broker,
        "tg-abc",
        [
            action("action_session_start"),
            {"event": "session_started"},
            action("action_listen"),
            user("bonjour, code fiscal à Lecce", "ask_tax_code", language="fr"),
            slot("language", "fr"),
            slot("city", "Lecce"),
            slot("service", "tax_code"),
            bot("utter_answer_office"),
            action("action_listen"),
            user("mon email est a.b@example.org, appelez le +39 333 123 4567", "nlu_fallback", 0.2),
            action("action_handle_fallback"),
            bot("utter_fallback_rephrase"),
            action("action_listen"),
        ],
    )
    broker.flush()
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(schema.turns).order_by(schema.turns.c.id)).mappings().all()
        queue = conn.execute(sa.select(schema.unanswered)).mappings().all()
    assert [(r["language"], r["province"], r["service"], r["outcome"]) for r in rows] == [
        ("fr", "LE", "tax_code", "answered"),
        ("fr", "LE", None, "fallback"),
    ]
    assert rows[0]["person"] == rows[1]["person"] != "tg-abc"
    assert all("example" not in str(dict(r)) and "333" not in str(dict(r)) for r in rows)
    assert len(queue) == 1
    assert queue[0]["text"] == "mon email est [email], appelez le [phone]"
    assert "tg-abc" not in str(dict(queue[0]))
    await broker.close()


async def test_a_database_error_never_reaches_rasa(store, caplog):
    broker = MonitoringEventBroker(store)
    store.engine.dispose()
    with store.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE monitoring_turns"))
    publish(broker, "wa-x", [user("hi", "greet"), action("action_listen")])
    broker.flush()
    assert "could not record a turn" in caplog.text
    await broker.close()


def test_forget_removes_a_persons_rows_and_no_one_elses(store):
    from monitoring.schema import FALLBACK
    from tests.monitoring.factory import turn

    store.record("wa-leaving", turn(outcome=FALLBACK, text="my question"))
    store.record("wa-staying", turn(outcome=FALLBACK, text="other question"))
    assert store.forget("wa-leaving") == 2
    with store.engine.connect() as conn:
        texts = conn.execute(sa.select(schema.unanswered.c.text)).scalars().all()
        turns = conn.execute(sa.select(sa.func.count()).select_from(schema.turns)).scalar()
    assert (texts, turns) == (["other question"], 1)


async def test_a_database_down_at_start_delays_the_monitoring_not_rasa(tmp_path, caplog):
    from monitoring.broker import MonitoringEventBroker as Broker

    broker = await Broker.from_endpoint_config(
        type("Config", (), {"url": "postgresql://nobody@127.0.0.1:1/none"})()
    )
    publish(broker, "wa-x", [user("hi", "greet"), action("action_listen")])
    broker.flush()
    assert "could not record a turn" in caplog.text
    await broker.close()
