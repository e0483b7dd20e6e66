"""The editors' review queue (``bot kb review``): what to check next, most important first.

Computed from the files and the registers (no database), because every item must point at the
``file:line`` an editor opens. Each office gets points for what is wrong with it:

- a key office (:data:`KEY_KINDS`) not verified: 3, and 3 more when it names no source;
- a source older than two years (``source_date``, else ``checked``; the item says which): 2;
- a register that gives another value for a field an editor wrote (not a main seat's): 2;
- each of address, phone and opening hours still empty: 1 (an address known only as the
  administration's main seat, from a register: 0.5).

The points are multiplied by how often the assistant names the office, estimated with a static
weight (:data:`KIND_WEIGHT`, doubled for an office in a capoluogo or serving a whole province or
the region, which is what the assistant names for every comune around it) and halved for
offices a register created (their facts already come from an official source). Public registers
older than two years get one item each: refreshing the extract fixes all their fields at once.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot import territory
from bot.kb.merge import Merged, read_merged
from bot.kb.validate import Office, Problem

KEY_KINDS = (
    "questura",
    "prefettura",
    "asl",
    "centro_impiego",
    "commissione_territoriale",
    "cpia",
    "agenzia_entrate",
)
KIND_WEIGHT = {
    "questura": 10,
    "prefettura": 9,
    "commissione_territoriale": 9,
    "asl": 8,
    "centro_impiego": 7,
    "agenzia_entrate": 7,
    "cpia": 6,
    "anagrafe": 5,
    "legal_aid": 4,
    "patronato": 3,
    "foresteria": 3,
    "other": 2,
}
TWO_YEARS = dt.timedelta(days=730)

# Home pages of the bodies whose offices no register here covers: where an editor starts.
OFFICIAL_SITES = {
    "questura": "https://questure.poliziadistato.it",
    "prefettura": "https://prefettura.interno.gov.it",
    "commissione_territoriale": "https://www.interno.gov.it",
    "agenzia_entrate": "https://www.agenziaentrate.gov.it",
    "asl": "https://www.sanita.puglia.it",
    "centro_impiego": "https://regione.puglia.it",
}


@dataclass
class Item:
    """One office (or register) to check, with why, where to edit and where to look."""

    score: float
    id: str
    kind: str
    name: str
    comune: str
    file: str  # knowledge/... the editor opens
    line: int
    reasons: list[str] = field(default_factory=list)
    source: str = ""
    register: str = ""
    search: str = ""
    edit: str = ""  # what to do when the record is not in a YAML file yet

    @property
    def where(self) -> str:
        """``file:line`` as editors' tools open it."""
        return f"{self.file}:{self.line}"


def weight(office: Office, capoluoghi: set[str], halve_imported: bool = True) -> float:
    """How often the assistant names this office, as a static estimate (see the module)."""
    wide = office.serves_region or bool(office.serves_provinces) or office.comune in capoluoghi
    base = KIND_WEIGHT.get(office.kind, 2) * (2 if wide else 1)
    return base / 2 if office.imported and halve_imported else base


def _search(office: Office, comune: str) -> str:
    query = f'"{office.name}" {comune} indirizzo telefono orari'
    return "https://www.google.com/search?q=" + urllib.parse.quote_plus(query)


