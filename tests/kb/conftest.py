"""A small but complete knowledge folder, and databases to load it into (SQLite and PostgreSQL).

The fixture content is invented for tests (the real content lives in ``knowledge/``, written by
others); phone numbers are left empty as the format demands for unchecked facts.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.kb.db import make_engine
from tests.databases import postgres_database

FILES: dict[str, str] = {
    "services.yml": """
        services:
          - id: residence_permit
            name: {it: "Permesso di soggiorno", en: "Residence permit", ar: "تصريح الإقامة"}
          - id: residence_registration
            name: {it: "Residenza", en: "Residence registration"}
    """,
    "emergency.yml": """
        numbers:
          - id: emergency-112
            number: "112"
            label: {it: "Numero unico di emergenza", en: "Single emergency number", ar: "رقم الطوارئ الموحد"}
            when: {it: "Pericolo immediato", en: "Immediate danger", ar: "خطر فوري"}
            source: "https://www.interno.gov.it/"
            checked: 2026-11-01
            verified: true
          - id: antitratta
            number: "800 290 290"
            label: {it: "Numero verde antitratta", en: "Anti-trafficking helpline"}
            source: "https://www.osservatoriointerventitratta.it/"
            checked: 2026-11-01
            verified: true
    """,  # noqa: E501
    "territory.yml": """
        aliases:
          - comune: "Foggia"
            names: ["Fogia", "فودجا", "Фоджа"]
          - comune: "Nardò"
            names: ["Нардо"]
    """,
    "offices/ba.yml": """
        offices:
          - id: questura-bari
            kind: questura
            services: [residence_permit]
            name: "Questura di Bari - Ufficio Immigrazione"
            comune: "Bari"
            address: "Via Giuseppe Murat 4, 70123 Bari"
            phone: ""
            serves:
              provinces: [BA]
            hours:
              - days: [mon, tue, wed, thu, fri]
                open: "08:30"
                close: "12:30"
              - days: [tue, thu]
                open: 15:00
                close: 17:00
                appointment_only: true
            closures:
              - date: 2027-12-24
                note: {it: "Chiuso la vigilia di Natale", en: "Closed on Christmas Eve"}
            notes: {it: "Portare una fotocopia del passaporto", en: "Bring a copy of your passport"}
            source: "https://questure.poliziadistato.it/it/Bari"
            checked: 2026-11-01
            verified: false
          - id: anagrafe-bari
            kind: anagrafe
            services: [residence_registration]
            name: "Comune di Bari - Anagrafe"
            comune: "Bari"
            serves:
              comuni: ["Bari"]
            hours:
              - days: [mon, tue, wed, thu, fri]
                open: "09:00"
                close: "12:00"
            source: ""
            checked: 2025-01-10
            verified: false
          - id: anagrafe-modugno
            kind: anagrafe
            services: [residence_registration]
            name: "Comune di Modugno - Anagrafe"
            comune: "Modugno"
            serves:
              comuni: ["Modugno"]
            hours:
              - days: [mon, tue, wed, thu, fri]
                open: "09:00"
                close: "12:00"
            source: ""
            checked: 2026-11-01
            verified: false
          - id: patronato-modugno
            kind: patronato
            services: [residence_permit]
            name: "Patronato di Modugno"
            comune: "Modugno"
            serves:
              comuni: ["Modugno"]
            source: ""
            checked: 2026-11-01
            verified: false
    """,
    "offices/fg.yml": """
        offices:
          - id: questura-foggia
            kind: questura
            services: [residence_permit]
            name: "Questura di Foggia - Ufficio Immigrazione"
            comune: "Foggia"
            serves: {provinces: [FG]}
            source: ""
            checked: 2026-11-01
            verified: false
    """,
    "offices/le.yml": """
        offices:
          - id: questura-lecce
            kind: questura
            services: [residence_permit]
            name: "Questura di Lecce - Ufficio Immigrazione"
            comune: "Lecce"
            serves: {provinces: [LE]}
            source: ""
            checked: 2026-11-01
            verified: false
    """,
    "offices/bt.yml": """
        offices:
          - id: questura-bat
            kind: questura
            services: [residence_permit]
            name: "Questura di Barletta-Andria-Trani"
            comune: "Andria"
            serves: {provinces: [BT]}
            hours:
              - days: [mon, tue, wed, thu, fri]
                open: "08:30"
                close: "12:30"
            source: ""
            checked: 2026-11-01
            verified: false
          - id: anagrafe-barletta
            kind: anagrafe
            services: [residence_registration]
            name: "Comune di Barletta - Anagrafe"
            comune: "Barletta"
            serves: {comuni: ["Barletta"]}
            hours:
              - days: [mon, tue, wed, thu, fri]
                open: "08:30"
                close: "12:30"
            source: ""
            checked: 2026-11-01
            verified: false
    """,
    "offices/regional.yml": """
        offices:
          - id: commissione-bari
            kind: commissione_territoriale
            services: [residence_permit]
            name: "Commissione territoriale di Bari"
            comune: "Bari"
            serves: {region: true}
            source: ""
            checked: 2026-11-01
            verified: false
    """,
    "procedures/residence_permit.yml": """
        procedures:
          - id: residence-permit-renewal
            service: residence_permit
            title: {it: "Rinnovo del permesso", en: "Renewing the permit", ar: "تجديد التصريح", sq: "Rinovimi i lejes", fr: "Renouveler le permis"}
            summary: {it: "Chiedi il rinnovo prima della scadenza.", en: "Ask before it expires.", ar: "اطلب قبل انتهاء الصلاحية.", sq: "Kërko para skadimit.", fr: "Demande avant l'expiration."}
            office_kinds: [questura]
            steps:
              - {it: "Ritira il kit postale.", en: "Pick up the postal kit.", ar: "خذ الطقم البريدي.", sq: "Merr kitin postar.", fr: "Retire le kit postal."}
              - {it: "Spedisci la domanda.", en: "Send the application.", ar: "أرسل الطلب.", fr: "Envoie la demande."}
            documents:
              - {it: "Passaporto", en: "Passport", ar: "جواز السفر", sq: "Pasaporta", fr: "Passeport"}
            source: "https://www.portaleimmigrazione.it/"
            checked: 2026-11-01
            verified: false
    """,  # noqa: E501
    "safety.yml": """
        help:
          - id: safety-exploitation
            danger: exploitation
            numbers: [antitratta, emergency-112]
            text: {it: "Il numero verde antitratta è gratuito e anonimo.", en: "The anti-trafficking line is free and anonymous."}
            source: "https://www.osservatoriointerventitratta.it/"
            checked: 2026-11-01
            verified: true
          - id: safety-medical
            danger: medical
            numbers: [emergency-112]
            text: {it: "Al pronto soccorso ti curano.", en: "The emergency room treats you."}
            undocumented: {it: "Anche senza permesso: nessuno ti segnala alla polizia."}
            procedure: residence-permit-renewal
            office_kinds: [questura]
            source: ""
            checked: 2026-11-01
            verified: false
    """,  # noqa: E501
    "faq/residence_permit.yml": """
        faq:
          - id: permit-work-with-receipt
            service: residence_permit
            question: {it: "Posso lavorare con la ricevuta?", en: "Can I work with the receipt (ricevuta)?", ar: "هل يمكنني العمل بالإيصال (ricevuta)؟"}
            variants:
              it: ["posso lavorare col cedolino", "con la ricevuta delle poste posso lavorare?"]
              en: ["can i work with the post office receipt"]
              xx: ["receipt pe kaam kar sakta hu"]
            answer: {it: "Sì, se hai chiesto il rinnovo in tempo.", en: "Yes, if you applied for renewal in time.", ar: "نعم، إذا طلبت التجديد في الوقت المحدد."}
            office_kinds: [questura]
            procedure: residence-permit-renewal
            sources:
              - url: "https://www.integrazionemigranti.gov.it/"
                date: 2024-05-10
              - url: "https://www.poliziadistato.it/"
            checked: 2026-11-01
            verified: true
    """,  # noqa: E501
    "procedures/residence_registration.yml": """
        procedures:
          - id: residence-registration
            service: residence_registration
            title: {it: "Iscrizione anagrafica", fr: "Inscription à l'état civil"}
            summary: {it: "Vai all'anagrafe del comune.", fr: "Allez à l'Anagrafe de la commune."}
            office_kinds: [anagrafe]
            steps:
              - {it: "Compila la dichiarazione.", fr: "Remplissez la déclaration."}
            documents: []
            source: ""
            checked: 2026-11-01
            verified: false
    """,
}


def write_knowledge(root: Path, files: dict[str, str] = FILES) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    return write_knowledge(tmp_path / "knowledge")


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing ``needle`` (so tests don't hard-code lines)."""
    seen = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in {path}")


