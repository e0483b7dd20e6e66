"""When a message is one of the curated FAQ questions, and when it is only close to some.

The NLU ranks the FAQ entries for every message (``faq`` in the parse, ``bot/nlu/faq.py``); this
module is the one place that decides what a ranking is worth:

- ``ANSWER_SCORE``: the best entry is the question asked, and it is answered;
- ``FOLLOW_UP_SCORE``: a short message right after an answer ("and how long does it take?") is
  matched among the entries of the service being discussed, where a lower score is enough;
- ``SUGGEST_SCORE``: nothing is sure, but the closest questions are worth offering as buttons
  (with a mediator beside them) rather than "I did not understand".

The thresholds were chosen on the development half of the real questions (``bot eval faq``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ANSWER_SCORE = 0.45
FOLLOW_UP_SCORE = 0.3
SUGGEST_SCORE = 0.25
FOLLOW_UP_WORDS = 8
MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class FaqChoice:
    """The entry to answer, if any, and otherwise the entries to offer."""

    answer: str | None = None
    suggestions: tuple[str, ...] = field(default_factory=tuple)


def choose(parse: dict[str, Any], service: str | None, last_faq: str | None) -> FaqChoice:
    """What to do with the FAQ ranking of a message, given the conversation's service."""
    ranking = [r for r in ((parse.get("faq") or {}).get("ranking") or []) if r.get("id")]
    if not ranking:
        return FaqChoice()
    best = ranking[0]
    if float(best.get("score") or 0) >= ANSWER_SCORE:
        return FaqChoice(answer=str(best["id"]))
    words = len(str(parse.get("text") or "").split())
    if service and words <= FOLLOW_UP_WORDS:
        for row in ranking:
            if (
                row.get("service") == service
                and row["id"] != last_faq
                and float(row.get("score") or 0) >= FOLLOW_UP_SCORE
            ):
                return FaqChoice(answer=str(row["id"]))
    close = tuple(str(r["id"]) for r in ranking if float(r.get("score") or 0) >= SUGGEST_SCORE)
    return FaqChoice(suggestions=close[:MAX_SUGGESTIONS])
