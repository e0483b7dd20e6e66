"""The editors' queue groups near-duplicates, shows no contact details and no writer."""

from __future__ import annotations

import datetime as dt
import json

import yaml

from monitoring.schema import FALLBACK
from monitoring.unanswered import draft_yaml, queue
from tests.monitoring.factory import turn

DAY = dt.date(2026, 11, 10)
QUESTIONS = [
    ("it", "come apro un conto in banca senza permesso? chiamatemi al 3331234567"),
    ("it", "Come aprire un conto in banca senza il permesso"),
    ("it", "come apro conto banca senza permesso di soggiorno"),
    ("it", "come si apre un conto in banca senza permesso?? scrivete a me@example.com"),
    ("it", "come apro un conto in banca senza permesso"),
    ("it", "come apro un conto banca senza permesso, mi chiamo Ali"),
    ("en", "can I get a driving licence with a receipt"),
    ("en", "can i get driving license with the receipt?"),
    ("fr", "où trouver un avocat gratuit"),
]


def test_near_duplicates_form_one_group_with_scrubbed_texts(store):
    for index, (language, text) in enumerate(QUESTIONS):
        store.record(f"person{index}", turn(language=language, outcome=FALLBACK, text=text))
    groups = queue(store.engine, DAY, DAY)
    sizes = [len(g["examples"]) for g in groups]
    assert sizes == [5, 2, 1]  # the bank group shows 5 of its 6 texts
    bank, licence, lawyer = groups
    assert (bank["questions"], bank["people"], bank["languages"]) == (6, 6, ["it"])
    assert licence["questions"] is None and licence["fewer_than_k"]  # 2 people: hidden
    dumped = json.dumps(groups)
    assert "3331234567" not in dumped and "example.com" not in dumped and "Ali" not in dumped
    assert "person" not in json.dumps([g["examples"] for g in groups])

    draft = draft_yaml(bank)
    training = yaml.safe_load(draft.split("# ... or")[0])
    assert training["nlu"][0]["examples"].count("\n- ") == 4
    faq = yaml.safe_load(draft.split("write):\n")[1])
    assert faq["faq"][0]["variants"]["it"][0].startswith("come apro un conto in banca")


def test_queue_filters_by_language(store):
    for index, (language, text) in enumerate(QUESTIONS):
        store.record(f"person{index}", turn(language=language, outcome=FALLBACK, text=text))
    assert [g["languages"] for g in queue(store.engine, DAY, DAY, "fr")] == [["fr"]]
