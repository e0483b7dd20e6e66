"""Counts per language, service and kind in each half of the FAQ yardstick, and of its answer
labels (prints Markdown).

Run from the project root:  python tests/faq/stats.py
Checks on the way that both files parse, that ids are unique across them, and that every label
names an FAQ entry of knowledge/faq/ or (as ``procedure:<id>``) a procedure of
knowledge/procedures/, that a question is labelled with FAQ ids or with procedures but not both,
and that each question carries a ``label_note``.
"""

import collections
import pathlib

import yaml

from bot.kb import vocabulary

HERE = pathlib.Path(__file__).resolve().parent
KNOWLEDGE = HERE.parent.parent / "knowledge"
SERVICES = [s for s in vocabulary.SERVICES if s != "emergency"]  # the 12 service topics
KINDS = ["general", "office", "personal"]
PROCEDURE = "procedure:"


def load(name):
    data = yaml.safe_load((HERE / name).read_text(encoding="utf-8"))
    assert data["version"] == 1, name
    return data["questions"]


def knowledge_ids(folder, key):
    ids = set()
    for path in sorted((KNOWLEDGE / folder).glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get(key) or []:
            ids.add(item["id"])
    return ids


def label_kind(q):
    """``faq``, ``procedure`` or ``none``: what answers the question."""
    labels = q.get("answer") or []
    faq = [a for a in labels if not a.startswith(PROCEDURE)]
    procedures = [a for a in labels if a.startswith(PROCEDURE)]
    assert not (faq and procedures), (q["id"], "FAQ ids and procedures mixed")
    return "faq" if faq else "procedure" if procedures else "none"


def check_labels(halves):
    faq_ids = knowledge_ids("faq", "faq")
    procedure_ids = knowledge_ids("procedures", "procedures")
    for qs in halves.values():
        for q in qs:
            labels = q.get("answer")
            assert isinstance(labels, list), q["id"]
            assert len(labels) == len(set(labels)), (q["id"], "repeated label")
            for a in labels:
                if a.startswith(PROCEDURE):
                    assert a[len(PROCEDURE) :] in procedure_ids, (q["id"], a)
                else:
                    assert a in faq_ids, (q["id"], a)
            assert str(q.get("label_note") or "").strip(), (q["id"], "no label_note")
            label_kind(q)


def table(halves, rows):
    print("| | dev | test | all |")
    print("|---|---:|---:|---:|")
    for label, pred in rows:
        d = sum(map(pred, halves["dev"]))
        t = sum(map(pred, halves["test"]))
        print(f"| {label} | {d} | {t} | {d + t} |")


def label_table(name, qs):
    """Answerable / FAQ / procedure / none per service, for one file."""
    print(f"| {name} | total | answerable | FAQ | procedure | none |")
    print("|---|---:|---:|---:|---:|---:|")
    groups = [(s, [q for q in qs if q["service"] == s]) for s in SERVICES]
    for label, group in [(s, g) for s, g in groups if g] + [("**all**", qs)]:
        kinds = collections.Counter(label_kind(q) for q in group)
        print(
            f"| {label} | {len(group)} | {kinds['faq'] + kinds['procedure']} | "
            f"{kinds['faq']} | {kinds['procedure']} | {kinds['none']} |"
        )


def main():
    halves = {"dev": load("dev.yml"), "test": load("test.yml")}
    ids = [q["id"] for qs in halves.values() for q in qs]
    dupes = [i for i, c in collections.Counter(ids).items() if c > 1]
    assert not dupes, dupes
    for qs in halves.values():
        for q in qs:
            assert q["service"] in SERVICES, q["id"]
            assert q["kind"] in KINDS, q["id"]
    check_labels(halves)
    langs = sorted({q["lang"] for qs in halves.values() for q in qs})
    rows = [("total", lambda q: True)]
    rows += [("lang " + lang, lambda q, lang=lang: q["lang"] == lang) for lang in langs]
    rows += [("service " + s, lambda q, s=s: q["service"] == s) for s in SERVICES]
    rows += [("kind " + k, lambda q, k=k: q["kind"] == k) for k in KINDS]
    rows += [
        ("answerable (non-empty label)", lambda q: label_kind(q) != "none"),
        ("labelled with FAQ entries", lambda q: label_kind(q) == "faq"),
        ("labelled with a procedure", lambda q: label_kind(q) == "procedure"),
        ("no answer in the knowledge base", lambda q: label_kind(q) == "none"),
    ]
    table(halves, rows)
    for name, qs in halves.items():
        print()
        label_table(name + ".yml", qs)


if __name__ == "__main__":
    main()
