"""Compose the messages of an answer from catalogue lines, in the person's language.

Only facts that are known become lines: an empty phone number is left out. When the address is
unknown the next best real contact follows (switchboard, PEC, e-mail, website); "not confirmed"
is said only when nothing at all is known. A contact a public register gave is labelled as the
administration's main seat when it is, and the register is named. Dates, weekdays and numbers
are written by Babel's CLDR data for the language (dates and times by ``bot.i18n``), so none is
translated by hand. Long lists are split into several messages, never cut.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal

from bot.i18n import babel_locale, clock, when
from bot.kb.hours import Opening, WeeklySlot
from bot.kb.queries import EmergencyNumber, FaqAnswer, Office, Procedure
from bot.messages import render

# A message longer than this is split between list items (WhatsApp's own limit is 1600).
MESSAGE_LIMIT = 900


def weekly_lines(slots: Iterable[WeeklySlot], language: str) -> list[str]:
    """Weekly hours grouped by identical times: "Mon, Wed: 08:30–12:30"."""
    days = Locale.parse(babel_locale(language)).days["format"]["abbreviated"]
    groups: dict[tuple[dt.time, dt.time, bool], list[int]] = {}
    for slot in slots:
        groups.setdefault((slot.opens, slot.closes, slot.appointment_only), []).append(slot.weekday)
    lines = []
    for (opens, closes, appointment_only), weekdays in sorted(
        groups.items(), key=lambda item: (min(item[1]), item[0][0])
    ):
        name = (
            "utter_answer_line_appointment_only"
            if appointment_only
            else "utter_answer_line_hours_slot"
        )
        lines.append(
            render(
                name,
                language,
                days=", ".join(days[d] for d in sorted(weekdays)),
                hours=f"{opens:%H:%M}–{closes:%H:%M}",
            )
        )
    return lines


def opening_lines(opening: Opening, language: str, with_week: bool = False) -> list[str]:
    """Open now or when it opens next; the weekly hours too when asked about hours."""
    if opening.open_now is None:
        return [render("utter_answer_line_hours_unknown", language)]
    lines = []
    if opening.open_now and opening.closes_at:
        name = (
            "utter_answer_line_open_now_appointment"
            if opening.appointment_only_now
            else "utter_answer_line_open_now"
        )
        lines.append(render(name, language, closes_at=clock(opening.closes_at, language)))
    elif opening.next_opening:
        if opening.closed_today and opening.closed_today.name:
            lines.append(
                render("utter_answer_line_closed_today", language, reason=opening.closed_today.name)
            )
        name = (
            "utter_answer_line_closed_next_appointment"
            if opening.next_opening_appointment_only
            else "utter_answer_line_closed_next"
        )
        lines.append(render(name, language, next_opening=when(opening.next_opening, language)))
    if with_week:
        lines.extend(weekly_lines(opening.slots, language))
    return lines


# Ways to reach an office without its address, best first (the order the lines are shown).
CONTACT_FIELDS = ("phone", "pec", "email", "website", "booking_url")


def distance_text(km: float, language: str) -> str:
    """A distance as people say it: "12" beyond 10 km, "4.5" below, in the language's digits."""
    value = round(km) if km >= 10 else round(km, 1)
    return format_decimal(value, locale=babel_locale(language))


