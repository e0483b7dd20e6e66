"""Counts per language, service and kind in each half of the FAQ yardstick (prints Markdown).

Run from the project root:  python tests/faq/stats.py
Checks on the way that both files parse and that ids are unique across them.
"""
import collections
import pathlib

import yaml

HERE = pathlib.Path(__file__).resolve().parent
SERVICES = ["residence_permit", "asylum", "family_reunification", "citizenship",
            "residence_registration", "tax_code", "health_care", "italian_course",
            "school_enrollment", "employment", "housing", "legal_aid"]
KINDS = ["general", "office", "personal"]


def load(name):
    data = yaml.safe_load((HERE / name).read_text(encoding="utf-8"))
    assert data["version"] == 1, name
    return data["questions"]


def main():
    halves = {"dev": load("dev.yml"), "test": load("test.yml")}
    ids = [q["id"] for qs in halves.values() for q in qs]
    dupes = [i for i, c in collections.Counter(ids).items() if c > 1]
    assert not dupes, dupes
    for qs in halves.values():
        for q in qs:
            assert q["service"] in SERVICES, q["id"]
            assert q["kind"] in KINDS, q["id"]
    langs = sorted({q["lang"] for qs in halves.values() for q in qs})
    rows = [("total", lambda q: True)]
    rows += [("lang " + l, lambda q, l=l: q["lang"] == l) for l in langs]
    rows += [("service " + s, lambda q, s=s: q["service"] == s) for s in SERVICES]
    rows += [("kind " + k, lambda q, k=k: q["kind"] == k) for k in KINDS]
    print("| | dev | test | all |")
    print("|---|---:|---:|---:|")
    for label, pred in rows:
        d = sum(map(pred, halves["dev"]))
        t = sum(map(pred, halves["test"]))
        print(f"| {label} | {d} | {t} | {d + t} |")


if __name__ == "__main__":
    main()
