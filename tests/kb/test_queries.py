"""The KnowledgeBase answers the questions a person asks, for the town they live in."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.kb.load import load
from bot.kb.queries import KnowledgeBase


def istat(kb: KnowledgeBase, name: str) -> str:
    found = kb.find_comune(name)
    assert found is not None, name
    return found.istat


@pytest.mark.parametrize(
    ("typed", "official"),
    [
        ("Nardò", "Nardò"),
        ("Nardo", "Nardò"),
        ("NARDÒ", "Nardò"),
        ("nardo'", "Nardò"),
        ("  san severo! ", "San Severo"),
        ("SAN-SEVERO", "San Severo"),
        ("Фоджа", "Foggia"),
        ("فودجا", "Foggia"),
        ("Нардо", "Nardò"),
        ("fogia", "Foggia"),
        ("Barletta", "Barletta"),
    ],
)
def test_find_comune_as_people_type_it(kb: KnowledgeBase, typed: str, official: str) -> None:
    found = kb.find_comune(typed)
    assert found is not None and found.name == official


def test_find_comune_does_not_guess(kb: KnowledgeBase) -> None:
    assert kb.find_comune("Milano") is None
    assert kb.find_comune("Bar") is None
    assert kb.find_comune("") is None


def test_comune_carries_its_province(kb: KnowledgeBase) -> None:
    andria = kb.find_comune("andria")
    assert (andria.province, andria.province_name, andria.capoluogo) == (
        "BT",
        "Barletta-Andria-Trani",
        True,
    )
    assert len(kb.comuni()) == 257


def test_san_severo_nardo_andria_resolve_to_their_questura(kb: KnowledgeBase) -> None:
    san_severo = kb.office_for("residence_permit", istat(kb, "San Severo"))
    nardo = kb.office_for("residence_permit", istat(kb, "Nardò"))
    andria = kb.office_for("residence_permit", istat(kb, "Andria"))
    assert (san_severo.id, san_severo.match) == ("questura-foggia", "province")
    assert (nardo.id, nardo.comune_name) == ("questura-lecce", "Lecce")
    assert (andria.id, andria.province) == ("questura-bat", "BT")


def test_the_preferred_kind_wins_over_a_nearer_office(kb: KnowledgeBase) -> None:
    # The procedure prefers the Questura; a patronato in Modugno must not hide it...
    assert kb.office_for("residence_permit", istat(kb, "Modugno")).id == "questura-bari"
    # ...but can be asked for by kind, and is found at comune level.
    patronato = kb.office_for("residence_permit", istat(kb, "Modugno"), kind="patronato")
    assert (patronato.id, patronato.match) == ("patronato-modugno", "comune")
    assert kb.office_for("residence_permit", istat(kb, "Bitonto"), kind="patronato") is None


def test_fallback_reaches_the_region(kb: KnowledgeBase) -> None:
    taranto = istat(kb, "Taranto")
    office = kb.office_for("residence_permit", taranto, kind="commissione_territoriale")
    assert (office.id, office.match) == ("commissione-bari", "region")
    # No Questura listed for Taranto in the fixture: the regional office is what is known.
    assert kb.office_for("residence_permit", istat(kb, "Taranto")).id == "commissione-bari"


def test_comune_level_office(kb: KnowledgeBase) -> None:
    bari = kb.office_for("residence_registration", istat(kb, "Bari"))
    assert (bari.id, bari.match) == ("anagrafe-bari", "comune")
    assert kb.office_for("residence_registration", istat(kb, "Bitonto")) is None


def test_office_details(kb: KnowledgeBase) -> None:
    office = kb.office("questura-bari")
    assert office.address == "Via Giuseppe Murat 4, 70123 Bari"
    assert office.map_url == (
        "https://www.google.com/maps/search/?api=1&query="
        "Via%20Giuseppe%20Murat%204%2C%2070123%20Bari"
    )
    assert office.phone == "" and office.verified is False
    assert str(office.checked) == "2026-11-01"
    assert kb.office("questura-foggia").map_url == ""  # no address: no invented map link
    notes = kb.office_notes("questura-bari", "ar")
    assert (notes.text, notes.language, notes.fell_back) == (
        "Bring a copy of your passport",
        "en",
        True,
    )


def test_procedure_in_the_requested_language(kb: KnowledgeBase) -> None:
    proc = kb.procedure("residence_permit", "ar")
    assert (proc.language, proc.fell_back) == ("ar", False)
    assert proc.steps == ("خذ الطقم البريدي.", "أرسل الطلب.")
    assert proc.documents == ("جواز السفر",)
    assert proc.office_kinds == ("questura",)


def test_partial_translation_falls_back_as_a_whole(kb: KnowledgeBase) -> None:
    # Albanian lacks step 2: the checklist comes entirely in English, never half and half.
    proc = kb.procedure("residence_permit", "sq")
    assert (proc.language, proc.requested_language, proc.fell_back) == ("en", "sq", True)
    assert proc.steps[1] == "Send the application."


def test_title_and_summary_stay_in_the_persons_language(kb: KnowledgeBase) -> None:
    # Albanian has the title and summary but not the whole checklist: what to do first comes in
    # Albanian, the checklist in English (issue #21: Tier-2 readers used to get English only).
    proc = kb.procedure("residence_permit", "sq")
    assert (proc.title, proc.summary, proc.title_language) == (
        "Rinovimi i lejes",
        "Kërko para skadimit.",
        "sq",
    )
    assert (proc.title_fell_back, proc.fell_back, proc.language) == (False, True, "en")
    whole = kb.procedure("residence_permit", "ar")
    assert (whole.title_language, whole.title_fell_back, whole.fell_back) == ("ar", False, False)


def test_tier2_falls_back_to_french_before_italian(kb: KnowledgeBase) -> None:
    pashto = kb.procedure("residence_registration", "ps")  # Tier 2: en, fr, it
    assert (pashto.language, pashto.fell_back) == ("fr", True)
    assert pashto.title == "Inscription à l'état civil"
    assert (pashto.title_language, pashto.title_fell_back) == ("fr", True)
    urdu = kb.procedure("residence_registration", "ur")  # Tier 1: en, it
    assert (urdu.language, urdu.title) == ("it", "Iscrizione anagrafica")
    assert kb.procedure("housing", "en") is None


def test_emergency_numbers(kb: KnowledgeBase) -> None:
    numbers = kb.emergency_numbers("ar")
    assert [n.number for n in numbers] == ["112", "800 290 290"]
    assert (numbers[0].label, numbers[0].when, numbers[0].fell_back) == (
        "رقم الطوارئ الموحد",
        "خطر فوري",
        False,
    )
    assert (numbers[1].label, numbers[1].language) == ("Anti-trafficking helpline", "en")
    assert kb.service_name("residence_permit", "ar").text == "تصريح الإقامة"


def test_new_content_is_seen_after_a_load(knowledge: Path, sqlite_engine: sa.engine.Engine) -> None:
    load(knowledge, sqlite_engine)
    kb = KnowledgeBase(sqlite_engine, refresh_seconds=0)
    assert kb.office_for("residence_permit", istat(kb, "Taranto")).id == "commissione-bari"
    (knowledge / "offices" / "ta.yml").write_text(
        "offices:\n  - id: questura-taranto\n    kind: questura\n"
        "    services: [residence_permit]\n    name: Questura di Taranto\n"
        "    comune: Taranto\n    serves: {provinces: [TA]}\n"
        "    source: ''\n    checked: 2026-11-01\n    verified: false\n"
    )
    load(knowledge, sqlite_engine)
    assert kb.office_for("residence_permit", istat(kb, "Taranto")).id == "questura-taranto"


def test_knowledge_base_takes_a_url(knowledge: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'by-url.db'}"
    from bot.kb.db import make_engine

    load(knowledge, make_engine(url))
    assert KnowledgeBase(url).find_comune("Lecce").istat == "075035"


def test_same_answers_on_each_database(knowledge: Path, engine: sa.engine.Engine) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    assert not load(knowledge, engine).problems
    kb = KnowledgeBase(engine, refresh_seconds=None)
    office = kb.office_for("residence_permit", istat(kb, "San Severo"))
    assert (office.id, office.match, str(office.checked)) == (
        "questura-foggia",
        "province",
        "2026-11-01",
    )
    rome = ZoneInfo("Europe/Rome")
    bari = kb.opening("questura-bari", dt.datetime(2027, 12, 24, 9, tzinfo=rome))
    assert bari.closed_today.name == "Chiuso la vigilia di Natale"
    assert bari.next_opening == dt.datetime(2027, 12, 27, 8, 30, tzinfo=rome)
    assert kb.procedure("residence_permit", "ar").steps[0] == "خذ الطقم البريدي."
    assert kb.find_comune("Фоджа").name == "Foggia"