def build_queue(merged: Merged, today: dt.date, root: str = "knowledge") -> list[Item]:
    """Every office with something to check, plus stale registers, most important first."""
    istat = {c.istat: c for c in territory.comuni()}
    capoluoghi = {c.istat for c in territory.comuni() if c.capoluogo}
    sources = defaultdict(list)
    for fs in merged.field_sources:
        if fs.record_kind == "office":
            sources[fs.record_id].append(fs)
    kept = defaultdict(list)
    for k in merged.kept:
        if not k.expected:
            kept[k.office].append(k)
    registers = merged.registers
    items: list[Item] = []
    for office in merged.content.offices:
        points, reasons = 0.0, []
        if office.kind in KEY_KINDS and not office.verified:
            points += 3
            reasons.append("key office, not verified")
        if not office.source:
            points += 3 if office.kind in KEY_KINDS else 1
            reasons.append("no source")
        when = office.source_date or office.checked
        if when and today - when > TWO_YEARS:
            points += 2
            which = "source_date" if office.source_date else "checked (no source_date)"
            reasons.append(f"source older than two years: {when.isoformat()} ({which})")
        for k in kept[office.id]:
            points += 2
            reasons.append(
                f"{k.field}: the register {k.file}:{k.line} says {k.register_value!r}, "
                f"the file {k.curated!r}"
            )
        filled = {fs.field: fs for fs in sources[office.id]}
        empty = []
        for name in ("address", "phone"):
            if not getattr(office, name):
                points += 1
                empty.append(name)
            elif name in filled and filled[name].seat:
                points += 0.5
                empty.append(f"{name} (only the main seat's, from a register)")
        if not office.hours:
            points += 1
            empty.append("hours")
        if empty:
            reasons.append("empty: " + ", ".join(empty))
        if not points:
            continue
        comune = istat[office.comune]
        register_links = sorted({fs.source for fs in sources[office.id]})
        item = Item(
            score=round(points * weight(office, capoluoghi), 1),
            id=office.id,
            kind=office.kind,
            name=office.name,
            comune=comune.name,
            file=f"{root}/{office.file}",
            line=office.line,
            reasons=reasons,
            source=office.source or "",
            register=" ".join(register_links) or OFFICIAL_SITES.get(office.kind, ""),
            search=_search(office, comune.name),
        )
        if office.imported:
            item.edit = (
                f"add a record with id {office.id} to {root}/offices/"
                f"{comune.province.lower()}.yml (the fields you write win over "
                f"the register's)"
            )
        items.append(item)
    for register in registers.values():
        if register.date is None or today - register.date <= TWO_YEARS:
            continue
        users = {
            fs.record_id
            for fs in merged.field_sources
            if fs.register == register.id and fs.record_kind == "office"
        }
        if not users:
            continue
        offices = [o for o in merged.content.offices if o.id in users]
        top = max(weight(o, capoluoghi, halve_imported=False) for o in offices)
        count = sum(1 for fs in merged.field_sources if fs.register == register.id)
        items.append(
            Item(
                score=2 * top,
                id=register.id,
                kind="register",
                name=register.title,
                comune="",
                file=f"{root}/{register.file}",
                line=1,
                reasons=[
                    f"register dated {register.date_label}, older than two years: "
                    f"{count} imported fields (offices: {len(users)}); replace the extract "
                    f"and its date in {root}/reference/registers.yml"
                ],
                source=register.url,
                register=register.url,
                search="https://www.google.com/search?q="
                + urllib.parse.quote_plus(f"{register.origin or register.title} open data"),
            )
        )
    items.sort(key=lambda i: (-i.score, i.file, i.line))
    return items


def review(root: Path, today: dt.date | None = None) -> tuple[list[Item], list[Problem]]:
    """The queue for the knowledge folder ``root`` (problems stop it, as they stop a load)."""
    merged, problems = read_merged(root)
    if problems:
        return [], problems
    return build_queue(merged, today or dt.date.today(), root.name), []


def as_json(items: list[Item]) -> list[dict[str, Any]]:
    """The queue as plain data, ranked from 1."""
    return [{"rank": n, **asdict(item), "where": item.where} for n, item in enumerate(items, 1)]


def format_queue(items: list[Item], total: int) -> str:
    """The queue for a terminal."""
    lines = [
        f"review queue: {len(items)} of {total} items, most important first "
        "(score = points × how often the assistant names the office)"
    ]
    for n, item in enumerate(items, 1):
        place = f", {item.comune}" if item.comune else ""
        lines.append(f"{n:>3}. [{item.score:g}] {item.id} — {item.name} ({item.kind}{place})")
        lines.append(f"       edit: {item.where}")
        if item.edit:
            lines.append(f"       or:   {item.edit}")
        lines += [f"       - {reason}" for reason in item.reasons]
        lines.append(f"       source:   {item.source or '—'}")
        if item.register:
            lines.append(f"       register: {item.register}")
        lines.append(f"       search:   {item.search}")
    return "\n".join(lines)
