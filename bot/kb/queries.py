"""The questions the dialogue asks the knowledge base, answered with small frozen dataclasses.

A :class:`KnowledgeBase` is handed to actions through their constructor (tests give it a SQLite
file in a temporary folder). The knowledge is small and changes only when an editor runs
``bot kb load``, so on first use the whole of it is read into memory once; every query after that
is a few dictionary lookups. Every ``refresh_seconds`` the instance checks the revision number the
loader bumps, and reloads only when it moved — a running assistant picks up new content without a
restart and without a query per message.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot import territory
from bot.kb import geo, hours, schema
from bot.kb.vocabulary import fallback_chain

# Order in which the territory an office serves is tried, most specific first.
LEVELS = ("comune", "ambito", "province", "region")

_STRIP = ' \t\r\n.,;:!?¡¿"“”«»()[]{}'


@dataclass(frozen=True)
class Comune:
    """A comune of Puglia with its province (ISTAT data)."""

    istat: str
    name: str  # official Italian name, e.g. "Nardò"
    province: str  # car-plate code, e.g. "LE"
    province_name: str
    capoluogo: bool
    ambito: str | None  # id of its ambito territoriale, when a source gave one
    lat: float | None = None  # town centre, from a public register
    lng: float | None = None


@dataclass(frozen=True)
class FieldSource:
    """Where one field of an office came from when a public register filled it."""

    field: str
    register: str  # the register's title, e.g. "IndicePA (AgID), sede del Comune"
    source: str  # the row's page or the register's url
    source_date: dt.date | None
    date_label: str  # the register's date as it gives it ("2022", "2025-09-01")
    seat: bool  # the administration's main seat, maybe not the counter a person needs


@dataclass(frozen=True)
class Office:
    """An office serving people for one or more services.

    ``match`` says how it was found for a comune by :meth:`KnowledgeBase.office_for`:
    "comune", "ambito", "province" or "region"; "distance" from
    :meth:`KnowledgeBase.nearest_offices`; "" when fetched by id.

    ``map_url`` is the record's own link or, failing that, a map search for the address (empty
    when the address is unknown). Empty strings mean "not known", never "none".

    ``field_sources`` name the public register of each field an editor did not write;
    ``imported`` offices come from a register altogether. ``distance_km`` is set by
    :meth:`KnowledgeBase.nearest_offices` (between town centres).
    """

    id: str
    kind: str
    name: str
    comune_istat: str
    comune_name: str
    province: str
    address: str
    map_url: str
    phone: str
    email: str
    pec: str
    website: str
    booking_url: str
    services: tuple[str, ...]
    source: str | None
    checked: dt.date | None
    verified: bool
    file: str | None
    match: str = ""
    imported: bool = False
    field_sources: tuple[FieldSource, ...] = ()
    distance_km: float | None = None

    def source_of(self, field_name: str) -> FieldSource | None:
        """The register that gave ``field_name``, or None when an editor wrote it."""
        return next((f for f in self.field_sources if f.field == field_name), None)

    def is_seat(self, field_name: str) -> bool:
        """Whether ``field_name`` is the administration's main seat's, not the counter's."""
        found = self.source_of(field_name)
        return bool(found and found.seat)


@dataclass(frozen=True)
class Localized:
    """A text in the language actually used; ``fell_back`` when that is not the one asked for."""

    text: str
    language: str
    requested_language: str
    fell_back: bool


@dataclass(frozen=True)
class Procedure:
    """A procedure whose checklist (steps and documents) is in ONE language, never a mix.

    ``language`` is the first language of the fallback chain in which every step and document
    exists; ``fell_back`` is true when it differs from ``requested_language``. The title and
    summary are chosen apart (``title_language``): a Tier-2 reader gets what to do first in
    their own language even when the checklist is only in English or French.
    """

    id: str
    service: str
    language: str
    requested_language: str
    fell_back: bool
    title: str
    summary: str
    steps: tuple[str, ...]
    documents: tuple[str, ...]
    office_kinds: tuple[str, ...]
    source: str | None
    checked: dt.date | None
    verified: bool
    title_language: str = ""

    @property
    def title_fell_back(self) -> bool:
        """Whether the title and summary are in another language than the one asked for."""
        return (self.title_language or self.language) != self.requested_language


