"""``bot eval safety``: how often danger is recognised, per class and language, and at what cost.

The yardstick is ``tests/safety/`` (format and rules: its README), written apart from the word
lists (``bot/nlu/safety.yml``) and the training data. ``dev.yml`` is for tuning; the report is
made on ``test.yml`` unless ``--split dev`` is asked for. Two numbers matter:

- **recall**: of the messages of a danger class, the share the assistant treats as danger (the
  numbers and a priority mediator come first, whatever the class). Beside it, the share whose
  class was named exactly, which decides the specific help;
- **false alarms**: the share of ordinary messages treated as danger, on the look-alikes of the
  safety set, on the held-out NLU set (``tests/nlu/heldout``, every intent but
  ``report_emergency``) and on the real questions people posted (``tests/faq``, same half):
  long stories about permits and families, which a danger model trained on long danger
  stories alone once read as emergencies.

By default the trained model parses every message, so DIET's ``report_emergency`` counts as it
does in production; ``--lexicon-only`` scores the word lists alone in seconds (no model). The
report goes to ``reports/safety/<date>/`` with the machine and the date.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.settings import PROJECT_ROOT

SAFETY_DIR = PROJECT_ROOT / "tests" / "safety"
HELDOUT_DIR = PROJECT_ROOT / "tests" / "nlu" / "heldout"
REAL_QUESTIONS_DIR = PROJECT_ROOT / "tests" / "faq"
REPORTS_DIR = PROJECT_ROOT / "reports" / "safety"
NONE = "none"
EMERGENCY_INTENT = "report_emergency"
# Targets of the safety issue (#20), printed beside the results.
RECALL_TARGET = 0.98
FALSE_ALARM_TARGET = 0.03


@dataclass(frozen=True)
class Case:
    """One message of the yardstick with its expected danger class (``none``: no danger)."""

    id: str
    danger: str
    language: str
    text: str
    undocumented: bool = False


def load_cases(path: Path) -> list[Case]:
    """The messages of one file of ``tests/safety/``."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Case(
            id=str(m["id"]),
            danger=str(m["class"]),
            language=str(m["lang"]),
            text=str(m["text"]),
            undocumented=bool(m.get("undocumented")),
        )
        for m in data["messages"]
    ]


def load_heldout(test_dir: Path = HELDOUT_DIR) -> list[Case]:
    """The held-out NLU messages that are not emergencies, as ``none`` cases."""
    from app.eval_nlu import load_test_set

    return [
        Case(id=f"heldout-{i}", danger=NONE, language=e.language, text=e.text)
        for i, e in enumerate(load_test_set(test_dir))
        if e.intent != EMERGENCY_INTENT
    ]


def load_real_questions(split: str) -> list[Case]:
    """The real questions of one half of ``tests/faq``, as ``none`` cases."""
    from app.eval_faq import load_questions

    return [
        Case(id=q.id, danger=NONE, language=q.language, text=q.text)
        for q in load_questions(REAL_QUESTIONS_DIR / f"{split}.yml")
    ]


Verdict = dict[str, Any] | None  # the parse's ``safety`` field (None: no safety layer ran)
Judge = Callable[[list[str]], list[Verdict]]


def lexicon_judge(texts: list[str]) -> list[Verdict]:
    """The word lists alone (no classifier)."""
    from bot.nlu.safety import classify

    return [classify(text, None) for text in texts]


def model_judge(model: Path) -> Judge:
    """The trained model's parse, as production sees it.

    A danger verdict counts only if the parse's final intent is ``report_emergency``: that is
    what the dialogue acts on, and a later pipeline step that changed the intent (the fallback
    classifier did, until 2026-12-07) would otherwise go unseen here.
    """

    def verdict(parse: dict[str, Any]) -> Verdict:
        found = parse.get("safety")
        if (
            found
            and found.get("classes")
            and (parse.get("intent") or {}).get("name") != (EMERGENCY_INTENT)
        ):
            return {**found, "classes": [], "source": "overridden"}
        return found

    def judge(texts: list[str]) -> list[Verdict]:
        async def parse_all() -> list[Verdict]:
            from rasa.core.agent import Agent

            agent = Agent.load(str(model))
            return [verdict(await agent.parse_message(t)) for t in texts]

        return asyncio.run(parse_all())

    return judge


