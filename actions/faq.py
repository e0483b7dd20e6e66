"""When a message is one of the curated FAQ questions, and when it is only close to some.

The NLU ranks the FAQ entries for every message (``faq`` in the parse, ``bot/nlu/faq.py``); this
module is the one place that decides what a ranking is worth:

- ``ANSWER_SCORE``: the best entry is the question asked, and it is answered;
- ``STORY_ANSWER_SCORE``: the same for a message of ``STORY_WORDS`` words or more. A story
  spreads its words over many entries, so its best score is lower: on the development half of
  the real questions (2026-12-07, ``bot eval faq --split dev``) no real question reached 0.45,
  and scores of right and wrong best entries overlapped between 0.14 and 0.35. At 0.2, 33 of 54
  got an answer, 14 of them the right one and 16 had the right one among the three shown; the
  answer always comes under the question it answers, so a person sees which one it is. 52 of
  the 54 have 20 words or more (median 38); the first messages of ``tests/e2e`` have at most 15,
  and keep the service route, where a service named by DIET and the gazetteer decides;
- ``RELATED``: after an answer, the next closest questions are offered as buttons, so a wrong
  first guess is one tap from the right one;
- ``FOLLOW_UP_SCORE``: a short message right after an answer ("and how long does it take?") is
  matched among the entries of the service being discussed, where a lower score is enough;
- ``SUGGEST_SCORE`` (``STORY_SUGGEST_SCORE`` for a story): nothing is sure, but the closest
  questions are worth offering as buttons (with a mediator beside them) rather than "I did not
  understand"; the same bar decides which related questions follow an answer.

The thresholds were chosen on the development half of the real questions (``bot eval faq``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ANSWER_SCORE = 0.45
STORY_ANSWER_SCORE = 0.2
STORY_WORDS = 20
FOLLOW_UP_SCORE = 0.3
SUGGEST_SCORE = 0.25
STORY_SUGGEST_SCORE = 0.15
RELATED = 2
FOLLOW_UP_WORDS = 8
MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class FaqChoice:
    """The entry to answer, if any, and the entries to offer (beside it, or instead)."""

    answer: str | None = None
    suggestions: tuple[str, ...] = field(default_factory=tuple)


def choose(parse: dict[str, Any], service: str | None, last_faq: str | None) -> FaqChoice:
    """What to do with the FAQ ranking of a message, given the conversation's service."""
    ranking = [r for r in ((parse.get("faq") or {}).get("ranking") or []) if r.get("id")]
    if not ranking:
        return FaqChoice()
    best = ranking[0]
    words = len(str(parse.get("text") or "").split())
    story = words >= STORY_WORDS
    bar = STORY_ANSWER_SCORE if story else ANSWER_SCORE
    floor = STORY_SUGGEST_SCORE if story else SUGGEST_SCORE
    close = tuple(str(r["id"]) for r in ranking if float(r.get("score") or 0) >= floor)
    if float(best.get("score") or 0) >= bar:
        return FaqChoice(answer=str(best["id"]), suggestions=close[1 : 1 + RELATED])
    if service and words <= FOLLOW_UP_WORDS:
        for row in ranking:
            if (
                row.get("service") == service
                and row["id"] != last_faq
                and float(row.get("score") or 0) >= FOLLOW_UP_SCORE
            ):
                return FaqChoice(answer=str(row["id"]))
    return FaqChoice(suggestions=close[:MAX_SUGGESTIONS])
