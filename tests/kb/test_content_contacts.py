"""Every office a person is sent to can be reached: issue 15's "Done when", on the shipped content.

For each of the six provinces and each of the seven kinds of office a migrant needs most
(Questura, Prefettura / Sportello Unico, ASL, Centro per l'impiego, CPIA, Agenzia delle Entrate,
the competent Commissione territoriale), an office of that kind serving the province has an
address or a phone, and that value has a source: the record's page, or the register row that
filled it. The cells no stored page has filled yet are in :data:`KNOWN_GAPS`, with what stands
in the way; they are strict xfails, so the day someone fills one the test says so and the entry
must go.

And an answer naming one of these kinds says "the address is not confirmed yet" only when
nothing is known: never while another office of the same kind, serving the same town for the
same service, has a contact the person could use instead. Other kinds are places in their own
right (a foresteria elsewhere in the province is no way to reach the one in town), so they are
left out.
"""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

import pytest

from actions import render
from actions.answers import ActionAnswerService
from bot import territory
from bot.kb.db import make_engine
from bot.kb.load import load
from bot.kb.merge import CONTACT_FIELDS, Merged, read_merged
from bot.kb.queries import KnowledgeBase
from bot.kb.validate import Office
from bot.kb.vocabulary import SERVICES
from bot.messages import render as line
from bot.settings import PROJECT_ROOT

# The kind of office, and the service a person asks about when the assistant names it.
KINDS = {
    "questura": "residence_permit",
    "prefettura": "family_reunification",
    "asl": "health_care",
    "centro_impiego": "employment",
    "cpia": "italian_course",
    "agenzia_entrate": "tax_code",
    "commissione_territoriale": "asylum",
}

# (province, kind) → why no office of that kind serving the province can be reached yet.
# The searches behind each are listed beside the record in knowledge/offices/regional.yml.
KNOWN_GAPS = {
    ("BT", "commissione_territoriale"): "no page gives the Foggia Commissione's address or phone",
    ("FG", "commissione_territoriale"): "no page gives the Foggia Commissione's address or phone",
    ("BR", "commissione_territoriale"): "since DM 10.11.2014 Bari no longer covers Brindisi; "
    "no stored page names the Commissione that does",
    ("LE", "commissione_territoriale"): "since DM 10.11.2014 Bari no longer covers Lecce; "
    "no stored page names the Commissione that does",
}


@lru_cache(maxsize=1)
def _merged() -> Merged:
    merged, problems = read_merged(PROJECT_ROOT / "knowledge")
    assert problems == []
    return merged


def _provinces_served(office: Office) -> set[str]:
    if office.serves_region:
        return set(territory.PROVINCES)
    province_of = {c.istat: c.province for c in territory.comuni()}
    return set(office.serves_provinces) | {province_of[i] for i in office.serves_comuni}


def _sourced_ways_in(office: Office, merged: Merged) -> list[str]:
    """The office's address and phone, each only if a page or a register row stands behind it."""
    stamped = {
        (fs.record_id, fs.field) for fs in merged.field_sources if fs.record_kind == "office"
    }
    return [
        getattr(office, name)
        for name in ("address", "phone")
        if getattr(office, name)
        and (office.source.startswith("http") or (office.id, name) in stamped)
    ]


def _cells() -> list:
    return [
        pytest.param(
            code, kind, marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[(code, kind)])
        )
        if (code, kind) in KNOWN_GAPS
        else pytest.param(code, kind)
        for code in territory.PROVINCES
        for kind in KINDS
    ]


@pytest.mark.parametrize(("province", "kind"), _cells())
def test_each_province_can_reach_each_key_office(province: str, kind: str) -> None:
    merged = _merged()
    serving = [
        o for o in merged.content.offices if o.kind == kind and province in _provinces_served(o)
    ]
    reachable = {o.id: ways for o in serving if (ways := _sourced_ways_in(o, merged))}
    assert reachable, (
        f"{province}: no {kind} office with a sourced address or phone "
        f"(offices: {[o.id for o in serving]})"
    )


def test_the_gaps_are_only_the_known_ones() -> None:
    # A gap listed for a kind that is not asked for, or a province that does not exist, would
    # be an xfail that can never pass.
    assert {kind for _, kind in KNOWN_GAPS} <= set(KINDS)
    assert {code for code, _ in KNOWN_GAPS} <= set(territory.PROVINCES)


@pytest.fixture(scope="module")
def shipped() -> KnowledgeBase:
    """The shipped knowledge and registers, loaded as the assistant reads them."""
    folder = Path(tempfile.mkdtemp(prefix="kb-contacts-"))
    engine = make_engine(f"sqlite:///{folder / 'kb.db'}")
    assert not load(PROJECT_ROOT / "knowledge", engine).problems
    return KnowledgeBase(engine, refresh_seconds=None)


def test_not_confirmed_only_when_no_office_of_that_kind_can_be_reached(
    shipped: KnowledgeBase,
) -> None:
    """Every town, service and procedure: the key office the answer names, as it is shown."""
    merged = _merged()
    contact = {
        o.id: any(getattr(o, name) for name in CONTACT_FIELDS) for o in merged.content.offices
    }
    province_of = {c.istat: c.province for c in territory.comuni()}
    unknown = line("utter_answer_line_address_unknown", "en")
    action = ActionAnswerService(shipped)
    answers, wrong = 0, []
    for comune in shipped.comuni():
        for service in SERVICES:
            for procedure in shipped.procedures(service, "it") or (None,):
                office = action.office(service, comune, procedure)
                if office is None or office.kind not in KINDS:
                    continue
                answers += 1
                if unknown not in render.office_lines(office, "en"):
                    continue
                better = [
                    o.id
                    for o in merged.content.offices
                    if o.kind == office.kind
                    and service in o.services
                    and contact[o.id]
                    and (
                        o.serves_region
                        or comune.istat in o.serves_comuni
                        or province_of[comune.istat] in o.serves_provinces
                    )
                ]
                if better:
                    wrong.append((comune.name, service, office.id, better))
    assert answers > 5000  # 257 comuni x every service and procedure with a key office
    assert not wrong, wrong[:10]


def test_an_office_known_only_by_its_national_line_says_call_first(shipped: KnowledgeBase) -> None:
    foggia = next(c for c in shipped.comuni() if c.name == "Foggia")
    office = shipped.office_for("tax_code", foggia.istat, "agenzia_entrate")
    assert office is not None and office.address == ""
    lines = render.office_lines(office, "en")
    assert lines[1] == line("utter_answer_line_contact_first", "en")
    assert "📞 800 90 96 96" in lines
    assert line("utter_answer_line_address_unknown", "en") not in lines
