"""The importer on good and bad register rows: joins, skips with reasons, curated fields kept,
every imported field stamped with its register, row and date (tests/kb/reference_fixture.py)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from bot.kb import schema
from bot.kb.load import count_rows, load
from bot.kb.merge import ANAGRAFE_LAW, read_merged
from bot.kb.reference import REASONS
from bot.settings import PROJECT_ROOT
from tests.kb.conftest import line_of


def _offices(merged):
    return {o.id: o for o in merged.content.offices}


def _insert_after(path: Path, needle: str, *keys: str) -> None:
    """Add ``keys`` (YAML lines) to a record, after its line holding ``needle``."""
    line = line_of(path, needle)
    lines = path.read_text().splitlines()
    indent = lines[line - 1][: len(lines[line - 1]) - len(lines[line - 1].lstrip())]
    for key in keys:
        lines.insert(line, indent + key)
    path.write_text("\n".join(lines) + "\n")


def test_every_skip_reason_is_reported_with_file_and_line(knowledge_ref: Path) -> None:
    merged, problems = read_merged(knowledge_ref)
    assert problems == []
    skips = {(s.file, s.line, s.reason, s.field) for s in merged.references.skips}
    assert skips == {
        ("reference/contacts.csv", 3, "invalid", "phone"),
        ("reference/contacts.csv", 10, "invalid", "pec"),
        ("reference/contacts.csv", 11, "outside_puglia", ""),
        ("reference/contacts.csv", 12, "duplicate", ""),
        ("reference/townhalls.csv", 3, "invalid", "website"),  # http://password5
        ("reference/townhalls.csv", 4, "merged", ""),  # Acquarica del Capo
        ("reference/townhalls.csv", 4, "invalid", "website"),  # its password5 too
        ("reference/townhalls.csv", 5, "unknown_comune", ""),
        ("reference/prefetture.csv", 3, "outside_puglia", ""),
        ("reference/cpia.csv", 3, "noise", "website"),  # another CPIA's website
        ("reference/cpia.csv", 4, "prison_site", ""),
        ("reference/cpia.csv", 5, "noise", "email"),  # the host school's mailbox
        ("reference/cpia.csv", 6, "location_uncertain", ""),
        ("reference/cpia.csv", 8, "outside_puglia", ""),
    }
    assert {s.reason for s in merged.references.skips} == set(REASONS)
    merged_row = next(s for s in merged.references.skips if s.reason == "merged")
    assert merged_row.detail == (
        "Acquarica del Capo: merged into Presicce-Acquarica (ceased 2019-05-14)"
    )
    password = next(s for s in merged.references.skips if s.line == 3 and s.field == "website")
    assert "'http://password5' is not a web address" in password.detail


def test_repairs_and_decisions_are_noted(knowledge_ref: Path) -> None:
    merged, _ = read_merged(knowledge_ref)
    notes = [str(n) for n in merged.references.notes]
    assert (
        "reference/contacts.csv:5: phone '+39 0833/000003 - 0833/000004' gives several "
        "numbers: the first kept"
    ) in notes
    assert (
        "reference/townhalls.csv:6: CAP 70051 is not Barletta's (76121): left out of the address"
    ) in notes
    assert any(n.startswith("reference/townhalls.csv:6: website 'http://http:") for n in notes)
    assert (
        "reference/townhalls.csv:7: IndicePA code 'it/c_x506' is not the codice catastale "
        "of Lecce: joined by its name in LE"
    ) in notes
    assert any("placed in Trepuzzi" in n for n in notes)


def test_registers_fill_empty_fields_and_stamp_them(knowledge_ref: Path) -> None:
    merged, _ = read_merged(knowledge_ref)
    offices = _offices(merged)
    bari = offices["anagrafe-bari"]  # curated, with every contact empty
    assert (bari.address, bari.phone, bari.pec) == (
        "Corso Uno 1, 70122 Bari",
        "080 0000001",
        "protocollo@pec.bari.example",
    )
    assert bari.imported is False and bari.source == ""  # the record's own provenance stays
    stamps = {
        (fs.field, fs.register, fs.line, fs.source, fs.source_date, fs.seat)
        for fs in merged.field_sources
        if fs.record_id == "anagrafe-bari"
    }
    assert (
        "address",
        "townhalls",
        2,
        "http://ipa.example/c_a662",
        dt.date(2022, 1, 1),
        True,
    ) in stamps
    assert (
        "phone",
        "contacts",
        2,
        "https://contacts.example/",
        dt.date(2026, 1, 26),
        True,
    ) in stamps
    barletta = offices["anagrafe-barletta"]
    assert barletta.address == "Corso Quattro 4, Barletta"  # outdated CAP left out
    assert barletta.website == "http://www.comune.barletta.example"  # repaired
    assert barletta.email == "urp@comune.barletta.example" and barletta.pec == (
        "protocollo@pec.barletta.example"
    )  # the IndicePA PEC, the contacts' one was a mailbox


def test_a_curated_field_is_never_overwritten(knowledge: Path, knowledge_ref: Path) -> None:
    ba = knowledge_ref / "offices" / "ba.yml"
    _insert_after(
        ba,
        'name: "Comune di Bari - Anagrafe"',
        'phone: "080 0000099"',
        'address: "Via del Curato 9, Bari"',
    )
    merged, problems = read_merged(knowledge_ref)
    assert problems == []
    bari = _offices(merged)["anagrafe-bari"]
    assert (bari.address, bari.phone) == ("Via del Curato 9, Bari", "080 0000099")
    assert {fs.field for fs in merged.field_sources if fs.record_id == "anagrafe-bari"} == {
        "email",
        "pec",
        "website",
    }
    kept = {
        (k.field, k.curated, k.register_value, k.expected)
        for k in merged.kept
        if k.office == "anagrafe-bari"
    }
    assert kept == {
        ("address", "Via del Curato 9, Bari", "Corso Uno 1, 70122 Bari", True),
        ("phone", "080 0000099", "080 0000001", True),
    }


def test_entries_no_editor_describes_become_offices(knowledge_ref: Path) -> None:
    merged, _ = read_merged(knowledge_ref)
    offices = _offices(merged)
    prefettura = offices["prefettura-ba"]
    assert (prefettura.imported, prefettura.name, prefettura.address, prefettura.phone) == (
        True,
        "Prefettura di Bari",
        "Piazza Sei 6, 70122 Bari",
        "080 0000011",
    )
    assert prefettura.serves_provinces == ["BA"]
    assert offices["asl-ba-sede"].pec == "protocollo@pec.asl.bari.example"
    nardo = offices["anagrafe-nardo"]
    assert (nardo.phone, nardo.source_date, nardo.file) == (
        "0833 000003",
        dt.date(2026, 1, 26),
        "reference/contacts.csv",
    )
    # The CPIA sites, each with its institute's contacts; the prison site is no office.
    cpia = {o.id: o for o in offices.values() if o.kind == "cpia"}
    assert set(cpia) == {"cpia-lemm00000x", "cpia-lect00001a", "cpia-lect00003c", "cpia-lect00005e"}
    assert cpia["cpia-lect00001a"].website == "https://www.cpia1lecce.example"
    assert cpia["cpia-lect00003c"].email == "lemm00000x@istruzione.it"
    assert cpia["cpia-lect00005e"].address == "VIA SEI 6, 73019 Trepuzzi"
    # A comune no register row describes keeps a bare Anagrafe, as the generated file did.
    foggia = offices["anagrafe-foggia"]
    assert (foggia.source, foggia.address, foggia.phone, foggia.imported) == (
        ANAGRAFE_LAW,
        "",
        "",
        True,
    )
    assert "071024" in merged.uncovered


def test_load_stores_the_provenance_and_twice_changes_nothing(
    knowledge_ref: Path, engine: sa.engine.Engine
) -> None:
    first = load(knowledge_ref, engine)
    assert not first.problems
    assert first.reference_lines()[0].startswith("reference: 28 rows in 6 registers; ")
    with engine.connect() as conn:
        fs = schema.field_sources.c
        row = conn.execute(
            sa.select(schema.field_sources).where(
                fs.record_id == "anagrafe-bari", fs.field == "address"
            )
        ).one()
        assert (row.register_id, row.line, row.source_date, row.seat) == (
            "townhalls",
            2,
            dt.date(2022, 1, 1),
            True,
        )
        register = conn.execute(
            sa.select(schema.registers).where(schema.registers.c.id == "townhalls")
        ).one()
        assert (register.date_label, register.licence) == ("2022", "CC BY 4.0")
        bari = conn.execute(
            sa.select(schema.comuni.c.lat, schema.comuni.c.lng).where(
                schema.comuni.c.istat == "072006"
            )
        ).one()
        assert tuple(bari) == (41.1253, 16.8667)
        imported = conn.execute(
            sa.select(schema.offices.c.imported).where(schema.offices.c.id == "prefettura-ba")
        ).scalar_one()
        assert imported is True
    before = count_rows(engine)
    assert not load(knowledge_ref, engine).changed
    assert count_rows(engine) == before


def test_an_editors_later_value_wins_at_the_next_load(
    knowledge_ref: Path, sqlite_engine: sa.engine.Engine
) -> None:
    assert not load(knowledge_ref, sqlite_engine).problems
    ba = knowledge_ref / "offices" / "ba.yml"
    _insert_after(ba, 'name: "Comune di Modugno - Anagrafe"', 'address: "Via Nuova 1, Modugno"')
    assert not load(knowledge_ref, sqlite_engine).problems
    with sqlite_engine.connect() as conn:
        address = conn.execute(
            sa.select(schema.offices.c.address).where(schema.offices.c.id == "anagrafe-modugno")
        ).scalar_one()
        stamped = (
            conn.execute(
                sa.select(schema.field_sources.c.field).where(
                    schema.field_sources.c.record_id == "anagrafe-modugno"
                )
            )
            .scalars()
            .all()
        )
    assert address == "Via Nuova 1, Modugno" and "address" not in stamped


def test_a_register_without_its_columns_stops_the_load(
    knowledge_ref: Path, sqlite_engine: sa.engine.Engine
) -> None:
    contacts = knowledge_ref / "reference" / "contacts.csv"
    contacts.write_text(contacts.read_text().replace(",telefono,", ",phone,", 1))
    result = load(knowledge_ref, sqlite_engine)
    assert [str(p) for p in result.problems] == [
        "reference/contacts.csv:1: missing column(s) telefono"
    ]
    assert not sa.inspect(sqlite_engine).has_table("kb_offices")  # not even migrated


def test_a_broken_manifest_is_a_problem(knowledge_ref: Path) -> None:
    manifest = knowledge_ref / "reference" / "registers.yml"
    manifest.write_text(
        manifest.read_text()
        .replace("role: asl", "role: hospital")
        .replace("file: cpia.csv", "file: missing.csv")
    )
    _, problems = read_merged(knowledge_ref)
    assert [str(p) for p in problems] == [
        f"reference/registers.yml:{line_of(manifest, 'role: hospital')}: unknown role "
        "'hospital' (expected one of comuni_contacts, comuni_townhalls, comuni_suppressed, "
        "prefetture, asl, cpia)",
        f"reference/registers.yml:{line_of(manifest, 'file: missing.csv')}: no file "
        "reference/missing.csv",
    ]


def test_without_a_reference_folder_nothing_is_imported(knowledge: Path) -> None:
    merged, problems = read_merged(knowledge)
    assert problems == [] and merged.field_sources == []
    assert not any(o.imported for o in merged.content.offices)
    assert merged.summary_lines() == []


def test_cli_reference_lists_what_was_imported_and_skipped(knowledge_ref: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app", "kb", "reference", "--json", "--path", str(knowledge_ref)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["skipped_by_reason"] == {
        "merged": 1,
        "outside_puglia": 3,
        "unknown_comune": 1,
        "duplicate": 1,
        "prison_site": 1,
        "invalid": 4,
        "noise": 2,
        "location_uncertain": 1,
    }
    assert report["cpia"] == {
        "rows": 7,
        "sites_used": 4,
        "prison_sites_excluded": 1,
        "other_rows_skipped": 2,
    }
    assert report["offices_created"] == {"anagrafe": 254, "asl": 1, "cpia": 4, "prefettura": 1}
    assert report["comuni_with_contact"] == 9  # the comuni the contacts register has
    text = subprocess.run(
        [sys.executable, "-m", "app", "kb", "reference", "--path", str(knowledge_ref)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
    ).stdout
    assert (
        "  reference/townhalls.csv:3: invalid: website: website 'http://password5' is not "
        "a web address"
    ) in text