@dataclass(frozen=True)
class EmergencyNumber:
    """A national number with its label and when to call, in one language of the chain."""

    id: str
    number: str
    label: str
    when: str  # "" when the record gives no description
    language: str
    requested_language: str
    fell_back: bool
    source: str | None
    checked: dt.date | None
    verified: bool


@dataclass(frozen=True)
class FaqAnswer:
    """An FAQ entry with its question and answer in one language of the chain."""

    id: str
    service: str
    question: str
    answer: str
    language: str
    requested_language: str
    fell_back: bool
    office_kinds: tuple[str, ...]
    procedure: str | None
    sources: tuple[str, ...]
    source_date: dt.date | None
    checked: dt.date | None
    verified: bool


@dataclass(frozen=True)
class SafetyHelp:
    """What a person in one kind of danger is told after the numbers, in one language."""

    id: str
    danger: str
    numbers: tuple[str, ...]  # emergency-number ids, most relevant first
    text: str
    undocumented: str  # "" when the record has none
    language: str
    requested_language: str
    fell_back: bool
    procedure: str | None
    office_kinds: tuple[str, ...]
    source: str | None
    checked: dt.date | None
    verified: bool


@dataclass
class _Snapshot:
    """Everything read from the database at one revision."""

    revision: str | None
    comuni: dict[str, Comune] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # folded name → ISTAT code
    offices: dict[str, Office] = field(default_factory=dict)
    slots: dict[str, tuple[hours.WeeklySlot, ...]] = field(default_factory=dict)
    closures: dict[str, dict[dt.date, str]] = field(default_factory=dict)
    patron: dict[str, str | None] = field(default_factory=dict)
    # (service, kind) → level → territory key → office ids (region: key "").
    index: dict[tuple[str, str], dict[str, dict[str, list[str]]]] = field(default_factory=dict)
    kinds: dict[str, tuple[str, ...]] = field(default_factory=dict)  # service → kinds to try
    procedures: dict[str, list[dict]] = field(default_factory=dict)  # service → records
    numbers: list[dict] = field(default_factory=list)
    faq: dict[str, dict] = field(default_factory=dict)  # id → record, in file order
    help: dict[str, dict] = field(default_factory=dict)  # danger → record
    texts: dict[tuple[str, str, int], dict[str, str]] = field(default_factory=dict)


def _map_search(address: str) -> str:
    if not address:
        return ""
    query = urllib.parse.quote(address)
    return f"https://www.google.com/maps/search/?api=1&query={query}"


