"""Content checks for the procedures of six services (health care, Italian courses, school,
employment, housing, legal aid).

These read the shipped YAML directly, so they hold even before the loader exists: a person asking
about one of these services must get at least one procedure with real steps and a checklist, in
every Tier-1 language, and no id may collide with another record's.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.kb.vocabulary import OFFICE_KINDS, TIER1, TIER2

PROCEDURES = Path(__file__).resolve().parents[2] / "knowledge" / "procedures"
SERVICES = (
    "health_care",
    "italian_course",
    "school_enrollment",
    "employment",
    "housing",
    "legal_aid",
)
RECORD_KEYS = {
    "id",
    "service",
    "title",
    "summary",
    "office_kinds",
    "steps",
    "documents",
    "source",
    "checked",
    "verified",
}
ID_PATTERN = re.compile(r"^[a-z0-9-]+$")


def _records(service: str) -> list[dict]:
    with (PROCEDURES / f"{service}.yml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["procedures"]


def _texts(record: dict) -> list[tuple[str, dict]]:
    texts = [("title", record["title"]), ("summary", record["summary"])]
    texts += [(f"steps[{i}]", step) for i, step in enumerate(record["steps"])]
    texts += [(f"documents[{i}]", doc) for i, doc in enumerate(record["documents"])]
    return texts


@pytest.mark.parametrize("service", SERVICES)
def test_service_has_a_usable_procedure(service: str) -> None:
    records = _records(service)
    assert records, f"{service}: no procedure"
    usable = [r for r in records if len(r["steps"]) >= 3 and len(r["documents"]) >= 2]
    assert usable, f"{service}: no procedure with >= 3 steps and >= 2 documents"


@pytest.mark.parametrize("service", SERVICES)
def test_records_follow_the_contract(service: str) -> None:
    for record in _records(service):
        where = f"{service}/{record.get('id')}"
        assert set(record) == RECORD_KEYS, f"{where}: keys {sorted(set(record) ^ RECORD_KEYS)}"
        assert record["service"] == service, where
        assert ID_PATTERN.match(record["id"]), where
        assert record["office_kinds"] and set(record["office_kinds"]) <= set(OFFICE_KINDS), where
        assert 3 <= len(record["steps"]) <= 7, f"{where}: {len(record['steps'])} steps"
        assert 2 <= len(record["documents"]) <= 8, f"{where}: {len(record['documents'])} docs"
        assert record["source"].startswith(("http://", "https://")), where
        assert isinstance(record["checked"], date), where
        assert isinstance(record["verified"], bool), where


@pytest.mark.parametrize("service", SERVICES)
def test_every_text_is_in_every_tier1_language(service: str) -> None:
    for record in _records(service):
        for name, text in _texts(record):
            where = f"{service}/{record['id']}/{name}"
            missing = [code for code in TIER1 if not str(text.get(code) or "").strip()]
            assert not missing, f"{where}: missing {missing}"
            unknown = set(text) - set(TIER1) - set(TIER2)
            assert not unknown, f"{where}: unknown languages {sorted(unknown)}"


@pytest.mark.parametrize("service", SERVICES)
def test_title_and_summary_reach_tier2(service: str) -> None:
    for record in _records(service):
        for name in ("title", "summary"):
            missing = [code for code in TIER2 if not str(record[name].get(code) or "").strip()]
            assert not missing, f"{service}/{record['id']}/{name}: missing {missing}"


def test_ids_are_unique_across_all_procedure_files() -> None:
    seen: dict[str, str] = {}
    for path in sorted(PROCEDURES.glob("*.yml")):
        with path.open(encoding="utf-8") as handle:
            for record in (yaml.safe_load(handle) or {}).get("procedures") or []:
                first = seen.get(record["id"])
                assert first is None, f"{record['id']} in both {first} and {path.name}"
                seen[record["id"]] = path.name