def _postgres_url() -> Iterator[str]:
    with postgres_database("kb_test") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind; PostgreSQL gets its own throwaway database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kb.db'}"
    else:
        yield from _postgres_url()


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.engine.Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[sa.engine.Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'kb.db'}")
    yield eng
    eng.dispose()


@pytest.fixture
def kb(knowledge: Path, sqlite_engine: sa.engine.Engine):
    """A KnowledgeBase over the fixture content loaded into SQLite."""
    from bot.kb.load import load
    from bot.kb.queries import KnowledgeBase

    result = load(knowledge, sqlite_engine)
    assert not result.problems, result.problems
    return KnowledgeBase(sqlite_engine, refresh_seconds=None)


@pytest.fixture
def knowledge_ref(knowledge: Path) -> Path:
    """The fixture knowledge with the small public registers of ``reference_fixture.py``."""
    from tests.kb.reference_fixture import write_reference

    return write_reference(knowledge)


@pytest.fixture
def kb_ref(knowledge_ref: Path, sqlite_engine: sa.engine.Engine):
    """A KnowledgeBase over the fixture content and registers, loaded into SQLite."""
    from bot.kb.load import load
    from bot.kb.queries import KnowledgeBase

    result = load(knowledge_ref, sqlite_engine)
    assert not result.problems, result.problems
    return KnowledgeBase(sqlite_engine, refresh_seconds=None)
