"""The closed word lists of the assistant: services, office kinds, languages, weekdays.

Defined once, here: the knowledge files, the NLU (:mod:`bot.nlu.language` reads ``TIER1`` and
``TIER2``), the actions and the tests all read them from this module. It imports nothing, so the
action server and ``bot kb`` can use it without paying for Rasa.
"""

from __future__ import annotations

# The service intents of the taxonomy (DESIGN.md) without ``ask_``, plus ``emergency``.
SERVICES: tuple[str, ...] = (
    "residence_permit",
    "asylum",
    "family_reunification",
    "citizenship",
    "residence_registration",
    "tax_code",
    "health_care",
    "italian_course",
    "school_enrollment",
    "employment",
    "housing",
    "legal_aid",
    "emergency",
)

OFFICE_KINDS: tuple[str, ...] = (
    "questura",
    "prefettura",
    "anagrafe",
    "asl",
    "centro_impiego",
    "cpia",
    "agenzia_entrate",
    "commissione_territoriale",
    "foresteria",
    "patronato",
    "legal_aid",
    "other",
)

# Danger the safety layer recognises (bot/nlu/safety.py), in the order their help is given when
# one message holds several; ``danger`` is the classifier's verdict when no word list says which.
DANGER_CLASSES: tuple[str, ...] = (
    "medical",
    "self_harm",
    "violence",
    "minor",
    "exploitation",
    "fire_danger",
)
DANGER_GENERAL = "danger"

TIER1: tuple[str, ...] = ("it", "en", "fr", "ar", "es", "sq", "ro", "uk", "ru", "ur", "bn", "zh")
TIER2: tuple[str, ...] = ("pa", "hi", "fa", "ps")
LANGUAGES: tuple[str, ...] = TIER1 + TIER2

# Index = datetime.date.weekday().
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def fallback_chain(language: str) -> tuple[str, ...]:
    """Languages to try, in order, for a long text asked for in ``language``.

    Tier-2 readers are more likely to read English or French than Italian (DESIGN.md); anyone
    else falls back to English, then to Italian, which every text has.
    """
    rest = ("en", "fr", "it") if language in TIER2 else ("en", "it")
    return (language, *[code for code in rest if code != language])
