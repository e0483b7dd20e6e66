"""First messages in every Tier-1 language get the right office and procedure, in that language.

Each message of ``first_messages.yml`` and of ``first_messages_unseen.yml`` (one per language and
service in each, naming the person's town) is sent in a new conversation over the REST channel
of the running assistant. The replies must name an office that serves that service for that
comune, show one of that service's procedures in the message's language. Where the knowledge
base knows no such office (some comuni have no listed CPIA yet), the reply must say so
honestly, in that language, instead of naming another.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.kb.queries import KnowledgeBase
from bot.kb.vocabulary import OFFICE_KINDS
from bot.messages import render
from tests.stack import Stack, post_json

pytestmark = pytest.mark.e2e

# first_messages.yml: the set. first_messages_unseen.yml: a second set written later by
# someone who had not read the training data or the lexicon (see its header).
FILES = {"": "first_messages.yml", "unseen:": "first_messages_unseen.yml"}
CASES = [
    {**case, "set": prefix}
    for prefix, name in FILES.items()
    for case in yaml.safe_load((Path(__file__).parent / name).read_text("utf-8"))["messages"]
]


def acceptable_offices(kb: KnowledgeBase, service: str, comune: str) -> set[str]:
    istat = kb.find_comune(comune).istat
    names = {o.name for o in kb.offices_for(service, istat)}
    for kind in OFFICE_KINDS:
        names |= {o.name for o in kb.offices_for(service, istat, kind)}
    return names


# Messages the current model still gets wrong, each with what goes wrong. strict: the day one
# is answered right, its test fails until it is taken off this list.
# Model of 2026-12-06 (config.yml, data/ and bot/nlu/ at this commit): first_messages.yml 144 of
# 144 right (its nine earlier misses were studied while the lexicon's service words were
# written); first_messages_unseen.yml, which that work did not see, 140 of 144.
KNOWN_MISSES: dict[str, str] = {
    "unseen:it-asylum": "fleeing and fear of going back, no asylum word: read as "
    "ask_family_reunification (0.41)",
    "unseen:it-health_care": "a child's fever and no doctor: nlu_fallback (0.40), no service "
    "named, so a rephrase prompt",
    "unseen:bn-legal_aid": "'Maglie' (also Italian for sweaters) needs a place word before it; "
    "in Bengali script none is recognised, so no town and the town is asked for",
    "unseen:zh-family_reunification": "'把老婆孩子从国内接过来' (bring wife and child over) "
    "read as inform (0.99)",
    # Since the 1,437 short training examples of 2026-12-06 (held-out macro-F1 0.916 -> 0.942),
    # a side remark in a long first message outweighs its topic:
    "unseen:en-employment": "'I have permesso' outweighs 'looking for work ... anyone hiring': "
    "ask_residence_permit (0.90), ask_employment (0.06)",
    "unseen:es-housing": "'alguien sabe?' (does anyone know) read as asking for a person: "
    "request_mediator (0.47), ask_housing (0.31)",
    "unseen:ru-housing": "'двое взрослых без детей' (two adults, no children) pulls to "
    "ask_school_enrollment (0.68), ask_housing (0.28)",
}


def _case_id(case: dict) -> str:
    return f"{case['set']}{case['language']}-{case['service']}"


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case,
            id=_case_id(case),
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[_case_id(case)])]
            if _case_id(case) in KNOWN_MISSES
            else [],
        )
        for case in CASES
    ],
)
def test_first_message_gets_the_right_office_and_procedure_in_its_language(
    stack: Stack, kb: KnowledgeBase, case: dict
) -> None:
    replies = post_json(
        f"{stack.base_url}/webhooks/rest/webhook",
        {"sender": f"first-{_case_id(case)}", "message": case["text"]},
    )
    text = "\n".join(r.get("text", "") for r in replies)

    titles = {p.title for p in kb.procedures(case["service"], case["language"])}
    assert any(title in text for title in titles), (
        f"no {case['service']} procedure in {case['language']} in the reply:\n{text}"
    )
    offices = acceptable_offices(kb, case["service"], case["comune"])
    if not offices:
        honest = render("utter_answer_no_office", case["language"], city=case["comune"])
        assert honest in text, f"no office is known, and the reply does not say so:\n{text}"
        return
    assert any(name in text for name in offices), (
        f"none of {sorted(offices)} in the reply:\n{text}"
    )
