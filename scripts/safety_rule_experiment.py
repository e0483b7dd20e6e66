"""Experiment on the development halves: which rule turns the three safety signals into danger.

Not used by the assistant. The safety layer (``bot/nlu/safety.py``) has three signals: the word
lists, DIET's ``report_emergency`` confidence and the danger model's probability. This script
parses the development half of the safety set and of the real questions (``tests/faq/dev.yml``)
with the trained model, records the three signals of every message, and prints, for a few
candidate rules, recall per class and false alarms. Never run it on the test halves or on the
held-out NLU set: those score the rule chosen here.

    PYTHONPATH=$PWD .venv/bin/python scripts/safety_rule_experiment.py [MODEL]   # two minutes
"""

from __future__ import annotations

import asyncio
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.eval_safety import NONE, SAFETY_DIR, load_cases, load_real_questions  # noqa: E402
from bot.nlu import safety  # noqa: E402
from bot.training import model_path  # noqa: E402

RULES = {
    "today: lex or diet>=.5 or p>=.5": lambda lex, diet, p: lex or diet >= 0.5 or p >= 0.5,
    "lex or p>=.5 or (diet>=.5 and p>=.2)": lambda lex, diet, p: (
        lex or p >= 0.5 or (diet >= 0.5 and p >= 0.2)
    ),
    "lex or p>=.5 or (diet>=.5 and p>=.1)": lambda lex, diet, p: (
        lex or p >= 0.5 or (diet >= 0.5 and p >= 0.1)
    ),
    "lex or p>=.45 or (diet>=.5 and p>=.2)": lambda lex, diet, p: (
        lex or p >= 0.45 or (diet >= 0.5 and p >= 0.2)
    ),
    "lex or p>=.5 or (diet>=.7)": lambda lex, diet, p: lex or p >= 0.5 or diet >= 0.7,
}


def signals(texts: list[str], model: Path) -> list[tuple[bool, float, float]]:
    """(word lists fired, DIET report_emergency confidence, danger probability) per text."""
    seen: list[tuple[bool, float, float]] = []
    original = safety.classify

    def spy(text, intent, lexicon=None, danger_probability=None):
        lex = bool((lexicon or safety.safety_lexicon()).assess(text or "").classes)
        diet = (
            float(intent.get("confidence") or 0)
            if intent and intent.get("name") == safety.EMERGENCY_INTENT
            else 0.0
        )
        seen.append((lex, diet, float(danger_probability or 0.0)))
        return original(text, intent, lexicon, danger_probability)

    safety.classify = spy

    async def parse_all() -> None:
        from rasa.core.agent import Agent

        agent = Agent.load(str(model))
        for text in texts:
            await agent.parse_message(text)

    asyncio.run(parse_all())
    safety.classify = original
    return seen


def main() -> None:
    """Print recall per class and false alarms for each rule."""
    cases = load_cases(SAFETY_DIR / "dev.yml")
    real = load_real_questions("dev")
    model = Path(sys.argv[1]) if len(sys.argv) > 1 else model_path()
    got = signals([c.text for c in cases] + [c.text for c in real], model)
    ours, theirs = got[: len(cases)], got[len(cases) :]
    for name, rule in RULES.items():
        hit: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for case, (lex, diet, p) in zip(cases, ours, strict=True):
            hit[case.danger][0] += int(rule(lex, diet, p))
            hit[case.danger][1] += 1
        alarms = sum(rule(*s) for s in theirs)
        recall = "  ".join(f"{c} {h[0]}/{h[1]}" for c, h in sorted(hit.items()) if c != NONE)
        print(
            f"{name}\n  recall: {recall}\n  look-alikes alarmed {hit[NONE][0]}/{hit[NONE][1]}"
            f", real questions alarmed {alarms}/{len(theirs)}"
        )
        for case, (lex, diet, p) in zip(cases, ours, strict=True):
            if case.danger != NONE and not rule(lex, diet, p):
                print(f"    missed {case.id}: lex={lex} diet={diet:.2f} p={p:.2f}")


if __name__ == "__main__":
    main()
