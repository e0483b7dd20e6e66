"""The validator names the file and line of every kind of mistake an editor can make."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.kb.validate import read_knowledge
from bot.settings import PROJECT_ROOT
from tests.kb.conftest import line_of


def _problems(root: Path) -> list[str]:
    return [str(p) for p in read_knowledge(root)[1]]


def test_fixture_content_is_valid(knowledge: Path) -> None:
    content, problems = read_knowledge(knowledge)
    assert problems == []
    assert len(content.offices) == 9
    # Unquoted 15:00 is a time, not YAML 1.1's base-60 integer 900.
    slot = next(s for s in content.offices[0].hours if s.appointment_only)
    assert f"{slot.opens:%H:%M}-{slot.closes:%H:%M}" == "15:00-17:00"


@pytest.mark.parametrize(
    ("file", "old", "new", "anchor", "message"),
    [
        (
            "offices/ba.yml",
            "    kind: questura",
            "    kind: questura\n    adress: x",
            "adress:",
            "unknown key 'adress' in office (did you mean 'address'?)",
        ),
        (
            "offices/ba.yml",
            "kind: questura",
            "kind: police",
            "kind: police",
            "unknown office kind 'police' (expected one of questura, prefettura, anagrafe, asl, "
            "centro_impiego, cpia, agenzia_entrate, commissione_territoriale, foresteria, "
            "patronato, legal_aid, other)",
        ),
        (
            "offices/ba.yml",
            "services: [residence_permit]",
            "services: [residence_permits]",
            "residence_permits",
            "unknown service 'residence_permits' (did you mean 'residence_permit'?)",
        ),
        (
            "offices/ba.yml",
            "provinces: [BA]",
            "provinces: [BX]",
            "BX",
            "unknown province 'BX' (expected one of BA, BT, BR, FG, LE, TA)",
        ),
        (
            "offices/ba.yml",
            'open: "08:30"',
            'open: "8.30"',
            "8.30",
            "'open' must be a time HH:MM (00:00-23:59), not '8.30'",
        ),
        (
            "offices/ba.yml",
            "date: 2027-12-24",
            "date: 2027-02-30",
            "2027-02-30",
            "YAML syntax: '2027-02-30' is not a real date (day is out of range for month)",
        ),
        (
            "offices/ba.yml",
            "checked: 2026-11-01",
            'checked: "1 Nov 2026"',
            "1 Nov 2026",
            "'checked' must be a date YYYY-MM-DD, not '1 Nov 2026'",
        ),
        (
            "offices/ba.yml",
            "verified: false",
            "verified: maybe",
            "maybe",
            "'verified' must be true/false, not text",
        ),
        (
            "offices/ba.yml",
            "    services: [residence_permit]",
            "    services: residence_permit",
            "services: residence_permit",
            "'services' must be a list, not text",
        ),
        (
            "offices/ba.yml",
            "open: 15:00\n",
            'open: "17:30"\n',
            "days: [tue, thu]",
            "closes (17:00) before it opens (17:30)",
        ),
        (
            "offices/ba.yml",
            "open: 15:00\n",
            'open: "12:00"\n',
            "days: [tue, thu]",
            "hours overlap on tue: 08:30-12:30 (line 12) and 12:00-17:00",
        ),
        (
            "offices/ba.yml",
            'notes: {it: "Portare una fotocopia del passaporto", ',
            "notes: {",
            "notes:",
            "missing Italian text (it) in 'notes' of office 'questura-bari'",
        ),
        (
            "procedures/residence_permit.yml",
            '- {it: "Spedisci la domanda.", ',
            "- {",
            "Send the application",
            "missing Italian text (it) in procedure 'residence-permit-renewal' steps #2",
        ),
        (
            "procedures/residence_permit.yml",
            "service: residence_permit",
            "service: permit",
            "service: permit",
            "unknown service 'permit'",
        ),
        (
            "procedures/residence_permit.yml",
            'en: "Passport"',
            'xx: "Passport"',
            "xx:",
            "unknown language 'xx' in procedure 'residence-permit-renewal' documents #1",
        ),
        (
            "offices/fg.yml",
            'comune: "Foggia"',
            'comune: "Fogia"',
            "Fogia",
            "unknown comune 'Fogia' (did you mean 'Foggia'?)",
        ),
        (
            "offices/fg.yml",
            "    kind: questura",
            "    kind: questura\n    kind: asl",
            "kind: asl",
            "key 'kind' appears twice in the same mapping",
        ),
        (
            "offices/fg.yml",
            "serves: {provinces: [FG]}",
            "serves: {provinces: [FG]",
            'source: ""',
            "YAML syntax: while parsing a flow mapping did not find expected ',' or '}'",
        ),
        (
            "territory.yml",
            '"Fogia"',
            '"Nardò"',
            'Nardò",',
            "alias 'Nardò' is the official name of another comune (Nardò)",
        ),
        (
            "emergency.yml",
            'number: "112"',
            'number: "one-one-two"',
            "one-one-two",
            "'one-one-two' is not a phone number",
        ),
        (
            "emergency.yml",
            "verified: true",
            'verified: true\n    source: "x"',
            'source: "x"',
            "key 'source' appears twice in the same mapping",
        ),
    ],
)
def test_each_mistake_is_reported_at_its_line(
    knowledge: Path, file: str, old: str, new: str, anchor: str, message: str
) -> None:
    path = knowledge / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    problems = _problems(knowledge)
    assert f"{path}:{line_of(path, anchor)}: {message}" in problems, problems


def test_duplicate_ids_across_files_and_kinds(knowledge: Path) -> None:
    proc = knowledge / "procedures" / "residence_registration.yml"
    proc.write_text(proc.read_text().replace("id: residence-registration", "id: questura-lecce"))
    assert _problems(knowledge) == [
        f"{proc}:2: duplicate id 'questura-lecce' (first at {knowledge}/offices/le.yml:2)"
    ]


def test_a_file_outside_the_layout_is_reported(knowledge: Path) -> None:
    (knowledge / "office").mkdir()
    (knowledge / "office" / "ba.yml").write_text("offices: []\n")
    assert _problems(knowledge) == [
        f"{knowledge}/office/ba.yml:1: not a knowledge file: expected territory.yml, "
        "services.yml, emergency.yml, safety.yml, offices/<name>.yml, procedures/<name>.yml, "
        "faq/<service>.yml or reference/registers.yml"
    ]


def test_cli_validate_exit_codes(knowledge: Path) -> None:
    def run() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "app", "kb", "validate", "--path", str(knowledge)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=PROJECT_ROOT,
        )

    ok = run()
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("ok: 9 offices, 2 procedures")
    le = knowledge / "offices" / "le.yml"
    le.write_text(
        le.read_text()
        .replace("kind: questura", "kind: police")
        .replace('comune: "Lecce"', 'comune: "Leece"')
    )
    bad = run()
    assert bad.returncode == 1
    assert bad.stdout.splitlines() == [
        f"{le}:3: unknown office kind 'police' (expected one of questura, prefettura, anagrafe, "
        "asl, centro_impiego, cpia, agenzia_entrate, commissione_territoriale, foresteria, "
        "patronato, legal_aid, other)",
        f"{le}:6: unknown comune 'Leece' (did you mean 'Lecce'?)",
    ]


def test_shipped_knowledge_validates() -> None:
    # The real content is written by others; whatever of it is on this branch must be valid.
    assert _problems(PROJECT_ROOT / "knowledge") == []


def test_glossary_problems_are_reported_at_the_translations_line(knowledge: Path) -> None:
    # locales/glossary.yml: the Questura keeps its Italian name; "permis de séjour" is a second
    # French name for the titre de séjour (bot/glossary.py, tests/test_glossary.py).
    proc = knowledge / "procedures" / "residence_permit.yml"
    text = proc.read_text(encoding="utf-8")
    text = text.replace(
        'fr: "Retire le kit postal."}', 'fr: "Retire le kit postal.", zh: "去警察局领取申请包。"}'
    )
    text = text.replace('fr: "Renouveler le permis"', 'fr: "Renouveler le permis de séjour"')
    proc.write_text(text, encoding="utf-8")
    problems = _problems(knowledge)
    assert (
        f"{proc}:{line_of(proc, '警察局')}: glossary (zh): names «Questura» as «警察局» "
        "without the Italian word (glossary: «Questura（警察局移民办公室）»)"
    ) in problems
    assert (
        f"{proc}:{line_of(proc, 'permis de séjour')}: glossary (fr): «permis de séjour» is "
        "not the glossary's fr word for «permesso di soggiorno»: write «titre de séjour»"
    ) in problems
    assert len(problems) == 2
