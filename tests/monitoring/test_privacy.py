"""Scrubbing texts, and hiding every figure of fewer than five people."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from monitoring import queries
from monitoring.privacy import scrub
from monitoring.schema import FALLBACK, HANDOVER
from tests.monitoring.factory import people, turn

DAY = dt.date(2026, 11, 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("chiamami al 333 123 4567 o +39 (080) 555-1234", "chiamami al [phone] o [phone]"),
        ("scrivi a mario.rossi@gmail.com", "scrivi a [email]"),
        ("il mio codice fiscale è RSSMRA85T10A662S", "il mio codice fiscale è [document]"),
        ("passport YA1234567, permesso n. 0123456789", "passport [document], permesso n. [phone]"),
        ("my name is Ahmed Khan and I need help", "my name is [name] and I need help"),
        ("mi chiamo fatima, aiuto", "mi chiamo [name], aiuto"),
        ("Sara told me to write", "[name] told me to write"),
        ("rinnovo permesso dopo 60 giorni nel 2026", "rinnovo permesso dopo 60 giorni nel 2026"),
    ],
)
def test_scrub_removes_contacts_documents_and_known_names(text, expected):
    assert scrub(text, names=["Sara"]) == expected


def test_cells_of_fewer_than_five_people_are_hidden_everywhere(store):
    people(store, 5, "ba", province="BA", language="it", service="tax_code")
    people(store, 4, "le", province="LE", language="ar", service="asylum")
    # Four people fell back in Bari: the share is a figure of four people.
    people(store, 4, "fb", province="BA", language="it", service="tax_code", outcome=FALLBACK)
    figures = queries.summary(store.engine, DAY, DAY)
    assert figures["people"] == 13
    assert {r["value"]: r["people"] for r in figures["provinces"]["rows"]} == {"BA": 9}
    assert figures["provinces"]["hidden_cells"] == 1
    assert [r["value"] for r in figures["languages"]["rows"]] == ["it"]
    assert [r["value"] for r in figures["services"]["rows"]] == ["tax_code"]
    assert [r["value"] for r in figures["outcomes"]["rows"]] == ["answered"]
    lecce = queries.summary(store.engine, DAY, DAY, "LE")
    assert (lecce["people"], lecce["turns"], lecce["conversations"]) == (None, None, None)
    assert all(w["people"] is None and w["turns"] is None for w in lecce["weeks"])

    rows = queries.indicators(store.engine, DAY, DAY)
    assert [(r["province"], r["people"], r["answered"], r["fallback"]) for r in rows] == [
        ("BA", 9, 5, None)
    ]


def test_five_people_are_shown(store):
    people(store, 5, "h", outcome=HANDOVER)
    figures = queries.summary(store.engine, DAY, DAY)
    assert figures["outcomes"]["rows"] == [
        {"value": "handover", "turns": 5, "people": 5, "share": 1.0}
    ]


def test_one_person_writing_many_times_is_still_one_person(store):
    for _ in range(10):
        store.record("same-person", turn())
    figures = queries.summary(store.engine, DAY, DAY)
    assert figures["turns"] is None and figures["people"] is None


def test_finished_months_read_from_rollups_give_the_same_figures_as_the_turns(store):
    from monitoring.events import ROME

    for month, day in ((9, 30), (10, 15), (11, 3), (12, 1)):
        at = dt.datetime(2026, month, day, 20, 0, tzinfo=ROME).timestamp()
        people(store, 6, f"m{month}", at=at, province="BR", language="ro")
        people(store, 3, f"x{month}", at=at, province="FG", outcome=FALLBACK)
    start, end = dt.date(2026, 9, 20), dt.date(2026, 12, 5)
    raw = queries.summary(store.engine, start, end, today=dt.date(2026, 9, 1))
    rolled = queries.summary(store.engine, start, end, today=dt.date(2026, 12, 7))
    with store.engine.connect() as conn:
        months = set(
            conn.execute(sa.text("SELECT DISTINCT month FROM monitoring_monthly")).scalars()
        )
    assert months == {"2026-10", "2026-11"}
    assert rolled == raw
    assert raw["people"] == 36 and raw["provinces"]["rows"][0] == {
        "value": "BR",
        "turns": 24,
        "people": 24,
    }
    brindisi = queries.summary(store.engine, start, end, "BR", today=dt.date(2026, 12, 7))
    assert brindisi["people"] == 24 and brindisi["outcomes"]["rows"][0]["share"] == 1.0
