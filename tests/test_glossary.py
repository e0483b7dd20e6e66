"""The terminology glossary: one name per office and concept, and the check that enforces it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot import glossary
from bot.glossary import Glossary, Pattern
from bot.kb.vocabulary import LANGUAGES

OFFICES = {
    "questura",
    "prefettura",
    "sportello_unico",
    "agenzia_entrate",
    "asl",
    "centro_impiego",
    "cpia",
    "commissione_territoriale",
    "anagrafe",
}
CONCEPTS = {"residence_permit", "receipt", "mediator", "ticket", "stp", "eni"}


@pytest.fixture(scope="module")
def shipped() -> Glossary:
    found, problems = glossary.load()
    assert problems == []
    return found


def test_shipped_glossary_covers_offices_and_concepts_in_16_languages(shipped: Glossary) -> None:
    by_id = {entry.id: entry for entry in shipped.entries}
    assert OFFICES | CONCEPTS <= set(by_id)
    assert {by_id[o].kind for o in OFFICES} == {"office"}
    for entry in shipped.entries:
        assert set(entry.terms) >= set(LANGUAGES) - {"it"}, entry.id
    for office in OFFICES:  # every language writes the office's Italian name
        entry = by_id[office]
        for lang, term in entry.terms.items():
            assert any(p.find(glossary.fold(term)) for p in entry.keep), (office, lang, term)
    assert set(shipped.registers) == set(LANGUAGES)


def test_a_translated_office_name_is_flagged(shipped: Glossary) -> None:
    # The reviewer's case: Chinese names the Questura only as 警察局 ("police station").
    alone = shipped.check("zh", "之后警察局会通知你领取居留许可。")
    assert any("«Questura»" in p and "«警察局»" in p for p in alone)
    # With the Italian source, the office must be kept whatever local word was used.
    source = "Dopo, la Questura ti chiama per ritirare il permesso."
    assert any(
        "keep the Italian word" in p for p in shipped.check("zh", "之后会通知您领取。", source)
    )
    assert (
        shipped.check("zh", "之后 Questura（警察局移民办公室）会通知您领取居留许可。", source) == []
    )
    # Arabic and Ukrainian wrote the office in their own script only.
    assert shipped.check("ar", "اذهب إلى مكتب وكالة الإيرادات.")
    assert shipped.check("uk", "Потім Квестура викличе вас.")
    assert shipped.check("uk", "Потім Questura (Квестура) викличе вас.") == []
    assert shipped.check("ar", "اذهب إلى الـQuestura.", "Vai in Questura.") == []


def test_a_variant_word_is_flagged(shipped: Glossary) -> None:
    assert any("«ثالث»" in p for p in shipped.check("ur", "ثقافتی ثالث سے بات کریں"))
    assert any("ਵਿਚੋਲ" in p for p in shipped.check("pa", "ਇੱਕ ਸੱਭਿਆਚਾਰਕ ਵਿਚੋਲਾ ਮਦਦ ਕਰ ਸਕਦਾ ਹੈ"))
    assert any(
        "«titre de séjour»" in p for p in shipped.check("fr", "Votre permis de séjour a expiré.")
    )
    assert shipped.check("fr", "Votre titre de séjour a expiré.") == []
    # Pashto: "د اوسېدو اجازه" without لیک is a second name for the same document.
    assert shipped.check("ps", "د اوسېدو اجازه")
    assert shipped.check("ps", "د اوسېدو اجازه\u200cلیک") == []


def test_kept_italian_words_and_explanations(shipped: Glossary) -> None:
    source = "Conserva la ricevuta delle Poste."
    assert shipped.check("en", "Keep the post-office receipt.", source)
    assert shipped.check("en", "Keep the post-office receipt (ricevuta).", source) == []
    assert any(
        "explanation" in p for p in shipped.check("en", "You pay the ticket.", "Paghi il ticket.")
    )
    assert (
        shipped.check("en", "You pay the ticket (your share of the cost).", "Paghi il ticket.")
        == []
    )
    # A placeholder named {ticket} is not the health ticket.
    assert shipped.check("en", "Your request {ticket} is in the queue.") == []


def test_register(shipped: Glossary) -> None:
    assert shipped.check("fr", "Si tu es venu pour le travail")
    assert shipped.check("fr", "Si vous êtes venu pour le travail") == []
    assert shipped.check("zh", "你可以申请")
    assert shipped.check("zh", "您可以申请，你们也可以") == []
    assert shipped.check("uk", "Якщо ти вже в Італії")
    assert shipped.check("ru", "Проверьте дату на твоём виде на жительство")
    assert shipped.check("ru", "у тебя нет кода")
    assert shipped.check("ru", "у вас нет кода") == []
    # Italian is the source and its own register.
    assert shipped.check("it", "Se tu sei venuto per lavoro") == []


def test_pattern_words_stems_acronyms_and_folding() -> None:
    stem = Pattern.compile("Квестур*")
    assert stem.find("до Квестури") == "Квестури"
    assert stem.find("доКвестури") is None  # a Cyrillic pattern starts a word
    word = Pattern.compile("permis de séjour")
    assert word.find("un permis de séjours") is None
    assert word.find("PERMIS DE SÉJOUR") == "PERMIS DE SÉJOUR"
    acronym = Pattern.compile("ASL")
    assert acronym.find(glossary.fold("في الـASL")) == "ASL"
    assert acronym.find("asl") is None and acronym.find("BASLE") is None
    # Arabic vowel marks and Arabic/Persian letter forms do not make another word.
    arabic = Pattern.compile("الشباك الموحد")
    assert arabic.find(glossary.fold("الشباك الموحّد")) is not None
    assert Pattern.compile("کد").find(glossary.fold("كد")) is not None
    assert Pattern.compile("re:د(?!x)").find("دa") == "د"


def test_broken_glossary_is_reported_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "glossary.yml"
    path.write_text(
        textwrap.dedent("""\
        register:
          fr: {use: "vous", avoid: ["tu"]}
          xx: {use: "?"}
        entries:
          - id: questura
            kind: office
            it: "Questura"
            keep: ["Questur*"]
            terms: {en: "police station", fr: "Questura", it: "Questura"}
          - id: mediator
            kind: concept
            it: "mediatore"
            terms: {en: "mediator", fr: "médiateur"}
            avoid: {zz: ["x"], fr: ["re:(unclosed"]}
        """),
        encoding="utf-8",
    )
    found, problems = glossary.load(path)
    lines = {(line, message.split(":")[0]) for _, line, message in problems}
    messages = "\n".join(f"{line}: {message}" for _, line, message in problems)
    assert (3, "unknown language 'xx' in 'register'") in lines
    assert "9: entry 'questura' has no term in" in messages  # 13 languages missing
    assert "5: term en of 'questura': the Italian names «Questura»" in messages
    assert "14: unknown language 'zz' in 'avoid' of entry 'mediator'" in messages
    assert "is not a valid pattern" in messages
    assert [e.id for e in found.entries] == ["questura", "mediator"]


def test_a_term_that_breaks_the_rules_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "glossary.yml"
    path.write_text(
        textwrap.dedent("""\
        entries:
          - id: questura
            kind: office
            it: "Questura"
            keep: ["Questur*"]
            terms: {en: "police headquarters"}
            names: {en: ["police headquarters"]}
        """),
        encoding="utf-8",
    )
    _, problems = glossary.load(path)
    assert any(
        line == 2 and "term en of 'questura'" in message and "Italian" in message
        for _, line, message in problems
    )


def test_text_maps_skip_variants(tmp_path: Path) -> None:
    from bot.kb.yamlsource import load_yaml

    tree_file = tmp_path / "faq.yml"
    tree_file.write_text(
        textwrap.dedent("""\
        faq:
          - id: x
            question: {it: "Dov'è la Questura?", zh: "警察局在哪里？"}
            variants: {it: ["questura dove"], zh: ["警察局在哪"]}
        """),
        encoding="utf-8",
    )
    tree = load_yaml(tree_file)
    maps = glossary.text_maps(tree)
    assert [dict(m) for m in maps] == [{"it": "Dov'è la Questura?", "zh": "警察局在哪里？"}]
    problems = glossary.check_tree(tree)
    assert [line for line, _ in problems] == [3]
