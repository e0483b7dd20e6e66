"""The dashboard's JSON and page: the desk's access rule, the same figures, bad input refused."""

from __future__ import annotations

from monitoring.schema import FALLBACK
from tests.monitoring.factory import people
from tests.monitoring.served import dashboard, get

PERIOD = "from=2026-11-01&to=2026-11-30"
FORWARDED = {"X-Forwarded-For": "203.0.113.9"}  # as a reverse proxy sends it: not local


def seed(store):
    people(store, 6, "a", province="BA", language="ar", service="asylum")
    people(
        store,
        5,
        "b",
        province="LE",
        language="it",
        service="tax_code",
        outcome=FALLBACK,
        text="il mio numero è 3331234567, come faccio?",
    )


def test_summary_from_this_machine_without_token(store):
    seed(store)
    with dashboard(store) as url:
        status, figures = get(f"{url}api/summary?{PERIOD}")
        assert status == 200
        assert (figures["people"], figures["turns"], figures["conversations"]) == (11, 11, 11)
        assert {r["value"]: r["share"] for r in figures["outcomes"]["rows"]} == {
            "answered": 0.545,
            "fallback": 0.455,
        }
        status, lecce = get(f"{url}api/summary?{PERIOD}&province=LE")
        assert lecce["people"] == 5 and lecce["services"]["rows"][0]["value"] == "tax_code"
        status, view = get(f"{url}api/view?{PERIOD}")
        assert status == 200 and "<svg" in view and 'id="people">11<' in view
        status, queue = get(f"{url}api/unanswered?{PERIOD}")
        assert [g["questions"] for g in queue["groups"]] == [5]
        assert "3331234567" not in str(queue) and "[phone]" in str(queue)
        status, rows = get(f"{url}api/indicators?month=2026-11")
        assert {(r["province"], r["people"]) for r in rows["rows"]} == {("BA", 6), ("LE", 5)}


def test_from_elsewhere_the_desk_token_is_required(store):
    seed(store)
    with dashboard(store, token="s3cret") as url:
        status, answer = get(f"{url}api/summary?{PERIOD}", FORWARDED)
        assert (status, answer["error"]) == (401, "token_required")
        status, answer = get(
            f"{url}api/unanswered?{PERIOD}", {**FORWARDED, "Authorization": "Bearer wrong"}
        )
        assert (status, answer["error"]) == (403, "bad_token")
        status, answer = get(
            f"{url}api/summary?{PERIOD}", {**FORWARDED, "Authorization": "Bearer s3cret"}
        )
        assert status == 200 and answer["people"] == 11
        status, page = get(url, FORWARDED)  # the page itself holds no figures
        assert status == 200 and "<svg" not in page and 'fetch("api/"' in page


def test_without_a_desk_token_nobody_elsewhere_gets_in(store):
    with dashboard(store) as url:
        status, answer = get(f"{url}api/summary", FORWARDED)
        assert status == 403


def test_bad_parameters_are_400(store):
    with dashboard(store) as url:
        for query in (
            "from=2026-11-31",
            "from=2026-12-01&to=2026-11-01",
            "province=XX",
            "from=2025-01-01&to=2026-11-01",
        ):
            status, answer = get(f"{url}api/summary?{query}")
            assert status == 400, query
        status, answer = get(f"{url}api/indicators?month=nope")
        assert (status, answer["error"]) == (400, "bad_month")
