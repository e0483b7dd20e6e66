"""Dates, times and durations written the way each language writes them (Babel's CLDR data).

The actions (opening hours: "opens Thu, Nov 26 14:30") and the handoff ("a mediator answers
from Mon 9:00", "about 15 minutes") both write moments for people, in every language the
assistant speaks; neither translates a weekday or a date by hand. This lives on the ground floor
so both can use it without one borrowing from the other. A language Babel does not know (a
code such as "pcm") is written as English.
"""

from __future__ import annotations

import datetime as dt

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton, format_time, format_timedelta

FALLBACK_LOCALE = "en"


def babel_locale(language: str) -> str:
    """The Babel locale for a language code: the code itself, or English if Babel lacks it."""
    try:
        Locale.parse(language)
        return language
    except (UnknownLocaleError, ValueError):
        return FALLBACK_LOCALE


def when(moment: dt.datetime, language: str) -> str:
    """Weekday, date and time in the language's own order: "Thu, Nov 26 14:30"."""
    locale = babel_locale(language)
    day = format_skeleton("MMMMEEEEd", moment, locale=locale)
    return f"{day} {format_time(moment, 'HH:mm', locale=locale)}"


def clock(moment: dt.datetime, language: str) -> str:
    """A time of day, e.g. "12:30"."""
    return format_time(moment, "HH:mm", locale=babel_locale(language))


def duration(seconds: float, language: str) -> str:
    """A rough length of time, e.g. "15 minutes", "2 hours" (never negative)."""
    return format_timedelta(
        dt.timedelta(seconds=max(0.0, seconds)), threshold=1.5, locale=babel_locale(language)
    )
