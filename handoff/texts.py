"""What mediators read, from ``locales/mediators/<lang>.yml`` (English source, Italian beside).

People's messages are domain responses translated in ``locales/<lang>.yml`` (see
``bot.messages``); mediators are staff who registered with one working language, so their
catalogue is separate and small. Same file format, same validation (placeholders must match the
source).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from bot.messages import LOCALES_DIR, Catalogue, fill, load, placeholders

MEDIATOR_LOCALES = LOCALES_DIR / "mediators"
SOURCE = "en"


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The mediators' catalogue; raises ``ValueError`` on any problem (see :func:`validate`)."""
    problems = validate()
    if problems:
        raise ValueError("invalid mediator catalogue:\n" + "\n".join(problems))
    return load(MEDIATOR_LOCALES)[0]


def validate() -> list[str]:
    """``file: key: problem`` for every translation that does not match the English source."""
    loaded, problems = load(MEDIATOR_LOCALES)
    source = loaded.messages.get(SOURCE, {})
    if not source:
        return [*problems, f"locales/mediators/{SOURCE}.yml: the English source is missing"]
    for language, entries in sorted(loaded.messages.items()):
        for key, translation in entries.items():
            where = f"locales/mediators/{language}.yml:{loaded.lines[language].get(key, 1)}"
            if key not in source:
                problems.append(f"{where}: {key}: not in the English source")
            elif placeholders(translation.text) != placeholders(source[key].text):
                problems.append(f"{where}: {key}: placeholders differ from the English source")
    return problems


def mediator_text(key: str, language: str | None, /, **values: Any) -> str:
    """The text ``key`` in the mediator's language (English if untranslated), filled in."""
    messages = catalogue().messages
    entry = messages.get(language or SOURCE, {}).get(key) or messages[SOURCE][key]
    return fill(entry.text, values)
