"""The message catalogue: replies in the conversation's language, checked against the domain."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
import yaml
from rasa.shared.core.domain import Domain

from bot import messages
from bot.kb.vocabulary import TIER1, TIER2
from bot.nlg import CatalogueNLG
from bot.settings import PROJECT_ROOT

DOMAIN = """
version: "3.1"
responses:
  utter_where:
    - text: "The office is in {city}."
      buttons:
        - {title: "Hours", payload: "/ask_opening_hours"}
        - {title: "Documents", payload: "/ask_documents_needed"}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "domain").mkdir()
    (tmp_path / "domain" / "where.yml").write_text(DOMAIN)
    (tmp_path / "locales").mkdir()
    return tmp_path


def _shipped_sources() -> dict[str, dict]:
    """Every ``utter_`` response of the shipped domain: name → its English source variation."""
    sources = {}
    data = yaml.safe_load(messages.DOMAIN_FILE.read_text(encoding="utf-8")) or {}
    for name, variations in (data.get("responses") or {}).items():
        if name.startswith("utter_"):
            unconditional = [v for v in variations if not v.get("condition")]
            sources[name] = (unconditional or variations)[0]
    return sources


def test_shipped_catalogue_is_valid_and_complete_for_tier1() -> None:
    assert messages.validate() == []
    assert {lang: names for lang, names in messages.missing().items() if names} == {}


def test_shipped_catalogue_is_complete_for_tier2() -> None:
    # Tier 2 people get every reply in their language too (only long knowledge texts fall back).
    gaps = messages.missing(languages=TIER2)
    assert {language: names for language, names in gaps.items() if names} == {}


def test_shipped_translations_translate_buttons_and_words() -> None:
    # A reply left in English, or English button titles under a translated text, is what a
    # person would see; only replies made of placeholders and symbols may stay as they are.
    catalogue, _ = messages.load()
    untranslated = []
    for language in [*TIER1, *TIER2]:
        if language == messages.SOURCE_LANGUAGE:
            continue
        for name, source in _shipped_sources().items():
            translation = catalogue.get(language, name)
            if translation is None:
                continue  # reported by the completeness tests
            if len(translation.buttons) != len(source.get("buttons") or []):
                untranslated.append(f"{language}:{name}: button titles")
            words = re.sub(r"\{\w+\}", "", source["text"])
            if re.search(r"[A-Za-z]{3}", words) and translation.text == source["text"]:
                untranslated.append(f"{language}:{name}: English text")
    assert untranslated == []


def test_reply_is_translated_and_filled(project: Path) -> None:
    (project / "locales" / "it.yml").write_text(
        'messages:\n  utter_where:\n    text: "L\'ufficio è a {city}."\n'
        '    buttons: ["Orari", "Documenti"]\n'
    )
    catalogue, problems = messages.load(project / "locales")
    assert problems == []
    nlg = CatalogueNLG(domain=Domain.load(str(project / "domain")), catalogue=catalogue)

    italian = nlg.generate_in("utter_where", "it", {}, "rest", city="Nardò")
    assert italian["text"] == "L'ufficio è a Nardò."
    assert [b["title"] for b in italian["buttons"]] == ["Orari", "Documenti"]
    assert [b["payload"] for b in italian["buttons"]] == [
        "/ask_opening_hours",
        "/ask_documents_needed",
    ]

    # A language without a translation gets the English source, never nothing.
    wolof = nlg.generate_in("utter_where", "wo", {}, "rest", city="Bari")
    assert wolof["text"] == "The office is in Bari."


def test_generate_reads_the_language_slot(project: Path) -> None:
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    (project / "locales" / "fr.yml").write_text(
        'messages:\n  utter_where: "Le bureau est à {city}."\n'
    )
    domain = Domain.from_yaml(DOMAIN + "\nslots:\n  language:\n    type: text\n    mappings: []\n")
    catalogue, _ = messages.load(project / "locales")
    tracker = DialogueStateTracker.from_events("p", [SlotSet("language", "fr")], domain.slots)
    reply = asyncio.run(
        CatalogueNLG(domain=domain, catalogue=catalogue).generate(
            "utter_where", tracker, "rest", city="Lecce"
        )
    )
    assert reply["text"] == "Le bureau est à Lecce."
    # An action may ask for another language (utter_message(language=...)): it wins.
    (project / "locales" / "it.yml").write_text(
        'messages:\n  utter_where: "L\'ufficio è a {city}."\n'
    )
    catalogue, _ = messages.load(project / "locales")
    reply = asyncio.run(
        CatalogueNLG(domain=domain, catalogue=catalogue).generate(
            "utter_where", tracker, "rest", city="Lecce", language="it"
        )
    )
    assert reply["text"] == "L'ufficio è a Lecce."