class KnowledgeBase:
    """Read-only access to the loaded knowledge; safe to share between threads."""

    def __init__(
        self, engine: Engine | str | None = None, *, refresh_seconds: float | None = 60.0
    ) -> None:
        """``engine``: an engine, a database URL, or ``None`` for ``DATABASE_URL``.

        ``refresh_seconds``: how often to check whether ``bot kb load`` changed the content;
        ``None`` never checks (tests, benchmarks).
        """
        self._engine_arg = engine
        self._engine: Engine | None = None
        self._refresh_seconds = refresh_seconds
        self._snapshot: _Snapshot | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ plumbing

    @property
    def engine(self) -> Engine:
        """The engine, created on first use (never at construction or import)."""
        if self._engine is None:
            from bot.kb.db import make_engine

            arg = self._engine_arg
            if arg is None:
                from bot.settings import get_settings

                arg = get_settings().database_url
            self._engine = make_engine(arg)
        return self._engine

    def refresh(self) -> None:
        """Forget what was read; the next query reads the database again."""
        with self._lock:
            self._snapshot = None

    def _data(self) -> _Snapshot:
        snap = self._snapshot
        if snap is not None:
            if self._refresh_seconds is None:
                return snap
            if time.monotonic() - self._checked_at < self._refresh_seconds:
                return snap
        with self._lock:
            now = time.monotonic()
            if (
                self._snapshot is not None
                and self._refresh_seconds is not None
                and now - self._checked_at >= self._refresh_seconds
            ):
                if self._revision() != self._snapshot.revision:
                    self._snapshot = None
                self._checked_at = now
            if self._snapshot is None:
                self._snapshot = self._read()
                self._checked_at = now
            return self._snapshot

    def _revision(self) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(schema.meta.c.value).where(schema.meta.c.key == "revision")
            ).scalar_one_or_none()

    def _read(self) -> _Snapshot:
        with self.engine.connect() as conn:

            def rows(table: sa.Table, *order: sa.Column) -> list[dict]:
                query = sa.select(table).order_by(*(order or table.primary_key.columns))
                return [dict(r._mapping) for r in conn.execute(query)]

            snap = _Snapshot(
                revision=conn.execute(
                    sa.select(schema.meta.c.value).where(schema.meta.c.key == "revision")
                ).scalar_one_or_none()
            )
            province_names = {r["code"]: r["name"] for r in rows(schema.provinces)}
            for r in rows(schema.comuni):
                snap.comuni[r["istat"]] = Comune(
                    r["istat"],
                    r["name"],
                    r["province"],
                    province_names[r["province"]],
                    r["capoluogo"],
                    r["ambito_id"],
                    r["lat"],
                    r["lng"],
                )
            registers = {r["id"]: r for r in rows(schema.registers)}
            sources: dict[str, list[FieldSource]] = {}
            for r in rows(schema.field_sources):
                if r["record_kind"] != "office":
                    continue
                register = registers[r["register_id"]]
                sources.setdefault(r["record_id"], []).append(
                    FieldSource(
                        r["field"],
                        register["title"],
                        r["source"],
                        r["source_date"],
                        register["date_label"],
                        r["seat"],
                    )
                )
            for r in rows(schema.comune_names):
                snap.names[r["folded"]] = r["istat"]
            for r in rows(schema.texts):
                snap.texts.setdefault((r["record_id"], r["field"], r["position"]), {})[
                    r["language"]
                ] = r["text"]

            office_services: dict[str, list[str]] = {}
            for r in rows(
                schema.office_services,
                schema.office_services.c.office_id,
                schema.office_services.c.position,
            ):
                office_services.setdefault(r["office_id"], []).append(r["service_id"])
            for r in rows(schema.offices, schema.offices.c.file, schema.offices.c.position):
                comune = snap.comuni[r["comune_istat"]]
                snap.offices[r["id"]] = Office(
                    id=r["id"],
                    kind=r["kind"],
                    name=r["name"],
                    comune_istat=comune.istat,
                    comune_name=comune.name,
                    province=comune.province,
                    address=r["address"],
                    map_url=r["map_url"] or _map_search(r["address"]),
                    phone=r["phone"],
                    email=r["email"],
                    pec=r["pec"],
                    website=r["website"],
                    booking_url=r["booking_url"],
                    services=tuple(office_services.get(r["id"], ())),
                    source=r["source"],
                    checked=r["checked"],
                    verified=r["verified"],
                    file=r["file"],
                    imported=r["imported"],
                    field_sources=tuple(sources.get(r["id"], ())),
                )
                snap.patron[r["id"]] = hours.patron_subdivision(
                    comune.name, comune.province, comune.capoluogo
                )
                snap.slots[r["id"]] = ()
                snap.closures[r["id"]] = {}
            slots: dict[str, list[hours.WeeklySlot]] = {}
            for r in rows(schema.office_hours):
                slots.setdefault(r["office_id"], []).append(
                    hours.WeeklySlot(r["weekday"], r["opens"], r["closes"], r["appointment_only"])
                )
            snap.slots.update({k: tuple(v) for k, v in slots.items()})
            for r in rows(schema.office_closures):
                note = snap.texts.get((r["office_id"], "closures", r["position"]), {})
                snap.closures[r["office_id"]][r["day"]] = note.get("it", "")

            areas: dict[str, list[tuple[str, str]]] = {oid: [] for oid in snap.offices}
            for r in rows(schema.office_comuni):
                areas[r["office_id"]].append(("comune", r["istat"]))
            for r in rows(schema.office_ambiti):
                areas[r["office_id"]].append(("ambito", r["ambito_id"]))
            for r in rows(schema.office_provinces):
                areas[r["office_id"]].append(("province", r["province"]))
            region = {r["id"] for r in rows(schema.offices) if r["serves_region"]}
            for oid, office in snap.offices.items():
                if oid in region:
                    areas[oid].append(("region", ""))
                for service in office.services:
                    levels = snap.index.setdefault(
                        (service, office.kind), {level: {} for level in LEVELS}
                    )
                    for level, key in areas[oid]:
                        levels[level].setdefault(key, []).append(oid)

            kinds: dict[str, list[str]] = {}
            for r in rows(
                schema.procedures, schema.procedures.c.file, schema.procedures.c.position
            ):
                r["office_kinds"] = []
                r["steps"] = 0
                r["documents"] = 0
                snap.procedures.setdefault(r["service_id"], []).append(r)
            by_id = {r["id"]: r for records in snap.procedures.values() for r in records}
            for r in rows(schema.procedure_office_kinds):
                by_id[r["procedure_id"]]["office_kinds"].append(r["kind"])
            for table, key in (
                (schema.procedure_steps, "steps"),
                (schema.procedure_documents, "documents"),
            ):
                for r in rows(table):
                    by_id[r["procedure_id"]][key] += 1
            for service, records in snap.procedures.items():
                for rec in records:
                    for kind in rec["office_kinds"]:
                        if kind not in kinds.setdefault(service, []):
                            kinds[service].append(kind)
            for service, kind in snap.index:
                if kind not in kinds.setdefault(service, []):
                    kinds[service].append(kind)
            snap.kinds = {service: tuple(ks) for service, ks in kinds.items()}
            snap.numbers = rows(
                schema.emergency_numbers,
                schema.emergency_numbers.c.file,
                schema.emergency_numbers.c.position,
            )
            for r in rows(schema.faq, schema.faq.c.file, schema.faq.c.position):
                snap.faq[r["id"]] = {**r, "office_kinds": [], "sources": []}
            for r in rows(schema.faq_office_kinds):
                snap.faq[r["faq_id"]]["office_kinds"].append(r["kind"])
            for r in rows(schema.faq_sources):
                snap.faq[r["faq_id"]]["sources"].append(r["url"])
            helps = {
                r["id"]: {**r, "numbers": [], "office_kinds": []} for r in rows(schema.safety_help)
            }
            for r in rows(schema.safety_help_numbers):
                helps[r["help_id"]]["numbers"].append(r["number_id"])
            for r in rows(schema.safety_help_office_kinds):
                helps[r["help_id"]]["office_kinds"].append(r["kind"])
            snap.help = {r["danger"]: r for r in helps.values()}
        hours.warm_up(snap.patron.values())
        return snap

    # ------------------------------------------------------------------ territory

    def find_comune(self, text: str) -> Comune | None:
        """Find the comune a person means by ``text``, or ``None``.

        Any case or accents ("NARDO'" → Nardò), official names and the aliases of
        ``knowledge/territory.yml`` (other scripts, old spellings). ``None`` when nothing matches
        exactly: guessing a town is worse than asking.
        """
        snap = self._data()
        istat = snap.names.get(territory.fold(text.strip(_STRIP)))
        return snap.comuni.get(istat) if istat else None

    def comune(self, istat: str) -> Comune | None:
        """Look a comune up by ISTAT code."""
        return self._data().comuni.get(istat)

    def comuni(self) -> tuple[Comune, ...]:
        """All 257 comuni, by ISTAT code."""
        return tuple(self._data().comuni.values())

    # ------------------------------------------------------------------ offices

    def office(self, office_id: str) -> Office | None:
        """Look an office up by id (``match`` is "")."""
        return self._data().offices.get(office_id)

    def offices_for(
        self, service: str, comune_istat: str, kind: str | None = None
    ) -> tuple[Office, ...]:
        """Offices that serve ``service`` for the comune, from the most specific territory.

        Office kinds are tried in the order the service's procedures prefer (``office_kinds``),
        then any other kind offering the service; for each kind the territory falls back
        comune → ambito → province → region. The first kind and level with an office wins, so
        a patronato listed for one comune does not hide the Questura that issues the permit.
        Within the answer, editors' offices come before those created from a public register,
        then offices located in the comune itself.
        """
        snap = self._data()
        comune = snap.comuni.get(comune_istat)
        if comune is None:
            return ()
        keys = {
            "comune": comune.istat,
            "ambito": comune.ambito or "",
            "province": comune.province,
            "region": "",
        }
        for k in (kind,) if kind else snap.kinds.get(service, ()):
            levels = snap.index.get((service, k))
            if not levels:
                continue
            for level in LEVELS:
                ids = levels[level].get(keys[level]) if keys[level] or level == "region" else None
                if ids:
                    found = [snap.offices[i] for i in ids]
                    # Editors' offices before those a register created, then those in the
                    # comune itself (a register's ASL head office does not hide the clinic).
                    found.sort(key=lambda o: (o.imported, o.comune_istat != comune.istat))
                    return tuple(replace(o, match=level) for o in found)
        return ()

    def office_for(self, service: str, comune_istat: str, kind: str | None = None) -> Office | None:
        """Return the first of :meth:`offices_for`, or ``None`` when no office is known."""
        found = self.offices_for(service, comune_istat, kind)
        return found[0] if found else None

    def nearest_offices(
        self, service: str, comune_istat: str, kind: str, limit: int | None = 3
    ) -> tuple[Office, ...]:
        """Offices of ``kind`` offering ``service``, nearest first, with ``distance_km`` set.

        For offices a person may attend wherever they live (a CPIA teaching site), distance
        beats the territory an office is filed under. Distances are between town centres (the
        registers give no building coordinates): every site in the person's own comune is
        0 km away. Ties keep editors' offices before imported ones, then file order. Offices
        in a comune without coordinates are left out; none when the person's comune has none.
        ``limit=None`` returns them all.
        """
        snap = self._data()
        here = snap.comuni.get(comune_istat)
        if here is None or here.lat is None or here.lng is None:
            return ()
        found = []
        for order, office in enumerate(snap.offices.values()):
            if office.kind != kind or service not in office.services:
                continue
            there = snap.comuni[office.comune_istat]
            if there.lat is None or there.lng is None:
                continue
            distance = geo.km((here.lat, here.lng), (there.lat, there.lng))
            found.append((round(distance, 1), office.imported, order, office))
        found.sort(key=lambda item: item[:3])
        return tuple(
            replace(office, distance_km=distance, match="distance")
            for distance, _, _, office in found[:limit]
        )

    def opening(self, office_id: str, at: dt.datetime) -> hours.Opening:
        """Open now? Until when? Next opening? (see :class:`bot.kb.hours.Opening`).

        ``at`` may be aware (any zone) or naive (taken as Rome time). Raises ``KeyError`` for an
        unknown office.
        """
        snap = self._data()
        if office_id not in snap.offices:
            raise KeyError(office_id)
        return hours.opening(
            office_id, at, snap.slots[office_id], snap.patron[office_id], snap.closures[office_id]
        )

    def office_notes(self, office_id: str, language: str) -> Localized | None:
        """Return the office's practical notes in ``language`` or its fallback, if any."""
        return self._localized((office_id, "notes", 0), language)

    # ------------------------------------------------------------------ texts

    def _localized(self, key: tuple[str, str, int], language: str) -> Localized | None:
        texts = self._data().texts.get(key)
        if not texts:
            return None
        for code in fallback_chain(language):
            if code in texts:
                return Localized(texts[code], code, language, code != language)
        return None

    def service_name(self, service: str, language: str) -> Localized | None:
        """Name of a service in ``language`` or its fallback (``None`` if services.yml lacks it)."""
        return self._localized((service, "name", 0), language)

    def _language_for(self, keys: Iterable[tuple[str, str, int]], language: str) -> str:
        snap = self._data()
        texts = [snap.texts.get(key, {}) for key in keys]
        for code in fallback_chain(language):
            if all(code in t for t in texts):
                return code
        return "it"

    def procedures(self, service: str, language: str) -> tuple[Procedure, ...]:
        """Return every procedure of ``service`` (in file order).

        The checklist's language is the first of ``language`` → (Tier 2: en, fr, it | others:
        en, it) in which every step and document exists; the title and summary's, the first in
        which both exist.
        """
        snap = self._data()
        result = []
        for rec in snap.procedures.get(service, ()):
            pid = rec["id"]
            head = [(pid, "title", 0), (pid, "summary", 0)]
            checklist = [
                *((pid, "steps", n) for n in range(1, rec["steps"] + 1)),
                *((pid, "documents", n) for n in range(1, rec["documents"] + 1)),
            ]
            head_code = self._language_for(head, language)
            code = self._language_for(checklist, language)

            def text(key: tuple[str, str, int], code: str = code) -> str:
                return snap.texts.get(key, {}).get(code, "")

            result.append(
                Procedure(
                    id=pid,
                    service=service,
                    language=code,
                    requested_language=language,
                    fell_back=code != language,
                    title=text(head[0], head_code),
                    summary=text(head[1], head_code),
                    steps=tuple(text((pid, "steps", n)) for n in range(1, rec["steps"] + 1)),
                    documents=tuple(
                        text((pid, "documents", n)) for n in range(1, rec["documents"] + 1)
                    ),
                    office_kinds=tuple(rec["office_kinds"]),
                    source=rec["source"],
                    checked=rec["checked"],
                    verified=rec["verified"],
                    title_language=head_code,
                )
            )
        return tuple(result)

    def procedure(
        self, service: str, language: str, procedure_id: str | None = None
    ) -> Procedure | None:
        """Return the first procedure of ``service`` (or the one with ``procedure_id``)."""
        for proc in self.procedures(service, language):
            if procedure_id is None or proc.id == procedure_id:
                return proc
        return None

    def faq_ids(self, service: str | None = None) -> tuple[str, ...]:
        """Ids of the FAQ entries (of one service), in file order."""
        return tuple(
            fid
            for fid, rec in self._data().faq.items()
            if service is None or rec["service_id"] == service
        )

    def faq(self, entry_id: str, language: str) -> FaqAnswer | None:
        """An FAQ entry with question and answer in one language of the chain."""
        snap = self._data()
        rec = snap.faq.get(entry_id)
        if rec is None:
            return None
        keys = [(entry_id, "question", 0), (entry_id, "answer", 0)]
        code = self._language_for(keys, language)
        question, answer = (snap.texts.get(k, {}).get(code, "") for k in keys)
        return FaqAnswer(
            id=entry_id,
            service=rec["service_id"],
            question=question,
            answer=answer,
            language=code,
            requested_language=language,
            fell_back=code != language,
            office_kinds=tuple(rec["office_kinds"]),
            procedure=rec["procedure_id"],
            sources=tuple(rec["sources"]),
            source_date=rec["source_date"],
            checked=rec["checked"],
            verified=rec["verified"],
        )

    def safety_help(self, danger: str, language: str) -> SafetyHelp | None:
        """The help for one danger class in one language of the chain (None if not curated)."""
        snap = self._data()
        rec = snap.help.get(danger)
        if rec is None:
            return None
        hid = rec["id"]
        keys = [(hid, "text", 0)]
        if (hid, "undocumented", 0) in snap.texts:
            keys.append((hid, "undocumented", 0))
        code = self._language_for(keys, language)
        return SafetyHelp(
            id=hid,
            danger=danger,
            numbers=tuple(rec["numbers"]),
            text=snap.texts.get((hid, "text", 0), {}).get(code, ""),
            undocumented=snap.texts.get((hid, "undocumented", 0), {}).get(code, ""),
            language=code,
            requested_language=language,
            fell_back=code != language,
            procedure=rec["procedure_id"],
            office_kinds=tuple(rec["office_kinds"]),
            source=rec["source"],
            checked=rec["checked"],
            verified=rec["verified"],
        )

    def emergency_numbers(self, language: str) -> tuple[EmergencyNumber, ...]:
        """Return the national numbers in file order, each in one language of the chain."""
        snap = self._data()
        result = []
        for rec in snap.numbers:
            nid = rec["id"]
            keys = [(nid, "label", 0)]
            if (nid, "when", 0) in snap.texts:
                keys.append((nid, "when", 0))
            code = self._language_for(keys, language)
            result.append(
                EmergencyNumber(
                    id=nid,
                    number=rec["number"],
                    label=snap.texts.get((nid, "label", 0), {}).get(code, ""),
                    when=snap.texts.get((nid, "when", 0), {}).get(code, ""),
                    language=code,
                    requested_language=language,
                    fell_back=code != language,
                    source=rec["source"],
                    checked=rec["checked"],
                    verified=rec["verified"],
                )
            )
        return tuple(result)
