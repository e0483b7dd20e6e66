"""The editors' work queue: questions the assistant could not answer, grouped by similarity.

Texts are already scrubbed when stored (``monitoring.store``) and carry no sender: a person id
of the month only, used to count people, never shown. Grouping: TF-IDF over character 2-4-grams
within word boundaries (robust to the misspellings, missing accents and mixed scripts people
write), then, in order of time, each text joins the group it is most similar to on average
(cosine, at least ``SIMILARITY``) or starts a new one. Average rather than single link: single
link chains unrelated questions through intermediate ones. On the test questions, rewordings
of one question scored 0.36-0.79 and different questions at most 0.1. Quadratic in the queue's
size: a request groups the ``MAX_TEXTS`` most recent texts of its period.

Each group shows its count of questions, its count of people (hidden under ``K``, like every
figure), its languages, and up to ``EXAMPLES`` texts; :func:`draft_yaml` turns a group into a
snippet an editor can paste as training examples (``data/nlu/``) or start an FAQ entry from
(``knowledge/faq/``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import yaml

from monitoring import schema
from monitoring.events import ROME
from monitoring.privacy import K, visible

SIMILARITY = 0.3
# The most recent texts of the period that are grouped: all pairs are compared, and 2,000 texts
# took 1.6 s on this 2-core machine under load (3,000: 3.4 s).
MAX_TEXTS = 2000
_PLACEHOLDER = re.compile(r"\[(?:phone|email|document|name)\]")
EXAMPLES = 5


@dataclass
class Group:
    """Near-duplicate questions."""

    texts: list[tuple[str, str]] = field(default_factory=list)  # (text, language)
    people: set[str] = field(default_factory=set)
    languages: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)

    def as_dict(self, number: int) -> dict[str, Any]:
        examples = list(dict.fromkeys(self.texts))[:EXAMPLES]
        # A group of fewer than K people still shows its texts (scrubbed): editors need them.
        return {
            "group": number,
            "questions": visible(len(self.texts), len(self.people)),
            "people": visible(len(self.people), len(self.people)),
            "fewer_than_k": len(self.people) < K,
            "languages": [code for code, _ in self.languages.most_common()],
            "reasons": dict(self.reasons),
            "examples": [text for text, _ in examples],
            "example_languages": [language for _, language in examples],
        }


def group_texts(rows: list[tuple[str, str, str | None, str]]) -> list[Group]:
    """Group (text, person, language, reason) rows; largest groups first."""
    if not rows:
        return []
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    # Placeholders ("[phone]") say nothing about the question: left out of the comparison.
    texts = [_PLACEHOLDER.sub(" ", r[0]).casefold() for r in rows]
    matrix = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True
    ).fit_transform(texts)
    # All pairs at once (n is at most MAX_TEXTS): then each step is a few numpy operations.
    similarity_all = (matrix @ matrix.T).toarray().astype(np.float32)
    group_of = np.zeros(len(rows), dtype=int)
    groups: list[Group] = []
    for index, (text, person, language, reason) in enumerate(rows):
        chosen = -1
        if groups:
            similarity = similarity_all[index, :index]
            sizes = np.bincount(group_of[:index], minlength=len(groups))
            average = (
                np.bincount(group_of[:index], weights=similarity, minlength=len(groups)) / sizes
            )
            best = int(average.argmax())
            if average[best] >= SIMILARITY:
                chosen = best
        if chosen < 0:
            chosen = len(groups)
            groups.append(Group())
        group_of[index] = chosen
        group = groups[chosen]
        group.texts.append((text, language or "unknown"))
        group.people.add(person)
        group.languages[language or "unknown"] += 1
        group.reasons[reason] += 1
    return sorted(groups, key=lambda g: (-len(g.people), -len(g.texts)))


def queue(
    engine: sa.engine.Engine,
    start: dt.date | None = None,
    end: dt.date | None = None,
    language: str | None = None,
) -> list[dict[str, Any]]:
    """The groups of the queue (optionally of a period, Europe/Rome days, and a language)."""
    u = schema.unanswered.c
    where = []
    if start:
        where.append(u.at >= dt.datetime.combine(start, dt.time(), ROME).timestamp())
    if end:
        where.append(
            u.at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), ROME).timestamp()
        )
    if language:
        where.append(u.language == language)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(u.text, u.person, u.language, u.reason)
            .where(*where)
            .order_by(u.at.desc(), u.id.desc())
            .limit(MAX_TEXTS)
        ).all()[::-1]
    groups = group_texts([tuple(r) for r in rows])
    return [g.as_dict(number) for number, g in enumerate(groups, start=1)]


def draft_yaml(group: dict[str, Any]) -> str:
    """A snippet to paste: training examples for ``data/nlu/`` and a draft FAQ entry."""
    variants: dict[str, list[str]] = {}
    for text, language in zip(group["examples"], group["example_languages"], strict=True):
        variants.setdefault(language, []).append(text)
    entry = {
        "id": f"TODO-unanswered-{group['group']}",
        "service": "TODO",
        "question": {language: texts[0] for language, texts in variants.items()},
        "variants": variants,
    }
    # A literal block, as data/nlu/ writes examples (texts are one line each once scrubbed).
    examples = "nlu:\n  - intent: TODO\n    examples: |\n" + "".join(
        f"      - {text}\n" for text in group["examples"]
    )
    faq = yaml.safe_dump({"faq": [entry]}, allow_unicode=True, sort_keys=False, width=1000)
    return (
        f"# Unanswered group {group['group']} ({', '.join(group['languages'])}): as training\n"
        f"# examples for data/nlu/<topic>.yml ...\n{examples}"
        f"# ... or as a new FAQ entry for knowledge/faq/<service>.yml (answer and source to"
        f" write):\n{faq}"
    )
