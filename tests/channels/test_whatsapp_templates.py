"""How a card or reminder goes to a WhatsApp mediator (``channels/whatsapp_templates.py``)."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from bot.settings import get_settings
from channels import whatsapp_templates as templates

CARD_SID = "HX" + "c" * 32
ITALIAN_CARD = "HX" + "1" * 32
REMINDER_SID = "HX" + "r" * 32


@pytest.fixture
def settings():
    return dataclasses.replace(
        get_settings(), twilio_card_template_sid=CARD_SID, twilio_reminder_template_sid=REMINDER_SID
    )


def test_inside_the_window_a_card_is_plain_text(settings):
    wrote = time.time() - 23 * 3600
    plan = templates.plan(
        templates.CARD,
        "Ticket #4",
        {"1": "#4"},
        last_inbound_at=wrote,
        language="it",
        settings=settings,
    )
    assert plan.mode == templates.TEXT
    assert plan.form("https://x.example/status") == [
        ("Body", "Ticket #4"),
        ("StatusCallback", "https://x.example/status"),
    ]


@pytest.mark.parametrize("wrote", [None, 25 * 3600])
def test_outside_the_window_it_is_the_template_without_a_body(settings, wrote):
    variables = templates.reminder_variables("#4", "ar", "12 min")
    plan = templates.plan(
        templates.REMINDER,
        "⏰ Ticket #4",
        variables,
        last_inbound_at=None if wrote is None else time.time() - wrote,
        language="it",
        settings=settings,
    )
    fields = dict(plan.form())
    assert plan.mode == templates.TEMPLATE and "Body" not in fields
    assert fields["ContentSid"] == REMINDER_SID
    assert json.loads(fields["ContentVariables"]) == {"1": "#4", "2": "ar", "3": "12 min"}


def test_without_a_template_the_card_is_undeliverable_not_sent(settings):
    none = dataclasses.replace(settings, twilio_card_template_sid=None)
    plan = templates.plan(
        templates.CARD, "Ticket #4", {}, last_inbound_at=None, language="it", settings=none
    )
    assert plan.mode == templates.UNDELIVERABLE
    with pytest.raises(ValueError):
        plan.form()


def test_a_template_per_mediator_language(settings):
    per_language = f"it:{ITALIAN_CARD},{CARD_SID}"
    assert templates.template_sid(per_language, "it") == ITALIAN_CARD
    assert templates.template_sid(per_language, "fr") == CARD_SID
    assert templates.template_sid(f"it:{ITALIAN_CARD}", "fr") is None
    assert templates.template_sid(CARD_SID, "uk") == CARD_SID


def test_variables_are_what_whatsapp_accepts():
    values = templates.card_variables(
        "#4", "ar (last message it)", "asked\nfor a\tmediator", "", "San     Pietro Vernotico"
    )
    assert values == {
        "1": "#4",
        "2": "ar (last message it)",
        "3": "asked for a mediator",
        "4": "—",
        "5": "San Pietro Vernotico",
    }
    assert len(templates.variable("x" * 500)) == templates.VARIABLE_LIMIT