def test_translator_mistakes_are_reported_with_file_and_line(project: Path) -> None:
    (project / "locales" / "fr.yml").write_text(
        'messages:\n  utter_where: "Le bureau est à {ville}."\n  utter_nowhere: "Rien"\n'
    )
    (project / "locales" / "es.yml").write_text(
        'messages:\n  utter_where:\n    text: "En {city}."\n    buttons: ["Horario"]\n'
    )
    (project / "locales" / "ar.yml").write_text('messages:\n  utter_where: "مكتب\n')
    (project / "locales" / "xx.yml").write_text("messages: {}\n")
    problems = messages.validate(project / "locales", project / "domain")
    assert (
        "locales/fr.yml:2: utter_where: placeholders ['ville'] differ from the source's ['city']"
        in problems
    )
    assert "locales/fr.yml:3: utter_nowhere: no such response in the domain" in problems
    assert "locales/es.yml:2: utter_where: 1 button titles, the source has 2" in problems
    assert any(p.startswith("locales/ar.yml:") and "YAML syntax" in p for p in problems)
    assert "locales/xx.yml:1: 'xx' is not a supported language code" in problems
    assert len(problems) == 5


def test_every_locale_file_is_for_a_supported_language() -> None:
    from bot.nlu.language import SUPPORTED

    locales = {
        p.stem for p in (PROJECT_ROOT / "locales").glob("*.yml") if p.name != messages.GLOSSARY_FILE
    }
    assert locales <= set(SUPPORTED)


def test_glossary_flags_a_translated_office_name_with_file_and_line(project: Path) -> None:
    (project / "locales" / "it.yml").write_text(
        'messages:\n  utter_where: "L\'ufficio è a {city}."\n', encoding="utf-8"
    )
    (project / "locales" / "zh.yml").write_text(
        'messages:\n  utter_where: "办公室是{city}的警察局。"\n', encoding="utf-8"
    )
    (project / "locales" / "ur.yml").write_text(
        'messages:\n  utter_where: "دفتر {city} میں ہے، ثالث سے پوچھیں۔"\n', encoding="utf-8"
    )
    (project / "locales" / "fr.yml").write_text(
        'messages:\n  utter_where: "Le bureau est la Questura de {city}."\n', encoding="utf-8"
    )
    problems = messages.validate(project / "locales", project / "domain")
    assert [p.split(" glossary")[0] for p in problems] == [
        "locales/ur.yml:2: utter_where:",
        "locales/zh.yml:2: utter_where:",
    ]
    assert "names «Questura» as «警察局» without the Italian word" in problems[1]
    assert "«ثالث»" in problems[0]


def test_privacy_notice_once_on_the_first_reply_of_a_conversation(project: Path) -> None:
    from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    (project / "domain" / "privacy.yml").write_text(
        'version: "3.1"\nresponses:\n  utter_privacy_notice:\n'
        '    - text: "Privacy: we keep little."\n'
    )
    domain = Domain.load(str(project / "domain"))
    catalogue, _ = messages.load(project / "locales")
    nlg = CatalogueNLG(domain=domain, catalogue=catalogue)
    tracker = DialogueStateTracker.from_events("p", [UserUttered("hi")], domain.slots)

    first = asyncio.run(nlg.generate("utter_where", tracker, "rest", city="Bari"))
    same_turn = asyncio.run(nlg.generate("utter_where", tracker, "rest", city="Bari"))
    assert first["text"] == "The office is in Bari.\n\nPrivacy: we keep little."
    assert same_turn["text"] == "The office is in Bari."

    tracker.update(BotUttered("The office is in Bari."))
    tracker.update(SlotSet("x", 1))
    later = asyncio.run(nlg.generate("utter_where", tracker, "rest", city="Bari"))
    assert "Privacy" not in later["text"]


def test_cli_reports_catalogue_state() -> None:
    import subprocess
    import sys

    validate = subprocess.run(
        [sys.executable, "-m", "app", "messages", "validate"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert validate.returncode == 0, validate.stdout + validate.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "app", "messages", "missing", "it", "fr"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 0
    assert missing.stdout.splitlines() == ["it: 0 missing", "fr: 0 missing"]
