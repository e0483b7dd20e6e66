"""The errors issue 15 found in the shipped content stay corrected.

Each test is one item of the issue's list, checked on what a person reads (the Italian text of
the procedures, which every translation follows, and the office records), so that a later edit
or a translation round cannot bring a harmful fact back: a deadline read backwards, a wrong fee,
documents that are alternatives presented as all required, the wrong office certifying a home,
an address the office left in 2015.
"""

from __future__ import annotations

import re
from functools import cache

import yaml

from bot.settings import PROJECT_ROOT

KNOWLEDGE = PROJECT_ROOT / "knowledge"


@cache
def _records(folder: str, key: str) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for path in sorted((KNOWLEDGE / folder).glob("*.yml")):
        for record in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get(key, []):
            found[record["id"]] = record
    return found


def _procedure(ident: str) -> dict:
    return _records("procedures", "procedures")[ident]


def _office(ident: str) -> dict:
    return _records("offices", "offices")[ident]


def _italian(procedure: dict) -> str:
    parts = [procedure["summary"]["it"]]
    parts += [text["it"] for text in procedure["steps"] + procedure["documents"]]
    return "\n".join(parts)


def _every_text(record: dict) -> list[str]:
    texts: list[str] = []
    for name in ("title", "summary", "answer", "notes"):
        texts += list(record.get(name, {}).values())
    for name in ("steps", "documents"):
        for item in record.get(name, []):
            texts += list(item.values())
    return texts


def test_renewal_is_asked_at_least_60_days_before_expiry() -> None:
    text = _italian(_procedure("residence-permit-renewal"))
    assert "almeno 60 giorni prima" in text
    # 60 days after expiry is where expulsion starts, not a deadline to aim for.
    assert re.search(r"più di 60 giorni.{0,40}scadenza.{0,80}espuls", text, re.S)
    for record in _records("procedures", "procedures").values():
        for wrong in ("nei 60 giorni prima", "in the 60 days before", "within 60 days before"):
            assert not any(wrong in t for t in _every_text(record)), (record["id"], wrong)


def test_renewal_names_the_kit_papers_and_the_receipt() -> None:
    text = _italian(_procedure("residence-permit-renewal"))
    for needed in ("Modulo 1", "fotocopia", "fototessere", "cedolino"):
        assert needed in text, needed


def test_renewal_fees_are_the_official_ones_and_100_46_is_gone() -> None:
    text = _italian(_procedure("residence-permit-renewal"))
    for amount in ("16 euro", "30 euro", "70,46", "80,46", "130,46", "30,46"):
        assert amount in text, amount
    for folder, key in (("procedures", "procedures"), ("faq", "faq")):
        for record in _records(folder, key).values():
            assert not any(re.search(r"100[.,]46", t) for t in _every_text(record)), record["id"]


def test_tax_code_from_the_questura_too_with_form_aa4_8_and_one_document() -> None:
    text = _italian(_procedure("tax-code-request"))
    assert "la Questura" in text and "asilo" in text
    assert "AA4/8" in text
    assert "Uno solo di questi documenti" in text and "non servono tutti" in text


def test_housing_suitability_comes_from_the_comune_with_its_exceptions() -> None:
    for ident in ("family-reunification-requirements", "family-reunification-nulla-osta"):
        text = _italian(_procedure(ident))
        assert "idoneità alloggiativa" in text
        assert re.search(r"rilascia(to)? (dal|il) Comune", text), ident
        # The ASL appears only to say it is not the one that certifies.
        assert all(
            "non l'ASL" in s or "non dall'ASL" in s for s in text.splitlines() if "ASL" in s
        ), ident
    text = _italian(_procedure("family-reunification-requirements"))
    assert "protezione internazionale non deve dimostrare né casa né reddito" in text
    assert "un solo figlio con meno di 14 anni" in text and "consenso del titolare" in text
    assert "due o più figli con meno di 14 anni serve almeno il doppio dell'assegno sociale" in (
        text
    )


def test_stp_is_not_for_people_legally_present_and_nobody_reports_them() -> None:
    text = _italian(_procedure("health-stp-code"))
    assert "chi ha un permesso di soggiorno o un visto valido non lo riceve" in text
    assert "Non vieni segnalato alla polizia" in text
    assert "la legge obbliga il medico a" in text  # the one exception, said as it is


def test_the_bari_commissione_receives_applicants_only_when_called() -> None:
    office = _office("commissione-territoriale-bari")
    assert not office.get("hours"), "counter hours would say 'open now' to an applicant"
    assert "solo su convocazione" in office["notes"]["it"]


def test_the_agenzia_delle_entrate_in_brindisi_is_in_via_tor_pisana() -> None:
    office = _office("agenzia-entrate-brindisi")
    assert office["address"] == "Via Tor Pisana 108, Brindisi"
    assert "Nazario Sauro" not in str(office)
