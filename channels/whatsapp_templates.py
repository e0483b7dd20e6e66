"""Ticket cards and reminders for WhatsApp mediators: text in their 24-hour window, else a template.

WhatsApp lets a business write freely to a number only within 24 hours of that number's last
message; outside the window Twilio accepts a free-form message and then fails it with error
63016 (see ``channels.twilio_status``). A mediator who has not written to the business number
since yesterday would silently miss every card. So each card or reminder is planned here:

- the mediator wrote less than 24 hours ago (``handoff.delivery`` keeps when): the usual text;
- otherwise the approved template for it, by Content SID (``ContentSid`` and a JSON
  ``ContentVariables``, as twilio 8.2's ``Messages.create(content_sid=, content_variables=)``
  sends them; no ``Body``, which Twilio refuses beside a template outside the window);
- otherwise, with no template configured, ``undeliverable``. The outbound port
  (``channels.outbound``) sends the text anyway: the record of the window may be older than the
  mediator's last message, and if it was closed Twilio's 63016 status callback is written on
  the ticket and told (``handoff.relay``).

Templates (approved in the Twilio console, WhatsApp category "utility"), with their variables:

- ``TWILIO_CARD_TEMPLATE_SID``, a new ticket: {{1}} ticket number ("#42"), {{2}} language,
  {{3}} reason, {{4}} topic, {{5}} town;
- ``TWILIO_REMINDER_TEMPLATE_SID``, a ticket still waiting: {{1}} ticket number, {{2}}
  language, {{3}} how long it has waited.

Either setting is one SID for everyone or ``it:HX…,en:HX…`` per mediator language (a bare SID
in the list is the fallback). Meta refuses variables with line breaks, tabs or more than four
spaces in a row, and empty ones: values are flattened and never empty.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.settings import Settings

CARD = "card"
REMINDER = "reminder"
TEXT, TEMPLATE, UNDELIVERABLE = "text", "template", "undeliverable"
WINDOW_SECONDS = 24 * 3600
VARIABLE_LIMIT = 200  # characters of one variable (a card's line, not its transcript)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Plan:
    """How one card or reminder goes to one WhatsApp mediator."""

    mode: str  # text | template | undeliverable
    body: str | None = None
    content_sid: str | None = None
    variables: dict[str, str] = field(default_factory=dict)

    def form(self, status_callback: str | None = None) -> list[tuple[str, str]]:
        """The Messages API fields besides ``To`` and ``From``."""
        if self.mode == UNDELIVERABLE:
            raise ValueError("an undeliverable plan has nothing to send")
        fields: list[tuple[str, str]] = []
        if self.mode == TEMPLATE:
            assert self.content_sid
            fields.append(("ContentSid", self.content_sid))
            if self.variables:
                fields.append(("ContentVariables", json.dumps(self.variables, ensure_ascii=False)))
        else:
            fields.append(("Body", self.body or ""))
        if status_callback:
            fields.append(("StatusCallback", status_callback))
        return fields


def window_open(last_inbound_at: float | None, now: float | None = None) -> bool:
    """Whether the mediator wrote to the business number within the last 24 hours."""
    if last_inbound_at is None:
        return False
    return (time.time() if now is None else now) - last_inbound_at < WINDOW_SECONDS


def template_sid(configured: str | None, language: str | None) -> str | None:
    """The Content SID for a mediator language from ``HX…`` or ``it:HX…,en:HX…``."""
    if not configured:
        return None
    fallback = None
    for entry in configured.split(","):
        entry = entry.strip()
        if not entry:
            continue
        lang, sep, sid = entry.partition(":")
        if not sep:
            fallback = fallback or entry
        elif lang.strip() == language:
            return sid.strip()
    return fallback


def variable(value: object, empty: str = "—") -> str:
    """A value WhatsApp accepts in a template: one line, no long runs of spaces, not empty."""
    text = _SPACES.sub(" ", str(value if value is not None else "")).strip()
    return text[:VARIABLE_LIMIT] or empty


def card_variables(
    ticket: str, language: str, reason: str, topic: str | None, town: str | None, empty: str = "—"
) -> dict[str, str]:
    """Variables of the card template ({{1}}…{{5}}); ``empty`` stands for what is unknown."""
    values = (ticket, language, reason, topic, town)
    return {str(i): variable(v, empty) for i, v in enumerate(values, 1)}


def reminder_variables(
    ticket: str, language: str, waiting: str, empty: str = "—"
) -> dict[str, str]:
    """Variables of the reminder template ({{1}}…{{3}})."""
    return {str(i): variable(v, empty) for i, v in enumerate((ticket, language, waiting), 1)}


def plan(
    kind: str,
    text: str,
    variables: Mapping[str, str],
    *,
    last_inbound_at: float | None,
    language: str | None,
    settings: Settings,
    now: float | None = None,
) -> Plan:
    """Plan a ``card`` or ``reminder`` for a mediator who last wrote at ``last_inbound_at``."""
    if window_open(last_inbound_at, now):
        return Plan(TEXT, body=text)
    configured = {
        CARD: settings.twilio_card_template_sid,
        REMINDER: settings.twilio_reminder_template_sid,
    }[kind]
    sid = template_sid(configured, language)
    if sid is None:
        return Plan(UNDELIVERABLE)
    return Plan(TEMPLATE, content_sid=sid, variables=dict(variables))
