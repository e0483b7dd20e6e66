"""The shipped knowledge content, checked from the YAML files alone.

These tests guard what a person relies on: that every province has somewhere to go for
each service, that a town name the bot shows is a real comune, and that no phone number,
address or opening hour appears without the page it came from.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from bot import territory
from bot.kb.vocabulary import OFFICE_KINDS, SERVICES, TIER1, WEEKDAYS

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
OFFICES_DIR = KNOWLEDGE / "offices"
PROVINCE_FILES = {"ba": "BA", "bt": "BT", "br": "BR", "fg": "FG", "le": "LE", "ta": "TA"}

SERVICE_KEYS = set(SERVICES) - {"emergency"}
# The report must show offices in every province for these (issue 3).
CORE_SERVICES = [
    "residence_permit",
    "health_care",
    "italian_course",
    "employment",
    "tax_code",
    "residence_registration",
]
# Fields whose value is a fact someone could act on (dial, walk to, arrive at).
SOURCED_FIELDS = ["address", "phone", "email", "pec", "booking_url"]
ID_RE = re.compile(r"^[a-z0-9-]+$")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _load(path: Path):
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _offices() -> list[tuple[str, dict]]:
    return [
        (path.name, office)
        for path in sorted(OFFICES_DIR.glob("*.yml"))
        for office in (_load(path) or {}).get("offices", [])
    ]


def _comune_names() -> set[str]:
    return {c.name for c in territory.comuni()}


def _province_of() -> dict[str, str]:
    return {c.name: c.province for c in territory.comuni()}


def _provinces_served(office: dict) -> set[str]:
    serves = office["serves"]
    if serves.get("region"):
        return set(territory.PROVINCES)
    if "provinces" in serves:
        return set(serves["provinces"])
    province_of = _province_of()
    return {province_of[name] for name in serves.get("comuni", []) if name in province_of}


def test_every_province_has_a_file_and_offices():
    for stem in PROVINCE_FILES:
        offices = (_load(OFFICES_DIR / f"{stem}.yml") or {}).get("offices", [])
        assert offices, f"{stem}.yml has no offices"


@pytest.mark.parametrize("service", CORE_SERVICES)
def test_core_service_has_an_office_in_every_province(service):
    covered = set()
    for _, office in _offices():
        if service in office["services"]:
            covered |= _provinces_served(office)
    missing = set(territory.PROVINCES) - covered
    assert not missing, f"no office for {service} serves {sorted(missing)}"


def test_every_service_reaches_every_province():
    covered: dict[str, set[str]] = defaultdict(set)
    for _, office in _offices():
        for service in office["services"]:
            covered[service] |= _provinces_served(office)
    gaps = {
        service: sorted(set(territory.PROVINCES) - covered[service])
        for service in SERVICE_KEYS
        if set(territory.PROVINCES) - covered[service]
    }
    assert not gaps, f"services without an office for some provinces: {gaps}"


def test_each_capoluogo_has_its_own_anagrafe():
    capoluoghi = {c.name for c in territory.comuni() if c.capoluogo}
    with_anagrafe = {
        name
        for _, office in _offices()
        if office["kind"] == "anagrafe"
        for name in office["serves"].get("comuni", [])
    }
    assert capoluoghi <= with_anagrafe, sorted(capoluoghi - with_anagrafe)


def test_offices_sit_in_their_province_file():
    province_of = _province_of()
    for filename, office in _offices():
        stem = filename.removesuffix(".yml")
        if stem in PROVINCE_FILES:
            assert province_of[office["comune"]] == PROVINCE_FILES[stem], (
                f"{filename}: {office['id']} is in {office['comune']}"
            )


def test_every_comune_and_province_named_is_official():
    names = _comune_names()
    for filename, office in _offices():
        assert office["comune"] in names, f"{filename}: {office['id']}: {office['comune']!r}"
        serves = office["serves"]
        assert len(serves) == 1, f"{filename}: {office['id']}: serves needs exactly one key"
        for name in serves.get("comuni", []):
            assert name in names, f"{filename}: {office['id']}: unknown comune {name!r}"
        for code in serves.get("provinces", []):
            assert code in territory.PROVINCES, f"{filename}: {office['id']}: {code!r}"
        if "region" in serves:
            assert serves["region"] is True


def test_ids_kinds_and_services_are_known_and_unique():
    seen: set[str] = set()
    for filename, office in _offices():
        assert ID_RE.match(office["id"]), f"{filename}: bad id {office['id']!r}"
        assert office["id"] not in seen, f"{filename}: duplicate id {office['id']}"
        seen.add(office["id"])
        where = f"{filename}: {office['id']}"
        assert office["kind"] in OFFICE_KINDS, f"{where}: kind {office['kind']!r}"
        assert office["services"], f"{filename}: {office['id']}: no services"
        assert set(office["services"]) <= SERVICE_KEYS, f"{filename}: {office['id']}"


def test_no_contact_fact_or_hours_without_a_source():
    for filename, office in _offices():
        has_facts = any(office.get(field) for field in SOURCED_FIELDS) or office.get("hours")
        if has_facts or office["verified"]:
            assert str(office.get("source", "")).startswith("http"), (
                f"{filename}: {office['id']} states facts without a source"
            )
        assert isinstance(office["checked"], datetime.date), f"{filename}: {office['id']}"


def test_hours_are_possible_and_do_not_overlap():
    for filename, office in _offices():
        by_day: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for slot in office.get("hours", []):
            assert TIME_RE.match(slot["open"]) and TIME_RE.match(slot["close"]), filename
            assert slot["close"] > slot["open"], f"{filename}: {office['id']}: closes before open"
            for day in slot["days"]:
                assert day in WEEKDAYS, f"{filename}: {office['id']}: day {day!r}"
                by_day[day].append((slot["open"], slot["close"]))
        for day, slots in by_day.items():
            slots.sort()
            for (_, close), (next_open, _) in zip(slots, slots[1:], strict=False):
                assert close <= next_open, f"{filename}: {office['id']}: overlap on {day}"


def test_notes_are_in_every_tier1_language():
    for filename, office in _offices():
        if "notes" in office:
            missing = [lang for lang in TIER1 if not office["notes"].get(lang)]
            assert not missing, f"{filename}: {office['id']}: notes lack {missing}"


def test_services_file_names_every_service_in_tier1():
    services = _load(KNOWLEDGE / "services.yml")["services"]
    assert {s["id"] for s in services} == SERVICE_KEYS | {"emergency"}
    for service in services:
        missing = [lang for lang in TIER1 if not service["name"].get(lang)]
        assert not missing, f"{service['id']} lacks {missing}"


def test_emergency_numbers_are_the_national_ones_with_sources():
    numbers = _load(KNOWLEDGE / "emergency.yml")["numbers"]
    assert {n["number"].replace(" ", "") for n in numbers} == {
        "112",
        "118",
        "1522",
        "800290290",
        "115",
        "114",
    }
    for number in numbers:
        assert number["source"].startswith(("https://", "http://")), number["id"]
        for field in ("label", "when"):
            missing = [lang for lang in TIER1 if not number[field].get(lang)]
            assert not missing, f"{number['id']}.{field} lacks {missing}"
