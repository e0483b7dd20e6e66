"""What the importer did with the public registers, for editors (``bot kb reference``).

Computed from the files alone (no database): the registers and their dates, how many fields
each filled, which offices it created or completed, every curated value it left in place where
the register says otherwise, every row and field it skipped with the reason, and every repair.
An editor reading this can tell a register's noise from a gap in the curated files.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from bot import territory
from bot.kb.merge import CONTACT_FIELDS, Merged
from bot.kb.reference import PRISON, REASONS


def comuni_with_contact(merged: Merged) -> list[str]:
    """ISTAT codes of the comuni whose Anagrafe office has an address, phone, PEC, e-mail or site.

    The Anagrafe is the office every resident must reach (and the one the registers complete
    for every comune), so "a contact route for every comune" is measured on it.
    """
    reachable = set()
    for office in merged.content.offices:
        if office.kind == "anagrafe" and any(getattr(office, f) for f in CONTACT_FIELDS):
            reachable.update(office.serves_comuni)
    return [c.istat for c in territory.comuni() if c.istat in reachable]


def import_report(merged: Merged) -> dict[str, Any]:
    """The importer's report as plain data (``bot kb reference --json``)."""
    refs = merged.references
    files = {o.id: o for o in merged.content.offices}
    by_register: dict[str, Counter] = {}
    for fs in merged.field_sources:
        by_register.setdefault(fs.register, Counter())[fs.field] += 1
    created = Counter(o.kind for o in merged.content.offices if o.imported)
    cpia_rows = refs.rows.get(
        next((r.id for r in refs.registers.values() if r.role == "cpia"), ""), 0
    )
    return {
        "registers": [
            {
                "id": r.id,
                "role": r.role,
                "file": r.file,
                "title": r.title,
                "url": r.url,
                "date": r.date_label or None,
                "licence": r.licence,
                "attribution": r.attribution,
                "rows": refs.rows.get(r.id, 0),
            }
            for r in refs.registers.values()
        ],
        "fields_imported": len(merged.field_sources),
        "fields_by_register": {k: dict(sorted(v.items())) for k, v in by_register.items()},
        "offices_created": dict(sorted(created.items())),
        "offices_completed": sorted(j.office for j in merged.joins if not j.created),
        "comuni_with_contact": len(comuni_with_contact(merged)),
        "comuni_without_register_row": sorted(merged.uncovered),
        "comuni": len(territory.comuni()),
        "cpia": {
            "rows": cpia_rows,
            "sites_used": sum(
                1
                for o in merged.content.offices
                if o.kind == "cpia" and any(j.office == o.id for j in merged.joins)
            ),
            "prison_sites_excluded": sum(1 for s in refs.skips if s.reason == PRISON),
            "other_rows_skipped": sum(
                1
                for s in refs.skips
                if s.register in {r.id for r in refs.registers.values() if r.role == "cpia"}
                and not s.field
                and s.reason != PRISON
            ),
        },
        "confirmed": merged.agreed,
        "kept": [
            {
                "office": k.office,
                "file": files[k.office].file,
                "line": files[k.office].line,
                "field": k.field,
                "curated": k.curated,
                "register": k.register_value,
                "register_row": f"{k.file}:{k.line}",
                "expected": k.expected,
            }
            for k in merged.kept
        ],
        "skipped_rows": sum(1 for s in refs.skips if not s.field),
        "skipped_fields": sum(1 for s in refs.skips if s.field),
        "skipped_by_reason": {
            reason: n
            for reason in REASONS
            if (n := sum(1 for s in refs.skips if s.reason == reason))
        },
        "skipped": [
            {
                "file": s.file,
                "line": s.line,
                "reason": s.reason,
                "field": s.field,
                "detail": s.detail,
            }
            for s in refs.skips
        ],
        "notes": [{"file": n.file, "line": n.line, "detail": n.detail} for n in refs.notes],
    }


def format_import_report(report: dict[str, Any]) -> str:
    """The importer's report for a terminal."""
    lines = ["registers (knowledge/reference/registers.yml):"]
    for r in report["registers"]:
        lines.append(
            f"  {r['id']:<20} {r['file']:<46} {r['rows']:>4} rows  "
            f"{r['date'] or 'undated':<10}  {r['licence']}"
        )
    created = ", ".join(f"{k} {n}" for k, n in report["offices_created"].items()) or "none"
    lines += [
        "",
        f"fields imported: {report['fields_imported']}",
        *(
            f"  {reg:<20} " + ", ".join(f"{f} {n}" for f, n in fields.items())
            for reg, fields in report["fields_by_register"].items()
        ),
        f"offices created: {created}; curated offices completed: "
        f"{len(report['offices_completed'])}",
        f"comuni with a contact route: {report['comuni_with_contact']}/{report['comuni']}"
        + (
            f" ({len(report['comuni_without_register_row'])} without any register row)"
            if report["comuni_without_register_row"]
            else ""
        ),
        f"CPIA rows: {report['cpia']['rows']}; sites used: {report['cpia']['sites_used']}; "
        f"prison sites excluded: {report['cpia']['prison_sites_excluded']}; other rows "
        f"skipped: {report['cpia']['other_rows_skipped']}",
        "",
        f"curated values kept where the register differs: {len(report['kept'])} "
        f"(the register's value is the main seat's for "
        f"{sum(k['expected'] for k in report['kept'])}); confirmed by a register: "
        f"{report['confirmed']}",
    ]
    for k in sorted(report["kept"], key=lambda k: k["expected"]):
        seat = " (main seat)" if k["expected"] else ""
        lines.append(
            f"  {k['file']}:{k['line']}: {k['office']} {k['field']} {k['curated']!r} "
            f"kept; {k['register_row']} says {k['register']!r}{seat}"
        )
    by_reason = ", ".join(f"{k} {n}" for k, n in report["skipped_by_reason"].items())
    lines += [
        "",
        f"skipped: {report['skipped_rows']} rows, {report['skipped_fields']} fields"
        + (f" ({by_reason})" if by_reason else ""),
    ]
    for s in report["skipped"]:
        what = f"{s['field']}: " if s["field"] else ""
        lines.append(f"  {s['file']}:{s['line']}: {s['reason']}: {what}{s['detail']}")
    lines += ["", f"repairs and decisions: {len(report['notes'])}"]
    lines += [f"  {n['file']}:{n['line']}: {n['detail']}" for n in report["notes"]]
    return "\n".join(lines)
