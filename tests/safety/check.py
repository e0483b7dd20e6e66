"""Check the safety test set (dev.yml, test.yml) and print its counts.

Run from the repository root:  python tests/safety/check.py [--markdown]
Exit status 1 when a rule below does not hold. Not a pytest module on purpose: it reads the
evaluation set, which training code must never do.
"""

from __future__ import annotations

import collections
import re
import sys
from pathlib import Path

import yaml

from bot.kb.vocabulary import DANGER_CLASSES, LANGUAGES

HERE = Path(__file__).resolve().parent
DANGER = list(DANGER_CLASSES)
CLASSES = DANGER + ["none"]
MAIN_LANGS = list(LANGUAGES)
OTHER_LANGS = "hi-Latn ur-Latn ar-Latn bn-Latn pcm wo".split()
LANGS = MAIN_LANGS + OTHER_LANGS
MIN_DANGER_PER_LANG, MIN_DANGER_OTHER, MIN_DANGER_TOTAL = 5, 20, 100
MIN_NONE_PER_LANG, MIN_NONE_TOTAL = 8, 160
MIN_MEDICAL_UNDOCUMENTED = 40
MIN_LONG_SHARE = 0.30
KEYS = {"id", "class", "lang", "text", "note", "undocumented"}


def is_long(m: dict) -> bool:
    """A message that tells a story: 20+ words, or 40+ characters of Chinese."""
    text = m["text"]
    if m["lang"] == "zh":
        return len(re.sub(r"\s", "", text)) >= 40
    return len(text.split()) >= 20


def load(name: str) -> list[dict]:
    data = yaml.safe_load((HERE / name).read_text(encoding="utf-8"))
    assert data.get("version") == 1, f"{name}: version must be 1"
    return data["messages"]


def main() -> int:
    errors: list[str] = []
    splits = {name: load(f"{name}.yml") for name in ("dev", "test")}
    seen_ids: dict[str, str] = {}
    seen_texts: dict[str, str] = {}
    cells = {name: collections.Counter() for name in splits}
    for name, msgs in splits.items():
        for m in msgs:
            extra = set(m) - KEYS
            missing = {"id", "class", "lang", "text", "note"} - set(m)
            if extra or missing:
                errors.append(f"{name} {m.get('id')}: keys extra={extra} missing={missing}")
                continue
            if m["class"] not in CLASSES:
                errors.append(f"{m['id']}: unknown class {m['class']!r}")
            if m["lang"] not in LANGS:
                errors.append(f"{m['id']}: unknown lang {m['lang']!r}")
            pattern = rf"{re.escape(m['class'])}-{re.escape(m['lang'])}-\d{{3}}"
            if not re.fullmatch(pattern, m["id"]):
                errors.append(f"{m['id']}: id does not match <class>-<lang>-<nnn>")
            if m["id"] in seen_ids:
                errors.append(f"{m['id']}: duplicate id ({seen_ids[m['id']]} and {name})")
            seen_ids[m["id"]] = name
            key = " ".join(m["text"].lower().split())
            if key in seen_texts:
                errors.append(f"{m['id']}: same text as {seen_texts[key]}")
            seen_texts[key] = m["id"]
            if not isinstance(m["text"], str) or not m["text"].strip():
                errors.append(f"{m['id']}: empty text")
            if "undocumented" in m and not isinstance(m["undocumented"], bool):
                errors.append(f"{m['id']}: undocumented must be true/false")
            # the split rule: odd numbers in test, even in dev
            n = int(m["id"].rsplit("-", 1)[1])
            if (n % 2 == 1) != (name == "test"):
                errors.append(f"{m['id']}: number {n} belongs in the other file")
            cells[name][(m["class"], m["lang"])] += 1

    total = cells["dev"] + cells["test"]
    for cls in CLASSES:
        for lang in LANGS:
            if cells["test"][(cls, lang)] < cells["dev"][(cls, lang)]:
                errors.append(f"{cls}/{lang}: test has fewer than dev")
        per_lang = MIN_DANGER_PER_LANG if cls in DANGER else MIN_NONE_PER_LANG
        for lang in MAIN_LANGS:
            if total[(cls, lang)] < per_lang:
                errors.append(f"{cls}/{lang}: {total[(cls, lang)]} < {per_lang}")
        other = sum(total[(cls, lang)] for lang in OTHER_LANGS)
        whole = sum(total[(cls, lang)] for lang in LANGS)
        if cls in DANGER:
            if other < MIN_DANGER_OTHER:
                errors.append(f"{cls}: {other} in other written forms < {MIN_DANGER_OTHER}")
            if whole < MIN_DANGER_TOTAL:
                errors.append(f"{cls}: {whole} < {MIN_DANGER_TOTAL}")
        else:
            if whole < MIN_NONE_TOTAL:
                errors.append(f"{cls}: {whole} < {MIN_NONE_TOTAL}")
            if other == 0:
                errors.append(f"{cls}: no romanized/other written forms")

    every = splits["dev"] + splits["test"]
    med_undoc = sum(1 for m in every if m["class"] == "medical" and m.get("undocumented"))
    if med_undoc < MIN_MEDICAL_UNDOCUMENTED:
        errors.append(f"medical undocumented: {med_undoc} < {MIN_MEDICAL_UNDOCUMENTED}")
    long_share = sum(map(is_long, every)) / len(every)
    if long_share < MIN_LONG_SHARE:
        errors.append(f"long narrative share {long_share:.0%} < {MIN_LONG_SHARE:.0%}")

    md = "--markdown" in sys.argv
    for name in ("test", "dev"):
        c = cells[name]
        print(f"\n{name}.yml: {len(splits[name])} messages\n")
        header = ["lang"] + CLASSES + ["all"]
        if md:
            print("| " + " | ".join(header) + " |")
            print("|" + "---|" * len(header))
        else:
            print("".join(f"{h:>13}" for h in header))
        for lang in LANGS + ["all"]:
            if lang == "all":
                row = [sum(c[(cls, lg)] for lg in LANGS) for cls in CLASSES]
            else:
                row = [c[(cls, lang)] for cls in CLASSES]
            row.append(sum(row))
            if md:
                print(f"| {lang} | " + " | ".join(map(str, row)) + " |")
            else:
                print(f"{lang:>13}" + "".join(f"{v:>13}" for v in row))
    und = collections.Counter(m["class"] for m in every if m.get("undocumented"))
    print(
        f"\nboth files: {len(every)} messages; "
        + ", ".join(f"{cls} {sum(total[(cls, lg)] for lg in LANGS)}" for cls in CLASSES)
    )
    print(
        "undocumented: true: "
        + ", ".join(f"{cls} {und[cls]}" for cls in CLASSES)
        + f" (total {sum(und.values())})"
    )
    long_by_class = collections.Counter(m["class"] for m in every if is_long(m))
    print(
        "long narrative messages (20+ words, or 40+ Chinese characters): "
        f"{sum(long_by_class.values())} of {len(every)} ({long_share:.0%}); by class: "
        + ", ".join(f"{cls} {long_by_class[cls]}" for cls in CLASSES)
    )
    print(f"ids unique: {len(seen_ids)} ids for {len(every)} messages")
    if errors:
        print("\nERRORS:")
        for e in errors:
            print("  " + e)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
