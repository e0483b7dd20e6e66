"""``bot report monthly``: the CSVs and the PNG, with small cells left out."""

from __future__ import annotations

import csv
import datetime as dt

from app.cli import main
from handoff import schema as handoff
from handoff.db import migrate
from monitoring.events import ROME
from monitoring.store import MonitoringStore
from tests.monitoring.factory import people

NOV = dt.datetime(2026, 11, 10, 10, 0, tzinfo=ROME).timestamp()
OCT = dt.datetime(2026, 10, 10, 10, 0, tzinfo=ROME).timestamp()


def test_monthly_report_writes_indicators_handoff_and_a_png(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    migrate(url).dispose()
    store = MonitoringStore(url)
    people(store, 6, "a", province="BA", language="ar", service="asylum", at=NOV)
    people(store, 3, "b", province="FG", language="en", service="employment", at=NOV)
    people(store, 7, "c", province="BA", language="ar", service="asylum", at=OCT)
    with store.engine.begin() as conn:
        for index in range(5):
            conn.execute(
                handoff.tickets.insert().values(
                    person=f"a{index}",
                    channel="telegram",
                    language="ar",
                    topic="asylum",
                    province="BA",
                    reason="request",
                    priority=0,
                    status="closed",
                    opened_at=NOV,
                    claimed_at=NOV + 60 * (index + 1),
                    closed_at=NOV + 3600,
                    rating=5,
                )
            )
    store.engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    from bot.settings import get_settings

    get_settings.cache_clear()
    try:
        assert main(["report", "monthly", "--month", "2026-11", "--out", str(tmp_path)]) == 0
    finally:
        get_settings.cache_clear()

    with (tmp_path / "indicators-2026-11.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [
        {
            "month": "2026-11",
            "province": "BA",
            "language": "ar",
            "service": "asylum",
            "people": "6",
            "turns": "6",
            "answered": "6",
            "fallback": "",
            "handover": "",
        }
    ]
    with (tmp_path / "handoff-2026-11.csv").open() as handle:
        handoff_rows = {r["province"]: r for r in csv.DictReader(handle)}
    assert handoff_rows["all"]["tickets"] == "5"
    assert handoff_rows["all"]["wait_p50_minutes"] == "3.0"
    assert handoff_rows["all"]["wait_p90_minutes"] == "4.6"
    assert handoff_rows["all"]["mean_rating"] == "5.0"
    assert handoff_rows["all"]["close_p50_minutes"] == "60.0"
    assert handoff_rows["FG"]["tickets"] == ""  # none there: hidden like any cell under 5
    assert (tmp_path / "summary-2026-11.png").read_bytes()[:4] == b"\x89PNG"


def test_a_month_that_is_not_one_is_refused(capsys):
    assert main(["report", "monthly", "--month", "2026-13"]) == 2
    assert "YYYY-MM" in capsys.readouterr().err
