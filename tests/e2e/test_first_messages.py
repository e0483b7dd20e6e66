"""First messages in every Tier-1 language get the right office and procedure, in that language.

Each message of ``first_messages.yml`` (one per language and service, naming the person's town)
is sent in a new conversation over the REST channel of the running assistant. The replies must
name an office that serves that service for that comune, show one of that service's procedures
in the message's language. Where the knowledge base knows no such office (some comuni have no
listed CPIA yet), the reply must say so honestly, in that language, instead of naming another.
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

CASES = yaml.safe_load((Path(__file__).parent / "first_messages.yml").read_text("utf-8"))[
    "messages"
]


def acceptable_offices(kb: KnowledgeBase, service: str, comune: str) -> set[str]:
    istat = kb.find_comune(comune).istat
    names = {o.name for o in kb.offices_for(service, istat)}
    for kind in OFFICE_KINDS:
        names |= {o.name for o in kb.offices_for(service, istat, kind)}
    return names


# Messages the current model still gets wrong, each with what goes wrong. strict: the day one
# is answered right, its test fails until it is taken off this list.
# Model of 2026-11-22 (config.yml with concept features, data/ at this commit): 135 of 144 right.
KNOWN_MISSES: dict[str, str] = {
    "en-health_care": "'without a permit' pulls it to ask_residence_permit (1.0)",
    "sq-employment": "'si regjistrohem në centro per l'impiego' read as inform (0.90)",
    "ro-employment": "'unde mă înscriu la centro per l'impiego' read as ask_office_location "
                     "(0.99): the office's address, no procedure",
    "ur-residence_registration": "transliterated ریزیڈنسا not recognised: read as inform",
    "bn-housing": "'ভাড়া বাসা' (rented flat) read as report_emergency (0.41)",
    "zh-family_reunification": "家庭团聚 not recognised: read as inform",
    "zh-italian_course": "意大利语课 not recognised: read as inform",
    "zh-school_enrollment": "上学 报名 not recognised: nlu_fallback, no service named",
    "zh-housing": "租房 not recognised: nlu_fallback, no service named",
}


def _case_id(case: dict) -> str:
    return f"{case['language']}-{case['service']}"


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
        {"sender": f"first-{case['language']}-{case['service']}", "message": case["text"]},
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