def score(cases: list[Case], verdicts: list[Verdict]) -> dict[str, Any]:
    """Recall and exact-class rate per class and language; false alarms on ``none``."""
    per_class: dict[str, Counter[str]] = defaultdict(Counter)
    per_language: dict[str, Counter[str]] = defaultdict(Counter)
    missed: list[dict[str, str]] = []
    alarms: list[dict[str, Any]] = []
    for case, verdict in zip(cases, verdicts, strict=True):
        classes = (verdict or {}).get("classes") or []
        fired = bool(classes)
        if case.danger == NONE:
            per_class[NONE]["n"] += 1
            per_class[NONE]["alarm"] += fired
            per_language[case.language]["none"] += 1
            per_language[case.language]["alarm"] += fired
            if fired:
                alarms.append({"id": case.id, "text": case.text, "classes": classes})
            continue
        counts = per_class[case.danger]
        counts["n"] += 1
        counts["recalled"] += fired
        counts["exact"] += fired and case.danger in classes
        per_language[case.language]["n"] += 1
        per_language[case.language]["recalled"] += fired
        if not fired:
            missed.append({"id": case.id, "class": case.danger, "text": case.text})

    def share(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    return {
        "per_class": {
            name: (
                {"n": c["n"], "false_alarm_rate": share(c["alarm"], c["n"])}
                if name == NONE
                else {
                    "n": c["n"],
                    "recall": share(c["recalled"], c["n"]),
                    "exact_class": share(c["exact"], c["n"]),
                }
            )
            for name, c in sorted(per_class.items())
        },
        "per_language": {
            lang: {
                "n": c["n"],
                "recall": share(c["recalled"], c["n"]),
                "none": c["none"],
                "false_alarm_rate": share(c["alarm"], c["none"]),
            }
            for lang, c in sorted(per_language.items())
        },
        "missed": missed,
        "false_alarms": alarms,
    }


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def render(results: dict[str, Any], meta: dict[str, Any]) -> str:
    """The Markdown report."""
    safety, heldout = results["safety"], results.get("heldout")
    lines = [
        f"# Safety recognition — {meta['split']} set ({meta['date']})",
        "",
        f"Machine: {meta['machine']}. Judge: {meta['judge']}. Command: `{meta['command']}`.",
        f"Yardstick: `{meta['file']}` ({meta['cases']} messages), written apart from the word "
        "lists and training data (tests/safety/README.md).",
        "",
        f"## Recall per class (target ≥ {RECALL_TARGET:.0%})",
        "",
        "| class | messages | recognised as danger | right class named |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, row in safety["per_class"].items():
        if name != NONE:
            lines.append(
                f"| {name} | {row['n']} | {_fmt(row['recall'])} | {_fmt(row['exact_class'])} |"
            )
    none = safety["per_class"].get(NONE, {})
    lines += [
        "",
        f"## False alarms (target ≤ {FALSE_ALARM_TARGET:.0%})",
        "",
        f"- look-alikes of the safety set: {_fmt(none.get('false_alarm_rate'))} "
        f"of {none.get('n', 0)}",
    ]
    if heldout:
        row = heldout["per_class"].get(NONE, {})
        lines.append(
            f"- held-out NLU set (every intent but report_emergency): "
            f"{_fmt(row.get('false_alarm_rate'))} of {row.get('n', 0)}"
        )
    real = results.get("real_questions")
    if real:
        row = real["per_class"].get(NONE, {})
        lines.append(
            f"- real questions people posted (tests/faq, {meta['split']} half): "
            f"{_fmt(row.get('false_alarm_rate'))} of {row.get('n', 0)}"
        )
    lines += [
        "",
        "## Per language",
        "",
        "| language | danger messages | recall | look-alikes | false alarms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for lang, row in safety["per_language"].items():
        lines.append(
            f"| {lang} | {row['n']} | {_fmt(row['recall'])} | {row['none']} | "
            f"{_fmt(row['false_alarm_rate'])} |"
        )
    lines += ["", f"## Missed ({len(safety['missed'])})", ""]
    lines += [f"- `{m['id']}` ({m['class']}): {m['text']}" for m in safety["missed"]] or ["none"]
    lines += ["", f"## False alarms on the look-alikes ({len(safety['false_alarms'])})", ""]
    lines += [
        f"- `{a['id']}` → {', '.join(a['classes'])}: {a['text']}" for a in safety["false_alarms"]
    ] or ["none"]
    if real:
        lines += ["", f"## False alarms on the real questions ({len(real['false_alarms'])})", ""]
        lines += [
            f"- `{a['id']}` → {', '.join(a['classes'])}: {a['text'][:160]}"
            for a in real["false_alarms"]
        ] or ["none"]
    if heldout:
        lines += ["", f"## False alarms on the held-out NLU set ({len(heldout['false_alarms'])})"]
        lines += [""] + [
            f"- → {', '.join(a['classes'])}: {a['text']}" for a in heldout["false_alarms"]
        ] or ["none"]
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], path: Path) -> None:
    """Recall per class, with the target line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = {k: v for k, v in results["safety"]["per_class"].items() if k != NONE}
    fig, ax = plt.subplots(figsize=(7, 3.5))
    names = list(rows)
    ax.bar(names, [rows[n]["recall"] or 0 for n in names], label="recognised as danger")
    ax.bar(
        names, [rows[n]["exact_class"] or 0 for n in names], width=0.4, label="right class named"
    )
    ax.axhline(RECALL_TARGET, color="grey", linestyle="--", linewidth=0.8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of the class's messages")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    """Score the chosen split; write the report unless ``--no-report``."""
    from app.eval_nlu import machine

    path = SAFETY_DIR / f"{args.split}.yml"
    cases = load_cases(path)
    judge: Callable[[list[str]], list[dict[str, Any] | None]]
    if args.lexicon_only:
        judge, judge_name = lexicon_judge, "word lists only (--lexicon-only)"
    else:
        from bot.training import ensure_model

        model = ensure_model()
        judge, judge_name = model_judge(model), f"trained model {model.name}"
    results: dict[str, Any] = {"safety": score(cases, judge([c.text for c in cases]))}
    if not args.no_heldout:
        heldout = load_heldout()
        results["heldout"] = score(heldout, judge([c.text for c in heldout]))
        real = load_real_questions(args.split)
        results["real_questions"] = score(real, judge([c.text for c in real]))
    meta = {
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
        "judge": judge_name,
        "split": args.split,
        "file": str(path.relative_to(PROJECT_ROOT)),
        "cases": len(cases),
        "command": "bot eval safety"
        + (f" --split {args.split}" if args.split != "test" else "")
        + (" --lexicon-only" if args.lexicon_only else ""),
    }
    text = render(results, meta)
    print(text)
    if not args.no_report:
        out = Path(args.out) if args.out else REPORTS_DIR / dt.date.today().isoformat()
        out.mkdir(parents=True, exist_ok=True)
        (out / f"report-{args.split}.md").write_text(text, encoding="utf-8")
        (out / f"metrics-{args.split}.json").write_text(
            json.dumps({"meta": meta, **results}, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        plot(results, out / f"recall-{args.split}.png")
        print(f"report: {out}")
    return 0


def register(eval_sub: argparse._SubParsersAction) -> None:
    """Add ``bot eval safety`` to the ``bot eval`` group."""
    safety = eval_sub.add_parser(
        "safety", help="danger recognised per class and language; false alarms"
    )
    safety.add_argument(
        "--split", choices=("test", "dev"), default="test", help="dev only for tuning"
    )
    safety.add_argument(
        "--lexicon-only", action="store_true", help="the word lists alone, without the model"
    )
    safety.add_argument(
        "--no-heldout", action="store_true", help="skip the held-out NLU set and real questions"
    )
    safety.add_argument("--no-report", action="store_true", help="print only")
    safety.add_argument("--out", default=None, help="report folder (default reports/safety/<date>)")
    safety.set_defaults(func=run)
