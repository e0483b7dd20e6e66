"""The editors' review queue: most important first, each item with file:line and links."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from bot.kb.review import review
from bot.settings import PROJECT_ROOT
from tests.kb.conftest import line_of

TODAY = dt.date(2026, 12, 8)


def test_key_offices_come_first_and_scores_never_rise(knowledge_ref: Path) -> None:
    items, problems = review(knowledge_ref, TODAY)
    assert problems == []
    scores = [item.score for item in items]
    assert scores == sorted(scores, reverse=True)
    # Unverified, unsourced Questure in capoluoghi first (3 + 3 + 3 empty fields, weight 20).
    assert [(i.id, i.score) for i in items[:2]] == [
        ("questura-foggia", 180.0),
        ("questura-lecce", 180.0),
    ]
    assert items[0].reasons == [
        "key office, not verified",
        "no source",
        "empty: address, phone, hours",
    ]
    assert items[0].register == "https://questure.poliziadistato.it"
    assert items[0].search.startswith("https://www.google.com/search?q=%22Questura+di+Foggia")
    ids = [i.id for i in items]
    # An office a register created ranks below the curated ones of the same kind.
    assert ids.index("questura-bari") < ids.index("prefettura-ba")


def test_items_point_at_the_line_to_edit(knowledge_ref: Path) -> None:
    items, _ = review(knowledge_ref, TODAY)
    for item in items:
        path = knowledge_ref.parent / item.file
        if item.file.endswith(".yml"):
            assert path.read_text().splitlines()[item.line - 1].strip() == f"- id: {item.id}"
    prefettura = next(i for i in items if i.id == "prefettura-ba")
    assert prefettura.where == "knowledge/reference/prefetture.csv:2"
    assert prefettura.edit.startswith(
        "add a record with id prefettura-ba to knowledge/offices/ba.yml"
    )
    assert "source older than two years: 2021-07-22 (source_date)" in prefettura.reasons


def test_old_registers_get_one_item_each(knowledge_ref: Path) -> None:
    items, _ = review(knowledge_ref, TODAY)
    registers = {i.id: i for i in items if i.kind == "register"}
    assert set(registers) == {"prefetture", "asl", "townhalls"}
    assert registers["prefetture"].reasons == [
        "register dated 2021-07-22, older than two years: 4 imported fields (offices: 1); "
        "replace the extract and its date in knowledge/reference/registers.yml"
    ]


def test_a_verified_complete_office_leaves_the_queue(knowledge_ref: Path) -> None:
    ba = knowledge_ref / "offices" / "ba.yml"
    text = ba.read_text()
    start = line_of(ba, "- id: questura-bari")
    lines = text.splitlines()
    phone = next(n for n in range(start, len(lines)) if lines[n].strip() == 'phone: ""')
    lines[phone] = lines[phone].replace('""', '"080 0000000"')
    verified = next(n for n in range(start, len(lines)) if "verified: false" in lines[n])
    lines[verified] = lines[verified].replace("false", "true")  # the one line an editor edits
    ba.write_text("\n".join(lines) + "\n")
    items, _ = review(knowledge_ref, TODAY)
    assert "questura-bari" not in {i.id for i in items}


def test_cli_review_json(knowledge_ref: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "kb",
            "review",
            "--json",
            "--limit",
            "3",
            "--today",
            TODAY.isoformat(),
            "--path",
            str(knowledge_ref),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)
    assert [i["rank"] for i in items] == [1, 2, 3]
    assert set(items[0]) >= {
        "score",
        "id",
        "kind",
        "file",
        "line",
        "where",
        "reasons",
        "source",
        "register",
        "search",
        "edit",
    }
    assert items[0]["where"] == "knowledge/offices/fg.yml:2"
