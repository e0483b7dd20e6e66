"""The message catalogue: every sentence a person reads, in every language.

The domain's responses (``domain.yml``) hold the English source text, button payloads and
placeholders; ``locales/<lang>.yml`` hold the translations, keyed by response name. Translators
edit one file per language; :func:`validate` checks each entry against the domain (known
response, same placeholders, same number of buttons) and reports ``file:line: problem``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.kb.vocabulary import LANGUAGES as SUPPORTED
from bot.kb.vocabulary import TIER1
from bot.settings import PROJECT_ROOT

LOCALES_DIR = PROJECT_ROOT / "locales"
GLOSSARY_FILE = "glossary.yml"
DOMAIN_FILE = PROJECT_ROOT / "domain.yml"  # one file, so stock `rasa` commands find it
SOURCE_LANGUAGE = "en"  # the language of the domain's response texts
_PLACEHOLDER = re.compile(r"{\w+}")


@dataclass(frozen=True)
class Translation:
    """One translated response: its text and, in order, its button titles."""

    text: str
    buttons: tuple[str, ...] = ()


@dataclass
class Catalogue:
    """Translations by language, then by response name."""

    messages: dict[str, dict[str, Translation]] = field(default_factory=dict)
    # language → response name → line in locales/<language>.yml, for error messages
    lines: dict[str, dict[str, int]] = field(default_factory=dict)

    def get(self, language: str | None, response: str) -> Translation | None:
        """The translation of ``response`` into ``language``, if there is one."""
        if not language:
            return None
        return self.messages.get(language, {}).get(response)


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping key (for file:line errors)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__lines__"] = {
        key_node.value: key_node.start_mark.line + 1 for key_node, _ in node.value
    }
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def placeholders(text: str) -> set[str]:
    """Names of the ``{placeholders}`` in a response text."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _parse_entry(value: Any) -> Translation | None:
    if isinstance(value, str):
        return Translation(value)
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        buttons = value.get("buttons") or []
        if isinstance(buttons, list) and all(isinstance(b, str) for b in buttons):
            return Translation(value["text"], tuple(buttons))
    return None


def load(directory: Path = LOCALES_DIR) -> tuple[Catalogue, list[str]]:
    """Read every ``<lang>.yml``; return the catalogue and the problems found while reading."""
    catalogue = Catalogue()
    problems: list[str] = []
    for path in sorted(directory.glob("*.yml")):
        if path.name == GLOSSARY_FILE:
            continue  # the terminology glossary, not a language (bot/glossary.py)
        language = path.stem
        where = path.relative_to(directory.parent) if directory.parent in path.parents else path
        if language not in SUPPORTED:
            problems.append(f"{where}:1: '{language}' is not a supported language code")
            continue
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else 1
            problems.append(f"{where}:{line}: YAML syntax: {getattr(exc, 'problem', exc)}")
            continue
        messages = data.get("messages") if isinstance(data, dict) else None
        if not isinstance(messages, dict):
            problems.append(f"{where}:1: expected a 'messages:' mapping")
            continue
        lines = messages.pop("__lines__", {})
        entries: dict[str, Translation] = {}
        for name, value in messages.items():
            parsed = _parse_entry(value)
            if parsed is None:
                problems.append(
                    f"{where}:{lines.get(name, 1)}: {name}: expected a text, or 'text' with "
                    f"an optional list of button titles"
                )
                continue
            entries[name] = parsed
        catalogue.messages[language] = entries
        catalogue.lines[language] = lines
    return catalogue, problems


def _domain_responses(domain_path: Path) -> dict[str, list[dict[str, Any]]]:
    """Responses of every domain file, read as plain YAML (the action server has no Rasa)."""
    files = sorted(domain_path.glob("*.yml")) if domain_path.is_dir() else [domain_path]
    responses: dict[str, list[dict[str, Any]]] = {}
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        responses.update(data.get("responses") or {})
    return responses


def validate(directory: Path = LOCALES_DIR, domain_path: Path = DOMAIN_FILE) -> list[str]:
    """Problems in the catalogue, one ``file:line: what is wrong`` per entry."""
    catalogue, problems = load(directory)
    responses = _domain_responses(domain_path)
    for language, entries in sorted(catalogue.messages.items()):
        where = f"{directory.name}/{language}.yml"
        for name, translation in entries.items():
            line = catalogue.lines[language].get(name, 1)
            source = responses.get(name)
            if not source:
                problems.append(f"{where}:{line}: {name}: no such response in the domain")
                continue
            variation = _source_variation(source)
            expected = placeholders(variation.get("text", ""))
            found = placeholders(translation.text)
            if found != expected:
                problems.append(
                    f"{where}:{line}: {name}: placeholders {sorted(found)} differ from the "
                    f"source's {sorted(expected)}"
                )
            wanted = len(variation.get("buttons") or [])
            if translation.buttons and len(translation.buttons) != wanted:
                problems.append(
                    f"{where}:{line}: {name}: {len(translation.buttons)} button titles, the "
                    f"source has {wanted}"
                )
    problems.extend(_glossary_problems(catalogue, domain_path))
    return problems


def _words(translation: Translation) -> str:
    """A reply's text and button titles, as one text for the glossary check."""
    return "\n".join((translation.text, *translation.buttons))


