"""The knowledge base's word lists agree with the rest of the assistant."""

from __future__ import annotations

from bot.kb import vocabulary


def test_the_nlu_supports_the_languages_of_the_vocabulary() -> None:
    from bot.nlu import language

    assert language.SUPPORTED == vocabulary.LANGUAGES
    assert len(vocabulary.LANGUAGES) == len(set(vocabulary.LANGUAGES)) == 16  # the brief's


def test_services_are_the_service_intents_plus_emergency() -> None:
    import yaml

    from bot.messages import DOMAIN_FILE

    data = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8")) or {}
    intents = {i if isinstance(i, str) else next(iter(i)) for i in data.get("intents", [])}
    service_intents = {i.removeprefix("ask_") for i in intents if i.startswith("ask_")} - {
        "opening_hours",
        "office_location",
        "documents_needed",
    }
    if service_intents:  # the domain may still be a skeleton on this branch
        assert service_intents == set(vocabulary.SERVICES) - {"emergency"}


def test_fallback_chains() -> None:
    assert vocabulary.fallback_chain("pa") == ("pa", "en", "fr", "it")
    assert vocabulary.fallback_chain("ar") == ("ar", "en", "it")
    assert vocabulary.fallback_chain("en") == ("en", "it")
    assert vocabulary.fallback_chain("it") == ("it", "en")