def office_lines(
    office: Office,
    language: str,
    location_only: bool = False,
    notes: str | None = None,
    near: str | None = None,
) -> list[str]:
    """Name, distance, address, map; contacts, booking and notes unless only the location was asked.

    ``near``: the person's comune, for the distance line of an office chosen as the nearest.
    Without an address the contacts are shown even for a location question: they are how to
    find out where to go. The register line names the public registers of the fields shown.
    """
    lines = [render("utter_answer_line_office", language, name=office.name)]
    if office.distance_km and near:
        lines.append(
            render(
                "utter_answer_line_distance",
                language,
                distance=distance_text(office.distance_km, language),
                city=near,
            )
        )
    shown: list[str] = []
    reachable = any(getattr(office, name) for name in CONTACT_FIELDS)
    if office.address:
        line = (
            "utter_answer_line_address_seat"
            if office.is_seat("address")
            else "utter_answer_line_address"
        )
        lines.append(render(line, language, address=office.address))
        shown.append("address")
        if office.map_url:
            lines.append(render("utter_answer_line_map", language, map_url=office.map_url))
    elif reachable:
        lines.append(render("utter_answer_line_contact_first", language))
    else:
        lines.append(render("utter_answer_line_address_unknown", language))
    if not (location_only and office.address):
        for field_name in CONTACT_FIELDS:
            value = getattr(office, field_name)
            if not value:
                continue
            line = f"utter_answer_line_{field_name.removesuffix('_url')}"
            if field_name == "phone" and office.is_seat("phone"):
                line = "utter_answer_line_phone_switchboard"
            lines.append(render(line, language, **{field_name: value}))
            shown.append(field_name)
    if notes and not location_only:
        lines.append(render("utter_answer_line_notes", language, notes=notes))
    return lines + register_lines(office, shown, language)


def register_lines(office: Office, fields: Iterable[str], language: str) -> list[str]:
    """Which public registers the shown fields come from, with their dates (one line)."""
    names: list[str] = []
    for field_name in fields:
        found = office.source_of(field_name)
        if found is not None:
            name = f"{found.register} ({found.date_label})" if found.date_label else found.register
            if name not in names:
                names.append(name)
    if not names:
        return []
    return [render("utter_answer_line_register", language, register="; ".join(names))]


def number_line(number: EmergencyNumber) -> str:
    """One emergency number with what it is for, in one line."""
    return f"🚨 {number.number} — {number.label}" + (f": {number.when}" if number.when else "")


def provenance_lines(
    checked: dt.date | None, source: str | None, verified: bool, language: str
) -> list[str]:
    """When and where the facts were checked, and a warning when they are not verified."""
    lines = []
    if checked:
        lines.append(
            render(
                "utter_answer_line_checked",
                language,
                checked=format_date(checked, "medium", locale=babel_locale(language)),
                source=source or "—",
            )
        )
    if not verified:
        lines.append(render("utter_answer_line_unverified", language))
    return lines


def _language_name(code: str, language: str) -> str:
    """The name of language ``code`` written in ``language`` (CLDR), e.g. "English"."""
    return Locale.parse(babel_locale(code)).get_display_name(babel_locale(language)) or code


def fallback_line(text: Procedure | FaqAnswer, language: str) -> list[str]:
    """The one-line note when a whole text is shown in another language than the person's.

    A procedure whose title and summary are in the person's language gets
    :func:`checklist_fallback_line` before its checklist instead.
    """
    fell_back = text.title_fell_back if isinstance(text, Procedure) else text.fell_back
    if not fell_back:
        return []
    return [
        render(
            "utter_answer_line_language_fallback",
            language,
            fallback_language=_language_name(text.language, language),
        )
    ]


def checklist_fallback_line(procedure: Procedure, language: str) -> list[str]:
    """The note that the documents and steps are in another language, with a mediator's offer.

    Said before the checklist, so a Tier-2 reader who just read the title and summary in their
    own language knows why the list that follows is in English or French.
    """
    if not procedure.fell_back:
        return []
    return [
        render(
            "utter_answer_line_checklist_fallback",
            language,
            fallback_language=_language_name(procedure.language, language),
        )
    ]


def list_messages(header: str, items: Iterable[str], numbered: bool) -> list[str]:
    """A header and its items as one message, or several when too long for a phone."""
    messages: list[str] = []
    current = header
    for index, item in enumerate(items, start=1):
        line = f"{index}. {item}" if numbered else f"• {item}"
        if len(current) + 1 + len(line) > MESSAGE_LIMIT and current:
            messages.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        messages.append(current)
    return messages