def _glossary_problems(catalogue: Catalogue, domain_path: Path) -> list[str]:
    """The glossary's check (:mod:`bot.glossary`) on every translation and the English source.

    The Italian catalogue is the reference: an office name it keeps must be kept by the others.
    """
    from bot import glossary

    checker, found = glossary.default()
    problems = [f"{file}:{line}: {message}" for file, line, message in found]
    italian = catalogue.messages.get("it", {})
    for language, entries in sorted(catalogue.messages.items()):
        where = f"{LOCALES_DIR.name}/{language}.yml"
        for name, translation in entries.items():
            source = italian.get(name)
            for message in checker.check(
                language, _words(translation), _words(source) if source else None
            ):
                line = catalogue.lines[language].get(name, 1)
                problems.append(f"{where}:{line}: {name}: glossary ({language}): {message}")
    for file, name, line, text in _domain_texts(domain_path):
        source = italian.get(name)
        for message in checker.check(SOURCE_LANGUAGE, text, _words(source) if source else None):
            problems.append(f"{file}:{line}: {name}: glossary ({SOURCE_LANGUAGE}): {message}")
    return problems


def _domain_texts(domain_path: Path) -> list[tuple[str, str, int, str]]:
    """``(file, response, line, text and button titles)`` of every English source text."""
    files = sorted(domain_path.glob("*.yml")) if domain_path.is_dir() else [domain_path]
    found = []
    for path in files:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader) or {}
        responses = data.get("responses") or {}
        for name, variations in responses.items():
            if name == "__lines__" or not isinstance(variations, list):
                continue
            for variation in variations:
                if not isinstance(variation, dict) or not isinstance(variation.get("text"), str):
                    continue
                titles = [
                    b.get("title", "")
                    for b in variation.get("buttons") or []
                    if isinstance(b, dict)
                ]
                line = variation.get("__lines__", {}).get("text", 1)
                text = "\n".join([variation["text"], *(t for t in titles if isinstance(t, str))])
                where = path.name if path == domain_path else f"{domain_path.name}/{path.name}"
                found.append((where, name, line, text))
    return found


def _source_variation(variations: list[dict[str, Any]]) -> dict[str, Any]:
    """The unconditional variation (the English source) of a domain response."""
    for variation in variations:
        if not variation.get("condition"):
            return variation
    return variations[0]


def needs_translation(variation: dict[str, Any]) -> bool:
    """Whether a response has words to translate ("📞 {phone}" and "{card}" have none)."""
    text = _PLACEHOLDER.sub("", variation.get("text", ""))
    return any(ch.isalpha() for ch in text) or bool(variation.get("buttons"))


def missing(
    directory: Path = LOCALES_DIR,
    domain_path: Path = DOMAIN_FILE,
    languages: tuple[str, ...] = TIER1,
) -> dict[str, list[str]]:
    """Language → names of the responses with words that it does not translate yet."""
    catalogue, _ = load(directory)
    responses = [
        name
        for name, variations in _domain_responses(domain_path).items()
        if name.startswith("utter_") and needs_translation(_source_variation(variations))
    ]
    return {
        language: [name for name in responses if catalogue.get(language, name) is None]
        for language in languages
        if language != SOURCE_LANGUAGE
    }


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The shipped catalogue, read once per process."""
    catalogue, problems = load()
    if problems:
        raise ValueError("invalid message catalogue:\n" + "\n".join(problems))
    return catalogue


@lru_cache(maxsize=1)
def _default_variations() -> dict[str, dict[str, Any]]:
    return {
        name: _source_variation(variations)
        for name, variations in _domain_responses(DOMAIN_FILE).items()
    }


def render_with_buttons(
    response: str, language: str | None, /, **values: Any
) -> tuple[str, list[dict[str, str]]]:
    """Like :func:`render`, with the response's buttons (titles translated, payloads kept).

    For messages sent outside a dialogue turn (the mediator handoff), which do not go through
    :class:`bot.nlg.CatalogueNLG`.
    """
    translation = default_catalogue().get(language, response)
    buttons = [dict(b) for b in _default_variations()[response].get("buttons") or []]
    for button, title in zip(buttons, translation.buttons if translation else (), strict=False):
        button["title"] = title
    return render(response, language, **values), buttons


@lru_cache(maxsize=1)
def _default_sources() -> dict[str, str]:
    return {
        name: _source_variation(variations).get("text", "")
        for name, variations in _domain_responses(DOMAIN_FILE).items()
    }


def response_names() -> list[str]:
    """Names of every response in the shipped domain."""
    return sorted(_default_sources())


class _KeepMissing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, values: Mapping[str, Any]) -> str:
    """``template`` with its ``{placeholders}`` filled; one without a value stays as written.

    Public for every catalogue of texts (the mediators' too, ``handoff.texts``): a missing
    value shows as ``{name}`` in the message instead of failing the whole reply.
    """
    return template.format_map(_KeepMissing(values))


def render(response: str, language: str | None, /, **values: Any) -> str:
    """Text of ``response`` in ``language`` (English source if untranslated), filled.

    For the lines that actions join into one message; whole messages go through Rasa and
    :class:`bot.nlg.CatalogueNLG`, which applies the same translation.
    """
    translation = default_catalogue().get(language, response)
    template = translation.text if translation else _default_sources()[response]
    return fill(template, values)
