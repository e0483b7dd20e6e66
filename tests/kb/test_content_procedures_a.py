"""Content checks for the procedures of six services (issue 3, part A).

They read the YAML files themselves, so they hold whether or not the loader exists yet: a person
asking about one of these services must get steps and a checklist in every Tier-1 language.
"""

from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.kb import vocabulary
from bot.kb.vocabulary import TIER1, TIER2

PROCEDURES = Path(__file__).resolve().parents[2] / "knowledge" / "procedures"
SERVICES = [
    "residence_permit",
    "asylum",
    "family_reunification",
    "citizenship",
    "residence_registration",
    "tax_code",
]
OFFICE_KINDS = set(vocabulary.OFFICE_KINDS)
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


def _procedures(service):
    with open(PROCEDURES / f"{service}.yml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)["procedures"]


def _texts(proc):
    yield "title", proc["title"]
    yield "summary", proc["summary"]
    for i, step in enumerate(proc["steps"], 1):
        yield f"step {i}", step
    for i, doc in enumerate(proc["documents"], 1):
        yield f"document {i}", doc


@pytest.mark.parametrize("service", SERVICES)
def test_service_has_usable_procedure(service):
    procs = _procedures(service)
    assert procs, f"{service}: no procedures"
    assert any(len(p["steps"]) >= 3 and len(p["documents"]) >= 2 for p in procs)
    for p in procs:
        assert set(p) == RECORD_KEYS, p["id"]
        assert p["service"] == service, p["id"]
        assert 3 <= len(p["steps"]) <= 7, p["id"]
        assert 2 <= len(p["documents"]) <= 8, p["id"]
        assert p["office_kinds"] and set(p["office_kinds"]) <= OFFICE_KINDS, p["id"]
        assert p["source"].startswith(("http://", "https://")), p["id"]
        assert isinstance(p["checked"], date), p["id"]
        assert isinstance(p["verified"], bool), p["id"]


@pytest.mark.parametrize("service", SERVICES)
def test_every_text_has_all_tier1_languages(service):
    missing = []
    for p in _procedures(service):
        for name, text in _texts(p):
            for lang in TIER1:
                value = text.get(lang)
                if not (isinstance(value, str) and value.strip()):
                    missing.append(f"{p['id']} {name} {lang}")
            unknown = set(text) - set(TIER1) - set(TIER2)
            assert not unknown, f"{p['id']} {name}: unknown languages {unknown}"
        for name in ("title", "summary"):
            missing += [f"{p['id']} {name} {lang}" for lang in TIER2 if lang not in p[name]]
    assert not missing, missing


def test_translations_differ_from_italian():
    """A copy of the Italian text under another key would pass the key check but help nobody."""
    copies = []
    for service in SERVICES:
        for p in _procedures(service):
            for name, text in _texts(p):
                copies += [
                    f"{p['id']} {name} {lang}"
                    for lang in TIER1[1:]
                    if text[lang] == text["it"] and len(text["it"]) > 25
                ]
    assert not copies, copies


def test_ids_are_unique_and_well_formed():
    ids = [p["id"] for service in SERVICES for p in _procedures(service)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for pid in ids:
        assert pid == pid.lower() and all(c.isalnum() or c == "-" for c in pid), pid
