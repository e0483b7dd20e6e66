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

from actions.answers import NEAREST_KINDS
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
    """The offices filed for the comune; for the kinds a person may attend anywhere (a CPIA
    teaching site), also the nearest one, which is what the assistant proposes
    (actions/answers.py), when one is filed for the comune or every procedure names that kind.
    """
    istat = kb.find_comune(comune).istat
    names = {o.name for o in kb.offices_for(service, istat)}
    for kind in OFFICE_KINDS:
        names |= {o.name for o in kb.offices_for(service, istat, kind)}
    procedures = kb.procedures(service, "it")
    always = set.intersection(*(set(p.office_kinds) for p in procedures)) if procedures else set()
    for kind in NEAREST_KINDS:
        if kind in always or kb.offices_for(service, istat, kind):
            names |= {o.name for o in kb.nearest_offices(service, istat, kind, limit=1)}
    return names


# Messages the current model still gets wrong, each with what goes wrong. strict: the day one
# is answered right, its test fails until it is taken off this list.
# Model of 2026-12-07 (config.yml, data/, knowledge/faq and bot/nlu/ at this commit):
# first_messages.yml 144 of 144 right (its nine earlier misses were studied while the lexicon's
# service words were written); first_messages_unseen.yml, which that work did not see, 123 of
# 144 (140 on 2026-12-06, before the danger examples and the safety layer).
KNOWN_MISSES: dict[str, str] = {
    "unseen:it-health_care": "a child's fever and no doctor: DIET and the danger model both "
    "read danger (1.0, 0.80): the emergency numbers, not the health procedure",
    "unseen:bn-legal_aid": "'Maglie' (also Italian for sweaters) needs a place word before it; "
    "in Bengali script none is recognised, so no town and the town is asked for",
    "unseen:zh-family_reunification": "'把老婆孩子从国内接过来' (bring wife and child over) "
    "read as inform (0.99)",
    # Since the 2,040 danger examples and the safety layer of 2026-12-07, ordinary questions read
    # as danger get the numbers (with the question as a button when only one classifier read it):
    "unseen:ar-asylum": "DIET (unsure); DIET report_emergency 1.0, model 0.36",
    "unseen:ar-family_reunification": "DIET (unsure); DIET report_emergency 0.67, model 0.34",
    "unseen:ar-health_care": "DIET (unsure); DIET report_emergency 0.93, model 0.13",
    "unseen:bn-asylum": "DIET; DIET report_emergency 1.0, model 0.61",
    "unseen:en-legal_aid": "words exploitation; DIET ask_legal_aid 1.0, model 0.43",
    "unseen:fr-asylum": "model alone (unsure); DIET ask_asylum 0.99, model 0.5",
    "unseen:it-housing": "model alone (unsure); DIET ask_housing 0.99, model 0.89",
    "unseen:ro-family_reunification": "DIET; DIET report_emergency 0.89, model 0.67",
    "unseen:ro-housing": "model alone (unsure); DIET ask_housing 1.0, model 0.62",
    "unseen:ro-legal_aid": "model alone (unsure); DIET ask_legal_aid 1.0, model 0.67",
    "unseen:ru-asylum": "DIET; DIET report_emergency 1.0, model 0.81",
    "unseen:sq-asylum": "DIET; DIET report_emergency 0.75, model 0.85",
    "unseen:sq-housing": "model alone (unsure); DIET ask_housing 1.0, model 0.65",
    "unseen:uk-asylum": "DIET (unsure); DIET report_emergency 0.76, model 0.47",
    "unseen:uk-family_reunification": "DIET (unsure); DIET report_emergency 1.0, model 0.32",
    "unseen:uk-legal_aid": "words exploitation; DIET ask_legal_aid 0.97, model 0.61",
    "unseen:ur-health_care": "model alone (unsure); DIET ask_health_care 1.0, model 0.51",
    "unseen:zh-housing": "DIET (unsure); DIET report_emergency 0.95, model 0.07",
    "unseen:en-residence_registration": "nlu_fallback; 'anagrafe' is an office, not a service, "
    "so the closest FAQ questions are offered (as buttons) instead of the procedure",
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
    assert any(name in text for name in offices), f"none of {sorted(offices)} in the reply:\n{text}"
