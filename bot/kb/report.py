"""What the knowledge base covers and what it is missing, for editors (``bot kb report``).

Computed from a loaded database, so it shows what the assistant actually knows: the territory,
which services have an office in which province, how much of each language is translated, how
many procedures a reader gets whole in their language, which records nobody has checked for
:data:`STALE_DAYS` days, and how many are not verified; per province and kind of office, how
complete, verified and old the offices' facts are (:mod:`bot.kb.completeness`); which public
registers were imported, how old they are, and how many comuni have a way to reach their
Anagrafe.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot import territory
from bot.kb import completeness, schema
from bot.kb.vocabulary import LANGUAGES, SERVICES, TIER1

STALE_DAYS = 180

# Records whose facts can go out of date (the territory comes from ISTAT).
_FACT_TABLES = (
    ("service", schema.services),
    ("office", schema.offices),
    ("procedure", schema.procedures),
    ("emergency", schema.emergency_numbers),
    ("safety", schema.safety_help),
    ("faq", schema.faq),
)


def build_report(engine: Engine, today: dt.date | None = None) -> dict[str, Any]:
    """Compute the report as plain data (the ``--json`` output)."""
    today = today or dt.date.today()
    with engine.connect() as conn:

        def count(table: sa.Table) -> int:
            return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()

        provinces_of_comune = dict(
            conn.execute(sa.select(schema.comuni.c.istat, schema.comuni.c.province)).all()
        )
        ambito_province = dict(
            conn.execute(sa.select(schema.ambiti.c.id, schema.ambiti.c.province)).all()
        )
        served: dict[str, set[str]] = {}
        for oid, region in conn.execute(
            sa.select(schema.offices.c.id, schema.offices.c.serves_region)
        ):
            served[oid] = set(territory.PROVINCES) if region else set()
        for oid, code in conn.execute(sa.select(schema.office_provinces)):
            served[oid].add(code)
        for oid, istat in conn.execute(sa.select(schema.office_comuni)):
            served[oid].add(provinces_of_comune[istat])
        for oid, ambito in conn.execute(sa.select(schema.office_ambiti)):
            served[oid].add(ambito_province[ambito])
        coverage = {s: {p: 0 for p in territory.PROVINCES} for s in SERVICES}
        for oid, service in conn.execute(
            sa.select(schema.office_services.c.office_id, schema.office_services.c.service_id)
        ):
            for code in served[oid]:
                coverage[service][code] += 1

        texts: dict[tuple[str, str, int], set[str]] = {}
        for rid, fld, pos, lang in conn.execute(
            sa.select(
                schema.texts.c.record_id,
                schema.texts.c.field,
                schema.texts.c.position,
                schema.texts.c.language,
            )
        ):
            texts.setdefault((rid, fld, pos), set()).add(lang)
        italian = [langs for langs in texts.values() if "it" in langs]
        translations = {
            lang: (
                round(sum(lang in langs for langs in italian) / len(italian), 4) if italian else 0.0
            )
            for lang in LANGUAGES
            if lang != "it"
        }

        # A procedure is whole in a language when its title, summary, every step and every
        # document are: only then does a reader get its checklist without falling back (the
        # assistant never mixes languages inside one checklist; bot/kb/queries.py).
        procedure_texts: dict[str, list[set[str]]] = {}
        for (rid, fld, _pos), langs in texts.items():
            if fld in ("title", "summary", "steps", "documents"):
                procedure_texts.setdefault(rid, []).append(langs)
        procedure_ids = [pid for (pid,) in conn.execute(sa.select(schema.procedures.c.id))]
        whole_procedures = {
            lang: sum(
                all(lang in langs for langs in procedure_texts.get(pid, []))
                for pid in procedure_ids
            )
            for lang in LANGUAGES
            if lang != "it"
        }

        cutoff = today - dt.timedelta(days=STALE_DAYS)
        stale: list[dict[str, Any]] = []
        unverified: dict[str, int] = {}
        for kind, table in _FACT_TABLES:
            for row in conn.execute(
                sa.select(
                    table.c.id, table.c.file, table.c.checked, table.c.verified, table.c.source
                ).order_by(table.c.id)
            ):
                if kind == "service" and not row.source:
                    continue  # a service's name states no fact that could be verified
                if row.checked is not None and row.checked < cutoff:
                    stale.append(
                        {
                            "kind": kind,
                            "id": row.id,
                            "file": row.file,
                            "checked": row.checked.isoformat(),
                        }
                    )
                if not row.verified:
                    unverified[kind] = unverified.get(kind, 0) + 1
        registers = [
            {
                "id": r.id,
                "title": r.title,
                "file": r.file,
                "date": r.date_label or None,
                "age_days": (today - r.source_date).days if r.source_date else None,
                "fields": r.fields,
            }
            for r in conn.execute(
                sa.select(
                    schema.registers.c.id,
                    schema.registers.c.title,
                    schema.registers.c.file,
                    schema.registers.c.date_label,
                    schema.registers.c.source_date,
                    sa.select(sa.func.count())
                    .select_from(schema.field_sources)
                    .where(schema.field_sources.c.register_id == schema.registers.c.id)
                    .scalar_subquery()
                    .label("fields"),
                ).order_by(schema.registers.c.id)
            )
        ]
        return {
            "comuni": count(schema.comuni),
            "provinces": count(schema.provinces),
            "offices": count(schema.offices),
            "procedures": count(schema.procedures),
            "emergency_numbers": count(schema.emergency_numbers),
            "faq": count(schema.faq),
            "faq_by_service": dict(
                conn.execute(
                    sa.select(schema.faq.c.service_id, sa.func.count()).group_by(
                        schema.faq.c.service_id
                    )
                ).all()
            ),
            "coverage": coverage,
            "translations": translations,
            "texts": len(italian),
            "whole_procedures": whole_procedures,
            "stale_days": STALE_DAYS,
            "stale": stale,
            "unverified": sum(unverified.values()),
            "unverified_by_kind": unverified,
            "by_province": completeness.by_province(conn, today),
            "registers": registers,
            "comuni_with_contact": _comuni_with_contact(conn),
        }


def _comuni_with_contact(conn: sa.engine.Connection) -> int:
    """Comuni whose Anagrafe has an address, phone, e-mail, PEC or website."""
    o = schema.offices.c
    reachable = (
        sa.select(schema.office_comuni.c.istat)
        .join(schema.offices, schema.offices.c.id == schema.office_comuni.c.office_id)
        .where(o.kind == "anagrafe", sa.or_(*(getattr(o, f) != "" for f in completeness.CONTACTS)))
        .distinct()
    )
    return conn.execute(sa.select(sa.func.count()).select_from(reachable.subquery())).scalar_one()


def format_report(report: dict[str, Any]) -> str:
    """Render the report as tables for a terminal."""
    provinces = list(territory.PROVINCES)
    lines = [
        f"comuni: {report['comuni']}   provinces: {report['provinces']}   "
        f"offices: {report['offices']}   procedures: {report['procedures']}   "
        f"emergency numbers: {report['emergency_numbers']}   FAQ entries: {report['faq']}",
        "",
        "coverage (offices serving each service, per province; '-' = none):",
        f"  {'service':<24}" + "".join(f"{code:>5}" for code in provinces),
    ]
    for service, per_province in report["coverage"].items():
        cells = "".join(f"{per_province[code] or '-':>5}" for code in provinces)
        lines.append(f"  {service:<24}{cells}")
    lines += ["", "FAQ entries per service:"]
    lines += [
        f"  {service:<24}{report['faq_by_service'].get(service, 0):>5}"
        for service in SERVICES
        if service in report["coverage"]
    ]
    lines += ["", f"translations (share of {report['texts']} Italian texts translated):"]
    for lang, share in report["translations"].items():
        tier = "tier 1" if lang in TIER1 else "tier 2"
        lines.append(f"  {lang:<4}{share * 100:6.1f} %  ({tier})")
    total = report["procedures"]
    lines += [
        "",
        f"whole procedures (title, summary, every step and document translated, of {total}):",
    ]
    for lang, whole in report["whole_procedures"].items():
        tier = "tier 1" if lang in TIER1 else "tier 2"
        share = whole / total * 100 if total else 0.0
        lines.append(f"  {lang:<4}{whole:>4} {share:6.1f} %  ({tier})")
    lines += [
        "",
        f"stale (checked more than {report['stale_days']} days ago): {len(report['stale'])}",
    ]
    lines += [
        f"  {s['file']}: {s['kind']} {s['id']} (checked {s['checked']})" for s in report["stale"]
    ]
    by_kind = ", ".join(f"{k}: {n}" for k, n in sorted(report["unverified_by_kind"].items()))
    lines += [
        "",
        f"unverified records: {report['unverified']}" + (f" ({by_kind})" if by_kind else ""),
    ]
    lines += ["", *completeness.format_lines(report["by_province"])]
    lines += [
        "",
        f"comuni with a contact route (Anagrafe with an address, phone, e-mail, PEC "
        f"or website): {report['comuni_with_contact']}/{report['comuni']}",
    ]
    if report["registers"]:
        lines += ["", "public registers imported (knowledge/reference/):"]
        lines += [
            f"  {r['id']:<20} {r['date'] or 'undated':<11}"
            f"{'' if r['age_days'] is None else str(r['age_days']) + ' days old':<15}"
            f"{r['fields']:>5} fields  {r['title']}"
            for r in report["registers"]
        ]
    return "\n".join(lines)
