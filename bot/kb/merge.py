"""Joining the public registers to the curated offices: editors win, registers fill the gaps.

The rules, applied on every ``bot kb load`` (so an editor's later correction wins at once and a
newer register extract refreshes every field it filled):

- A register entry is joined to the curated office it describes:
  comune (ISTAT code) → the first ``anagrafe`` office located in that comune and serving exactly
  it; Prefettura (province) → the first ``prefettura`` office located in the province and serving
  it; ASL head office (province) → the ``asl`` office serving exactly that province and located
  in the head office's comune; CPIA site → a curated ``cpia`` office in the same comune (the
  institute's head office when there is one there, else the only site there).
- In a joined office a field an editor wrote is never changed; an empty one is filled and
  stamped with its register, row and date. A curated value the register contradicts is kept and
  listed (:class:`Kept`) for editors.
- An entry joined to nothing becomes an office of its own (``imported``): the Anagrafe of every
  comune no editor has described, the CPIA sites, a province's ASL head office or Prefettura when
  no curated office stands for it. This replaces the generated ``offices/anagrafi.yml``: one
  mechanism makes sure every comune has an office for residence registration.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from bot import territory
from bot.kb.reference import Entry, References, Register, read_references
from bot.kb.validate import Content, Office, Problem, read_knowledge

CONTACT_FIELDS = ("address", "phone", "email", "pec", "website")

# Every comune keeps a register of its residents: the Anagrafe exists even where no register
# row says how to reach it.
ANAGRAFE_LAW = "https://www.normattiva.it/uri-res/N2Ls?urn:nir:stato:legge:1954-12-24;1228"

# Services an office created from a register offers (the curated offices of the same kind
# offer these too).
SERVICES_BY_KIND: dict[str, list[str]] = {
    "anagrafe": ["residence_registration"],
    "prefettura": ["family_reunification", "citizenship", "employment"],
    "asl": ["health_care"],
    "cpia": ["italian_course", "school_enrollment"],
}


@dataclass(frozen=True)
class FieldSource:
    """Where one imported value came from: register, row, date; ``seat`` as in :class:`Entry`."""

    record_kind: str  # "office" or "comune" (coordinates)
    record_id: str
    field: str
    register: str
    source: str  # the row's own page, else the register's url
    source_date: dt.date | None
    line: int  # row in the register's file
    seat: bool


@dataclass(frozen=True)
class Kept:
    """A curated value the register gives differently: the curated one stays.

    ``expected``: the register describes the administration's main seat, so a counter's own
    address, phone or mailbox may rightly differ; otherwise an editor should look.
    """

    office: str
    field: str
    curated: str
    register_value: str
    register: str
    file: str
    line: int
    expected: bool


@dataclass(frozen=True)
class Join:
    """Which register row an office took values from, or was created from."""

    office: str
    register: str
    file: str
    line: int
    created: bool
    filled: tuple[str, ...]


@dataclass
class Merged:
    """The knowledge with the registers merged in, and what the merge did."""

    content: Content
    references: References
    field_sources: list[FieldSource] = field(default_factory=list)
    coordinates: dict[str, tuple[float, float]] = field(default_factory=dict)
    joins: list[Join] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)
    agreed: int = 0  # curated values the register confirms
    uncovered: list[str] = field(default_factory=list)  # comuni no register row describes

    @property
    def registers(self) -> dict[str, Register]:
        """The registers of the manifest, by id."""
        return self.references.registers

    def summary_lines(self) -> list[str]:
        """A few lines for ``bot kb validate``/``load``; ``bot kb reference`` gives the detail."""
        refs = self.references
        if not refs.registers:
            return []
        created = sum(j.created for j in self.joins)
        skipped_rows = sum(1 for s in refs.skips if not s.field)
        skipped_fields = len(refs.skips) - skipped_rows
        return [
            f"reference: {sum(refs.rows.values())} rows in {len(refs.registers)} registers; "
            f"{len(self.field_sources)} fields imported ({created} offices created, "
            f"{len(self.joins) - created} curated offices completed), {len(self.kept)} curated "
            f"values kept over the register's, {self.agreed} confirmed; skipped "
            f"{skipped_rows} rows and {skipped_fields} fields (`bot kb reference` lists them)",
        ]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", territory.fold(name)).strip("-")


def _same(field_name: str, a: str, b: str) -> bool:
    """Whether two values say the same thing (formats differ between editors and registers)."""
    if field_name == "phone":
        return re.sub(r"\D", "", a) == re.sub(r"\D", "", b)
    if field_name == "website":

        def host(url: str) -> str:
            return re.sub(r"^(https?://)?(www\.)?", "", url.lower()).rstrip("/")

        return host(a) == host(b)
    if field_name == "address":

        def key(text: str) -> str:
            return " ".join(re.sub(r"\b\d{5}\b|[^\w ]", " ", territory.fold(text)).split())

        return key(a) == key(b)
    return a.strip().lower() == b.strip().lower()


class _Merger:
    def __init__(self, content: Content, refs: References) -> None:
        self.content = content
        self.refs = refs
        self.result = Merged(content, refs)
        # Copies, so the curated Content read from the files is left as it was.
        self.offices = [dataclasses.replace(o) for o in content.offices]
        self.created: list[Office] = []
        self.ids = {o.id for o in self.offices} | {p.id for p in content.procedures}
        self.istat = {c.istat: c for c in territory.comuni()}

    # ------------------------------------------------------------------ filling

    def fill(self, office: Office, entry: Entry) -> None:
        filled = []
        register = self.refs.registers[entry.register]
        for name in CONTACT_FIELDS:
            value = entry.fields.get(name)
            if value is None:
                continue
            current = getattr(office, name)
            if current:
                if _same(name, current, value.text):
                    self.result.agreed += 1
                else:
                    self.result.kept.append(
                        Kept(
                            office.id,
                            name,
                            current,
                            value.text,
                            value.register,
                            self.refs.registers[value.register].file,
                            value.line,
                            expected=entry.seat,
                        )
                    )
                continue
            setattr(office, name, value.text)
            filled.append(name)
            source = self.refs.registers[value.register]
            self.result.field_sources.append(
                FieldSource(
                    "office",
                    office.id,
                    name,
                    value.register,
                    value.link,
                    source.date,
                    value.line,
                    entry.seat,
                )
            )
        self.result.joins.append(
            Join(
                office.id,
                register.id,
                entry.file,
                entry.line,
                created=office.imported,
                filled=tuple(filled),
            )
        )

    def create(
        self,
        entry: Entry,
        kind: str,
        ident: str,
        name: str,
        serves_provinces: list[str] | None = None,
    ) -> Office:
        base, n = ident, 2
        while ident in self.ids:
            ident, n = f"{base}-{n}", n + 1
        self.ids.add(ident)
        register = self.refs.registers[entry.register]
        office = Office(
            id=ident,
            file=entry.file,
            line=entry.line,
            position=entry.line,
            source=entry.link,
            source_date=register.date,
            checked=None,
            verified=False,
            kind=kind,
            services=list(SERVICES_BY_KIND[kind]),
            name=name,
            comune=entry.comune,
            serves_provinces=list(serves_provinces or []),
            serves_comuni=[] if serves_provinces else [entry.comune],
            imported=True,
        )
        self.created.append(office)
        self.fill(office, entry)
        # The record is as old as the oldest register that gave it a value (a town hall's
        # address from IndicePA 2022 beside a 2026 phone number is a 2022 fact), and its
        # source is the page of its address when it has one.
        own = [
            fs
            for fs in self.result.field_sources
            if fs.record_id == office.id and fs.record_kind == "office"
        ]
        dated = [fs.source_date for fs in own if fs.source_date]
        if dated:
            office.source_date = min(dated)
        office.source = next((fs.source for fs in own if fs.field == "address"), office.source)
        return office

    # ------------------------------------------------------------------ the registers

    def comuni(self) -> None:
        register = self.refs.by_role("comuni_contacts") or self.refs.by_role("comuni_townhalls")
        if register is None:
            return
        for comune in territory.comuni():
            entry = self.refs.comuni.get(comune.istat)
            curated = next(
                (
                    o
                    for o in self.offices
                    if o.kind == "anagrafe"
                    and o.comune == comune.istat
                    and o.serves_comuni == [comune.istat]
                ),
                None,
            )
            name = f"Comune di {comune.name} - Ufficio Anagrafe"
            ident = f"anagrafe-{_slug(comune.name)}"
            if curated is not None:
                if entry is not None:
                    self.fill(curated, entry)
            elif entry is not None:
                self.create(entry, "anagrafe", ident, name)
            else:
                # No register row: the Anagrafe still exists (every comune keeps one, L.
                # 1228/1954), with nothing known about how to reach it.
                self.result.uncovered.append(comune.istat)
                self.created.append(
                    Office(
                        id=ident,
                        file=register.file,
                        line=1,
                        position=0,
                        source=ANAGRAFE_LAW,
                        checked=None,
                        verified=False,
                        kind="anagrafe",
                        services=list(SERVICES_BY_KIND["anagrafe"]),
                        name=name,
                        comune=comune.istat,
                        serves_comuni=[comune.istat],
                        imported=True,
                    )
                )
                self.ids.add(ident)
        for istat, (lat, lng, value) in self.refs.coordinates.items():
            self.result.coordinates[istat] = (lat, lng)
            source = self.refs.registers[value.register]
            self.result.field_sources.append(
                FieldSource(
                    "comune",
                    istat,
                    "coordinates",
                    value.register,
                    value.link,
                    source.date,
                    value.line,
                    False,
                )
            )

    def prefetture(self) -> None:
        for code, entry in self.refs.prefetture.items():
            curated = next(
                (
                    o
                    for o in self.offices
                    if o.kind == "prefettura"
                    and code in o.serves_provinces
                    and self.istat[o.comune].province == code
                ),
                None,
            )
            if curated is not None:
                self.fill(curated, entry)
            else:
                self.create(
                    entry,
                    "prefettura",
                    f"prefettura-{code.lower()}",
                    entry.name,
                    serves_provinces=[code],
                )

    def asl(self) -> None:
        for code, entry in self.refs.asl.items():
            curated = next(
                (
                    o
                    for o in self.offices
                    if o.kind == "asl" and o.serves_provinces == [code] and o.comune == entry.comune
                ),
                None,
            )
            if curated is not None:
                self.fill(curated, entry)
            else:
                self.create(
                    entry, "asl", f"asl-{code.lower()}-sede", entry.name, serves_provinces=[code]
                )

    def cpia(self) -> None:
        sites = list(self.refs.cpia)
        for office in self.offices:
            if office.kind != "cpia":
                continue
            here = [s for s in sites if s.comune == office.comune]
            heads = [s for s in here if s.head_office]
            chosen = heads[0] if len(heads) == 1 else here[0] if len(here) == 1 else None
            if chosen is not None:
                sites.remove(chosen)
                self.fill(office, chosen)
        for entry in sites:
            self.create(entry, "cpia", f"cpia-{entry.key.lower()}", entry.name)

    def run(self) -> Merged:
        self.comuni()
        self.prefetture()
        self.asl()
        self.cpia()
        self.result.content = dataclasses.replace(self.content, offices=self.offices + self.created)
        return self.result


def merge(content: Content, refs: References) -> Merged:
    """The content with the registers merged in (see the module's rules)."""
    return _Merger(content, refs).run()


def read_merged(root: Path) -> tuple[Merged, list[Problem]]:
    """Read the knowledge files and the registers, and merge them; problems of both."""
    content, problems = read_knowledge(root)
    refs = read_references(root)
    if refs.problems:
        return Merged(content, refs), problems + refs.problems
    return merge(content, refs), problems
