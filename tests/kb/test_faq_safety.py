"""FAQ entries and safety help: what editors write, what the validator refuses, what is read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.kb.queries import KnowledgeBase
from bot.kb.validate import read_knowledge
from tests.kb.conftest import line_of


def _problems(root: Path) -> list[str]:
    return [str(p) for p in read_knowledge(root)[1]]


def _edit(root: Path, name: str, old: str, new: str) -> Path:
    path = root / name
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_faq_answer_in_the_persons_language_with_its_sources(kb: KnowledgeBase) -> None:
    assert kb.faq_ids() == ("permit-work-with-receipt",)
    assert kb.faq_ids("health_care") == ()
    answer = kb.faq("permit-work-with-receipt", "ar")
    assert answer is not None
    assert answer.answer.startswith("نعم")
    assert answer.question == "هل يمكنني العمل بالإيصال (ricevuta)؟"
    assert not answer.fell_back
    assert answer.sources == (
        "https://www.integrazionemigranti.gov.it/",
        "https://www.poliziadistato.it/",
    )
    assert answer.source_date == dt.date(2024, 5, 10)
    assert answer.verified
    assert answer.procedure == "residence-permit-renewal"
    assert answer.office_kinds == ("questura",)


def test_faq_untranslated_falls_back_to_english_never_a_mix(kb: KnowledgeBase) -> None:
    answer = kb.faq("permit-work-with-receipt", "uk")
    assert answer is not None
    assert (answer.language, answer.fell_back) == ("en", True)
    assert answer.question.startswith("Can I work")
    assert kb.faq("no-such-entry", "it") is None


def test_safety_help_names_its_numbers_in_order(kb: KnowledgeBase) -> None:
    help_ = kb.safety_help("exploitation", "en")
    assert help_ is not None
    assert help_.numbers == ("antitratta", "emergency-112")
    assert help_.text.startswith("The anti-trafficking line")
    assert help_.undocumented == ""
    medical = kb.safety_help("medical", "it")
    assert medical is not None and "polizia" in medical.undocumented
    assert kb.safety_help("fire_danger", "it") is None


@pytest.mark.parametrize(
    ("file", "old", "new", "anchor", "message"),
    [
        (
            "faq/residence_permit.yml",
            "service: residence_permit",
            "service: asylum",
            "service: asylum",
            "service 'asylum' in the file of 'residence_permit': move the entry "
            "to faq/asylum.yml or correct the service",
        ),
        (
            "faq/residence_permit.yml",
            "procedure: residence-permit-renewal",
            "procedure: residence-permit-renewl",
            "id: permit-work-with-receipt",
            "unknown procedure 'residence-permit-renewl' (did you mean "
            "'residence-permit-renewal'?)",
        ),
        (
            "faq/residence_permit.yml",
            '      it: ["posso lavorare col cedolino", '
            '"con la ricevuta delle poste posso lavorare?"]\n',
            "",
            "variants:",
            "FAQ entry 'permit-work-with-receipt' needs at least one Italian variant",
        ),
        (
            "faq/residence_permit.yml",
            "xx: [",
            "de: [",
            "de: [",
            "unknown language 'de' in the variants of FAQ entry 'permit-work-with-receipt'",
        ),
        (
            "faq/residence_permit.yml",
            'url: "https://www.poliziadistato.it/"',
            'url: "www.poliziadistato.it"',
            'url: "www.poliziadistato.it"',
            "'url' must be a web address starting with https://",
        ),
        (
            "faq/residence_permit.yml",
            "date: 2024-05-10",
            "date: 2027-05-10",
            "id: permit-work",
            "source_date is later than checked",
        ),
        (
            "safety.yml",
            "numbers: [antitratta, emergency-112]",
            "numbers: [antitrata]",
            "id: safety-exploitation",
            "unknown emergency number 'antitrata' (did you mean 'antitratta'?)",
        ),
        (
            "safety.yml",
            "danger: medical",
            "danger: exploitation",
            "id: safety-medical",
            "danger 'exploitation' has help already",
        ),
        (
            "safety.yml",
            "danger: medical",
            "danger: flood",
            "danger: flood",
            "unknown danger 'flood' (expected one of medical, self_harm, violence, minor, "
            "exploitation, fire_danger, danger)",
        ),
    ],
)
def test_mistakes_are_reported_at_their_line(
    knowledge: Path, file: str, old: str, new: str, anchor: str, message: str
) -> None:
    path = _edit(knowledge, file, old, new)
    problems = _problems(knowledge)
    assert any(p.startswith(f"{path}:{line_of(path, anchor)}: {message}") for p in problems), (
        problems
    )


def test_a_faq_file_must_be_named_after_a_service(knowledge: Path) -> None:
    (knowledge / "faq" / "permits.yml").write_text("faq: []\n", encoding="utf-8")
    assert any("faq/permits.yml:1: not a knowledge file" in p for p in _problems(knowledge))


def test_faq_and_help_texts_go_to_translators(knowledge: Path) -> None:
    from bot.kb.validate import iter_texts

    content, _ = read_knowledge(knowledge)
    keys = {ref.key for ref in iter_texts(content)}
    assert {
        "permit-work-with-receipt.question",
        "permit-work-with-receipt.answer",
        "safety-medical.text",
        "safety-medical.undocumented",
    } <= keys
