"""The editors' report: what is covered, translated, stale and unverified."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from bot.kb.load import load
from bot.kb.report import build_report, format_report
from bot.settings import PROJECT_ROOT


def test_report_counts(knowledge: Path, engine: sa.engine.Engine) -> None:
    assert not load(knowledge, engine).problems
    report = build_report(engine, today=dt.date(2026, 11, 21))
    assert (report["comuni"], report["provinces"], report["offices"]) == (257, 6, 9)
    # Questure in BA, FG, LE, BT, a patronato in Modugno (BA), the regional Commissione.
    assert report["coverage"]["residence_permit"] == {
        "BA": 3,
        "BT": 2,
        "BR": 1,
        "FG": 2,
        "LE": 2,
        "TA": 1,
    }
    assert report["coverage"]["residence_registration"] == {
        "BA": 2,
        "BT": 1,
        "BR": 0,
        "FG": 0,
        "LE": 0,
        "TA": 0,
    }
    # 20 Italian texts; English has 16 of them, French 8, Albanian 4.
    assert report["texts"] == 20
    assert report["translations"]["en"] == round(16 / 20, 4)
    assert report["translations"]["fr"] == round(8 / 20, 4)
    assert report["translations"]["sq"] == round(4 / 20, 4)
    assert report["translations"]["pa"] == 0.0
    # The permit renewal is whole in English, Arabic and French (Albanian lacks a step); the
    # residence registration only in French.
    assert report["procedures"] == 2
    assert {lang: n for lang, n in report["whole_procedures"].items() if n} == {
        "en": 1,
        "ar": 1,
        "fr": 2,
    }
    # anagrafe-bari was checked on 2025-01-10: more than 180 days before 2026-11-21.
    assert report["stale"] == [
        {"kind": "office", "id": "anagrafe-bari", "file": "offices/ba.yml", "checked": "2025-01-10"}
    ]
    # 9 offices, 2 procedures and the medical help are unverified; the two numbers, the
    # exploitation help and the FAQ entry are verified.
    assert report["unverified"] == 12
    assert report["unverified_by_kind"] == {"office": 9, "procedure": 2, "safety": 1}
    assert (report["faq"], report["faq_by_service"]) == (1, {"residence_permit": 1})
    text = format_report(report)
    assert "comuni: 257   provinces: 6   offices: 9" in text
    assert "  residence_permit            3    2    1    2    2    1" in text
    assert "  offices/ba.yml: office anagrafe-bari (checked 2025-01-10)" in text
    assert "  residence_permit            1" in text
    assert "whole procedures (title, summary, every step and document translated, of 2):" in text
    assert "  fr     2  100.0 %  (tier 1)" in text
    assert "  sq     0    0.0 %  (tier 1)" in text
    assert "  pa     0    0.0 %  (tier 2)" in text


def test_cli_report_on_files_leaves_the_database_alone(knowledge: Path, tmp_path: Path) -> None:
    db = tmp_path / "untouched.db"
    done = subprocess.run(
        [sys.executable, "-m", "app", "kb", "report", "--json", "--path", str(knowledge)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
        env={
            "DATABASE_URL": f"sqlite:///{db}",
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(PROJECT_ROOT),
        },
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["comuni"], report["provinces"], report["offices"]) == (257, 6, 9)
    assert not db.exists()


def test_cli_load_reports_changes_then_nothing(knowledge: Path, tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(PROJECT_ROOT),
    }

    def bot(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "app", "kb", *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=PROJECT_ROOT,
            env=env,
        )

    first = bot("load", "--path", str(knowledge))
    assert first.returncode == 0, first.stderr
    assert "offices: 9 added, 0 updated, 0 removed" in first.stdout.splitlines()
    second = bot("load", "--path", str(knowledge))
    assert second.stdout.strip() == "nothing changed: the database already matches the files"
    (knowledge / "offices" / "le.yml").write_text("offices: [\n")
    broken = bot("load", "--path", str(knowledge))
    assert broken.returncode == 1
    assert broken.stderr.splitlines()[-1] == "1 problem(s); nothing was written"
    migrate = bot("migrate")
    assert migrate.stdout.strip() == "knowledge base tables at revision 0003"


def test_report_per_province_and_kind_with_source_age(
    knowledge_ref: Path, engine: sa.engine.Engine
) -> None:
    assert not load(knowledge_ref, engine).problems
    report = build_report(engine, today=dt.date(2026, 12, 8))
    bari = report["by_province"]["BA"]
    # The Prefettura of Bari was created from the 2021 register: complete but for hours,
    # unverified, dated by its register (2021-07-22, more than two years before).
    assert bari["prefettura"] == {
        "offices": 1,
        "imported": 1,
        "complete": {"address": 1.0, "phone": 1.0, "hours": 0.0, "source": 1.0, "contact": 1.0},
        "verified": 0.0,
        "source_age": {
            "median_days": 1965,
            "oldest": "2021-07-22",
            "older_than_two_years": 1,
            "dated_by": {"source_date": 1, "checked": 0, "undated": 0},
        },
    }
    # The curated questura: address and hours from the file, dated only by `checked`.
    assert bari["questura"]["complete"] == {
        "address": 1.0,
        "phone": 0.0,
        "hours": 1.0,
        "source": 1.0,
        "contact": 1.0,
    }
    assert bari["questura"]["source_age"]["dated_by"] == {
        "source_date": 0,
        "checked": 1,
        "undated": 0,
    }
    assert bari["all"]["offices"] == sum(s["offices"] for k, s in bari.items() if k != "all")
    assert report["comuni_with_contact"] == 9
    assert {r["id"]: (r["date"], r["fields"]) for r in report["registers"]}["townhalls"] == (
        "2022",
        8,
    )
    text = format_report(report)
    assert "offices per province and kind" in text
    assert (
        "comuni with a contact route (Anagrafe with an address, phone, e-mail, PEC or "
        "website): 9/257" in text
    )


def test_cli_report_json_has_the_new_sections(knowledge_ref: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app", "kb", "report", "--json", "--path", str(knowledge_ref)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
        env={
            "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(PROJECT_ROOT),
        },
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report["by_province"]) == {"BA", "BT", "BR", "FG", "LE", "TA"}
    le = report["by_province"]["LE"]["cpia"]
    assert set(le) == {"offices", "imported", "complete", "verified", "source_age"}
    assert le["offices"] == 4 and le["complete"]["address"] == 1.0
