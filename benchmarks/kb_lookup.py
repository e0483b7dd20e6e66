"""Benchmark: full knowledge load, and the office + hours + checklist lookup an answer needs.

Builds a SQLite database in a temporary folder from ``knowledge/`` — or, while the real content
is still thin (fewer than 30 offices), from a generated full-size stand-in: an anagrafe in every
one of the 257 comuni, ten province-wide offices per province, every service with two
procedures of 8 steps and 8 documents in all 16 languages. Then it times N lookups of
``office_for`` + ``opening`` + ``procedure`` for random comuni, services, moments and languages.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/kb_lookup.py [-n 5000] [--knowledge DIR]
                                                             [--generated]

Targets (issue 3): p95 < 2 ms per lookup, full load < 10 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import territory  # noqa: E402
from bot.kb.db import make_engine  # noqa: E402
from bot.kb.load import load  # noqa: E402
from bot.kb.queries import KnowledgeBase  # noqa: E402
from bot.kb.validate import read_knowledge  # noqa: E402
from bot.kb.vocabulary import LANGUAGES, OFFICE_KINDS, SERVICES  # noqa: E402

PROVINCE_KINDS = (
    "questura",
    "prefettura",
    "asl",
    "centro_impiego",
    "cpia",
    "agenzia_entrate",
    "patronato",
    "legal_aid",
    "foresteria",
    "other",
)


def _text(label: str) -> dict[str, str]:
    return {lang: f"{label} ({lang})" for lang in LANGUAGES}


def _hours() -> list[dict]:
    return [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "open": "08:30", "close": "12:30"},
        {"days": ["tue", "thu"], "open": "15:00", "close": "17:00", "appointment_only": True},
    ]


def _office(oid: str, kind: str, comune: str, serves: dict) -> dict:
    return {
        "id": oid,
        "kind": kind,
        "services": list(SERVICES),
        "name": f"Ufficio {oid}",
        "comune": comune,
        "address": f"Via Roma 1, {comune}",
        "serves": serves,
        "hours": _hours(),
        "closures": [{"date": dt.date(2027, 12, 24), "note": _text("Chiuso")}],
        "notes": _text(f"Note {oid}"),
        "source": "https://example.org/",
        "checked": dt.date(2026, 11, 1),
        "verified": False,
    }


def generate(root: Path) -> None:
    """Write a full-size knowledge folder (invented content, for timing only)."""
    capoluoghi = {c.province: c.name for c in territory.comuni() if c.capoluogo}
    (root / "offices").mkdir(parents=True)
    (root / "procedures").mkdir()
    for code in territory.PROVINCES:
        offices = [
            _office(
                f"{kind.replace('_', '-')}-{code.lower()}",
                kind,
                capoluoghi[code],
                {"provinces": [code]},
            )
            for kind in PROVINCE_KINDS
        ]
        offices += [
            _office(f"anagrafe-{c.istat}", "anagrafe", c.name, {"comuni": [c.name]})
            for c in territory.comuni()
            if c.province == code
        ]
        (root / "offices" / f"{code.lower()}.yml").write_text(
            yaml.safe_dump({"offices": offices}, allow_unicode=True, sort_keys=False)
        )
    (root / "offices" / "regional.yml").write_text(
        yaml.safe_dump(
            {
                "offices": [
                    _office(
                        "commissione-bari", "commissione_territoriale", "Bari", {"region": True}
                    )
                ]
            },
            allow_unicode=True,
            sort_keys=False,
        )
    )
    for service in SERVICES:
        procs = [
            {
                "id": f"{service.replace('_', '-')}-{n}",
                "service": service,
                "title": _text(f"Titolo {n}"),
                "summary": _text("Riassunto"),
                "office_kinds": [OFFICE_KINDS[n]],
                "steps": [_text(f"Passo {i}") for i in range(8)],
                "documents": [_text(f"Documento {i}") for i in range(8)],
                "source": "https://example.org/",
                "checked": dt.date(2026, 11, 1),
                "verified": False,
            }
            for n in range(2)
        ]
        (root / "procedures" / f"{service}.yml").write_text(
            yaml.safe_dump({"procedures": procs}, allow_unicode=True, sort_keys=False)
        )
    (root / "services.yml").write_text(
        yaml.safe_dump(
            {"services": [{"id": s, "name": _text(s)} for s in SERVICES]},
            allow_unicode=True,
            sort_keys=False,
        )
    )
    (root / "emergency.yml").write_text(
        yaml.safe_dump(
            {
                "numbers": [
                    {
                        "id": f"emergency-{n.replace(' ', '')}",
                        "number": n,
                        "label": _text(n),
                        "when": _text("quando"),
                        "source": "https://example.org/",
                        "checked": dt.date(2026, 11, 1),
                        "verified": True,
                    }
                    for n in ("112", "118", "1522", "800 290 290")
                ]
            },
            allow_unicode=True,
            sort_keys=False,
        )
    )


def main() -> int:
    """Build, load, time, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5000, help="lookups to time")
    parser.add_argument(
        "--knowledge",
        type=Path,
        default=ROOT / "knowledge",
        help="knowledge folder (default: the project's)",
    )
    parser.add_argument(
        "--generated", action="store_true", help="always use the generated full-size content"
    )
    args = parser.parse_args()
    rng = random.Random(20261121)

    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        source = args.knowledge
        content, problems = read_knowledge(source)
        if args.generated or problems or len(content.offices) < 30:
            source = Path(tmp) / "knowledge"
            generate(source)
            content, _ = read_knowledge(source)
            what = "generated full-size content"
        else:
            what = str(source)
        engine = make_engine(f"sqlite:///{Path(tmp) / 'kb.db'}")
        started = time.perf_counter()
        result = load(source, engine)
        load_s = time.perf_counter() - started
        assert not result.problems, result.problems[:5]
        started = time.perf_counter()
        again = load(source, engine)
        reload_s = time.perf_counter() - started
        assert not again.changed

        kb = KnowledgeBase(engine, refresh_seconds=None)
        started = time.perf_counter()
        kb.find_comune("Bari")
        cold_ms = (time.perf_counter() - started) * 1000
        comuni = [c.istat for c in kb.comuni()]
        services = [s for s in SERVICES if s != "emergency"]
        base = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
        samples = []
        found = 0
        for _ in range(args.n):
            comune, service = rng.choice(comuni), rng.choice(services)
            at = base + dt.timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
            language = rng.choice(LANGUAGES)
            started = time.perf_counter()
            office = kb.office_for(service, comune)
            if office is not None:
                kb.opening(office.id, at)
                found += 1
            kb.procedure(service, language)
            samples.append((time.perf_counter() - started) * 1000)
        samples.sort()
        p50 = statistics.median(samples)
        p95 = samples[int(len(samples) * 0.95) - 1]

    print(f"date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores; Python {platform.python_version()}"
    )
    print(
        f"content: {what}: {len(content.offices)} offices, {len(content.procedures)} "
        f"procedures, {sum(len(p.steps) + len(p.documents) for p in content.procedures)} "
        f"steps+documents, {sum(c.added for c in result.changes.values())} rows"
    )
    print(f"full load (validate + migrate + write, empty SQLite): {load_s:.2f} s")
    print(f"second load (validate + compare, nothing changed): {reload_s:.2f} s")
    print(f"first query (reads the knowledge into memory): {cold_ms:.1f} ms")
    print(
        f"lookup office_for+opening+procedure, n={args.n} ({found} with an office): "
        f"p50 {p50:.3f} ms, p95 {p95:.3f} ms, max {samples[-1]:.3f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
