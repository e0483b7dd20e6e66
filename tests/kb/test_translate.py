"""Translator round trip: CSV out, translated CSV in, only the translated lines change."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from bot.kb.load import load
from bot.kb.queries import KnowledgeBase
from bot.kb.translate import export, import_csv
from bot.settings import PROJECT_ROOT


def _export(knowledge: Path, language: str) -> list[list[str]]:
    out = io.StringIO()
    assert export(knowledge, language, out) == []
    return list(csv.reader(io.StringIO(out.getvalue())))


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_export_lists_every_text_with_its_translation(knowledge: Path) -> None:
    rows = _export(knowledge, "sq")
    assert rows[0] == ["key", "italian", "text_in_sq"]
    keys = {row[0]: row[1:] for row in rows[1:]}
    assert keys["residence-permit-renewal.steps.1"] == [
        "Ritira il kit postale.",
        "Merr kitin postar.",
    ]
    assert keys["residence-permit-renewal.steps.2"] == ["Spedisci la domanda.", ""]
    assert keys["questura-bari.closures.1"] == ["Chiuso la vigilia di Natale", ""]
    assert keys["residence_permit.name"] == ["Permesso di soggiorno", ""]
    assert "questura-bari.name" not in keys  # office names are proper names, Italian only
    assert keys["permit-work-with-receipt.answer"] == [
        "Sì, se hai chiesto il rinnovo in tempo.",
        "",
    ]
    assert len(keys) == 20


def test_round_trip_changes_only_the_translated_lines(
    knowledge: Path, tmp_path: Path, sqlite_engine: sa.engine.Engine
) -> None:
    rows = _export(knowledge, "sq")
    for row in rows[1:]:
        if row[0] == "residence-permit-renewal.steps.2":
            row[2] = "Dërgo kërkesën: me postë."
        if row[0] == "questura-bari.notes":
            row[2] = "Sill një kopje të pasaportës"
    before = {p: p.read_text() for p in knowledge.rglob("*.yml")}

    result = import_csv(knowledge, _write(tmp_path / "sq.csv", rows), "sq")

    assert result.problems == []
    assert (result.changed_texts, result.changed_files) == (
        2,
        ["offices/ba.yml", "procedures/residence_permit.yml"],
    )
    changed = {p for p in before if p.read_text() != before[p]}
    assert changed == {knowledge / "offices/ba.yml", knowledge / "procedures/residence_permit.yml"}
    for path in changed:
        old, new = before[path].splitlines(), path.read_text().splitlines()
        assert len(old) == len(new)
        differing = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
        assert len(differing) == 1
    proc = (knowledge / "procedures/residence_permit.yml").read_text()
    assert (
        '- {it: "Spedisci la domanda.", en: "Send the application.", ar: "أرسل الطلب.", '
        'fr: "Envoie la demande.", sq: "Dërgo kërkesën: me postë."}'
    ) in proc

    assert not load(knowledge, sqlite_engine).problems
    kb = KnowledgeBase(sqlite_engine, refresh_seconds=None)
    albanian = kb.procedure("residence_permit", "sq")
    assert (albanian.language, albanian.steps[1]) == ("sq", "Dërgo kërkesën: me postë.")

    # Importing the same file again changes nothing.
    again = import_csv(knowledge, tmp_path / "sq.csv", "sq")
    assert (again.problems, again.changed_texts) == ([], 0)


def test_unknown_key_and_broken_rows_are_reported_with_csv_lines(
    knowledge: Path, tmp_path: Path
) -> None:
    rows = _export(knowledge, "sq")
    rows[2][2] = "Leje qëndrimi"
    rows.insert(3, ["questura-bari.nonexistent", "x", "y"])
    rows.insert(4, ["only", "two"])
    rows[6][1] = "Un testo italiano cambiato"
    before = {p: p.read_text() for p in knowledge.rglob("*.yml")}

    path = _write(tmp_path / "bad.csv", rows)
    result = import_csv(knowledge, path, "sq")

    assert [str(p) for p in result.problems] == [
        f"{path}:4: unknown key 'questura-bari.nonexistent'",
        f"{path}:5: expected 3 columns, found 2",
        f"{path}:7: the Italian text of '{rows[6][0]}' changed since this file was exported; "
        "export again",
    ]
    assert {p: p.read_text() for p in knowledge.rglob("*.yml")} == before


def test_wrong_header_and_unparseable_csv(knowledge: Path, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("key,italian,text_in_fr\n")
    assert [str(p) for p in import_csv(knowledge, wrong, "sq").problems] == [
        f"{wrong}:1: the first line must be key,italian,text_in_sq"
    ]
    broken = tmp_path / "broken.csv"
    broken.write_text('key,italian,text_in_sq\nresidence_permit.name,"Permesso di soggiorno,x\n')
    problems = [str(p) for p in import_csv(knowledge, broken, "sq").problems]
    assert problems == [f"{broken}:2: broken CSV: unexpected end of data"]


def test_cli_export_and_import(knowledge: Path, tmp_path: Path) -> None:
    out = tmp_path / "fr.csv"

    def bot(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "app", "kb", *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=PROJECT_ROOT,
        )

    done = bot("export", "--lang", "fr", "--out", str(out), "--path", str(knowledge))
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(out.open(encoding="utf-8")))
    rows[1][2] = "Titre de séjour"
    _write(out, rows)
    done = bot("import", str(out), "--lang", "fr", "--path", str(knowledge))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "1 text(s) changed in 1 file(s)"
    assert 'fr: "Titre de séjour"' in (knowledge / "services.yml").read_text()
    assert bot("export", "--lang", "it", "--path", str(knowledge)).returncode == 2
