"""Experiment on the development half: does a classifier beside the FAQ retriever rank better.

Not used by the assistant. It trains a linear classifier (SGD, log loss) over the FAQ
questions and variants, on the retriever's own TF-IDF features, and ranks the entries by
``(1 - mix) * retriever score + mix * classifier probability`` (the sentence that asks weighed
as in ``bot/nlu/faq.py``), for a few values of ``mix``. ``mix = 0`` is today's retriever.
Prints top-1 and top-3 on the answerable questions of ``tests/faq/dev.yml``, and how many
questions a score bar would answer and get right. Never run it on the test half.

    PYTHONPATH=$PWD .venv/bin/python scripts/faq_hybrid_experiment.py   # a few minutes
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.eval_faq import load_questions  # noqa: E402
from bot.nlu.faq import (  # noqa: E402
    QUESTION_PART_WEIGHT,
    FaqIndex,
    asking_part,
    normalise,
    read_documents,
)


def main() -> None:
    """Train the classifier, then print the rankings for each mix."""
    from sklearn.linear_model import SGDClassifier

    documents, services = read_documents()
    index = FaqIndex.build(documents, services)
    questions = load_questions(ROOT / "tests" / "faq" / "dev.yml")
    asked = [d for d in documents if d.weight == 1.0]  # questions and variants, not answers
    started = time.monotonic()
    features = index._vectors([normalise(d.text) for d in asked])
    labels = [index.entries.index(d.entry) for d in asked]
    classifier = SGDClassifier(loss="log_loss", alpha=1e-5, max_iter=30, tol=None, random_state=42)
    classifier.fit(features, labels)
    print(f"classifier trained in {time.monotonic() - started:.0f} s on {len(asked)} texts")
    order = list(classifier.classes_)

    def probability(text: str) -> np.ndarray:
        p = np.zeros(len(index.entries))
        p[order] = classifier.predict_proba(index._vectors([normalise(text)]))[0]
        return p

    def scores(text: str, mix: float) -> np.ndarray:
        s = (1 - mix) * index._entry_scores(text) + mix * probability(text)
        part = asking_part(text)
        if part:
            s2 = (1 - mix) * index._entry_scores(part) + mix * probability(part)
            s = (1 - QUESTION_PART_WEIGHT) * s + QUESTION_PART_WEIGHT * s2
        return s

    for mix in (0.0, 0.3, 0.5, 0.7):
        rows = []
        for q in questions:
            s = scores(q.text, mix)
            best = np.argsort(-s)[:3]
            rows.append((q, [index.entries[i] for i in best], float(s[best[0]])))
        answerable = [(q, top) for q, top, _ in rows if q.faq]
        top1 = sum(top[0] in q.faq for q, top in answerable)
        top3 = sum(any(e in q.faq for e in top) for q, top in answerable)
        print(f"mix {mix}: top-1 {top1}/{len(answerable)}, top-3 {top3}/{len(answerable)}")
        for bar in np.percentile([r[2] for r in rows], [20, 35, 50]):
            kept = [(q, top) for q, top, score in rows if score >= bar]
            right = sum(bool(q.faq) and top[0] in q.faq for q, top in kept)
            print(f"  bar {bar:.3f}: {len(kept)}/{len(rows)} answered, {right} right")


if __name__ == "__main__":
    main()
