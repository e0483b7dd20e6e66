"""When a person is handed to a human mediator: the escalation policy, in one place.

The brief gives three ways in (``DESIGN.md``, "The handoff"): the person asks, the bot fails
twice, or an emergency is reported. Each has a *reason*, and the reason sets the ticket's
*priority* (which ticket mediators see first). The actions decide when to open a ticket
(``actions/conversation.py``, ``actions/handoff.py``), the hand-off ranks and re-alerts
(``handoff/service.py``, ``handoff/gate.py``), and the safety layer decides what counts as danger
(``bot/nlu/safety.py``); all of them read the rules and thresholds below, and none keeps its own.

This module lives on the ground floor because its callers (actions, handoff, the NLU safety
layer) share no higher one. It holds only values and pure functions: no tickets, no transport.

What is *not* here, because an operator tunes it per deployment: how often an unclaimed ticket
is announced again and the wait announced before there is a history of claims
(``HANDOFF_REMINDER_MINUTES``, ``HANDOFF_DEFAULT_WAIT_MINUTES`` in ``bot/settings.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# --- why a ticket opens ---------------------------------------------------------------------

REASON_REQUEST = "request"  # the person asked for a mediator
REASON_FALLBACK = "fallback"  # the bot did not understand, FAILED_TURNS_BEFORE_MEDIATOR times
REASON_EMERGENCY = "emergency"  # a danger to life or health, violence, exploitation
REASONS = (REASON_REQUEST, REASON_FALLBACK, REASON_EMERGENCY)

# Priorities, higher first: the order of tickets on cards, the desk and ``bot handoff tickets``.
# An emergency goes before everyone; someone the bot failed goes before someone who asked,
# because they have already spent two turns without an answer.
PRIORITY_NORMAL = 0
PRIORITY_FALLBACK = 1
PRIORITY_EMERGENCY = 2
PRIORITIES: Mapping[str, int] = {
    REASON_REQUEST: PRIORITY_NORMAL,
    REASON_FALLBACK: PRIORITY_FALLBACK,
    REASON_EMERGENCY: PRIORITY_EMERGENCY,
}

# --- the bot fails --------------------------------------------------------------------------

# Consecutive messages the assistant did not understand (the ``failed_turns`` slot) before a
# mediator is called. The first failure asks to rephrase, with likely topics as buttons: short,
# misspelled messages often succeed on a second try. A second failure in a row means rephrasing
# is not working, and the brief says a person is never left at a dead end ("the bot fails
# twice" opens a ticket). Below this count, curated questions close to the message are offered
# instead of a bare "rephrase".
FAILED_TURNS_BEFORE_MEDIATOR = 2

# --- emergencies ----------------------------------------------------------------------------

# What counts as danger without any word list matching (``bot/nlu/safety.py``): DIET's
# ``report_emergency`` confidence, and the separate danger model's probability (set for recall:
# a missed danger costs more than a needless card). ``bot eval safety`` measures them.
DANGER_CLASSIFIER_CONFIDENCE = 0.5
DANGER_MODEL_PROBABILITY = 0.5
# DIET alone is not enough when the danger model all but rules danger out (probability below
# this). DIET, trained on 2,040 emergency examples against about 300 per other intent, reads
# report_emergency into ordinary questions; on the development halves
# (scripts/safety_rule_experiment.py, 2026-12-08) asking the danger model for at least 0.2 as
# well lost no danger message and removed some false alarms.
DANGER_MODEL_SUPPORT = 0.2

# A message written *during* a hand-off is read by NLU alone (no dialogue turn); from this
# ``report_emergency`` confidence the ticket is raised to PRIORITY_EMERGENCY, the emergency
# numbers go to the person and the mediator (or the cards) is alerted again. Stricter than the
# thresholds above: a mediator is already talking with the person and can call for help, and
# this check reads the parsed intent and its confidence alone, not the safety layer's verdict.
EMERGENCY_IN_HANDOFF_CONFIDENCE = 0.6

# --- where a hand-off is possible -----------------------------------------------------------

# Channels whose people can be written to outside a turn (the relay sends the mediator's replies
# later). On any other (the bare REST API), the person is told honestly that no mediator can be
# reached from there, and no ticket opens.
RELAYABLE_CHANNELS = ("whatsapp", "telegram", "webchat")


def fallback_calls_mediator(failed_turns: float | None) -> bool:
    """Whether this many consecutive misunderstood messages call a mediator."""
    return float(failed_turns or 0) >= FAILED_TURNS_BEFORE_MEDIATOR


def can_hand_over(channel: str | None) -> bool:
    """Whether a person on ``channel`` can be handed to a mediator at all."""
    return channel in RELAYABLE_CHANNELS


def emergency_opens_ticket(safety: Mapping[str, Any] | None) -> bool:
    """Whether a reported emergency opens a priority ticket, from the parse's ``safety`` field.

    Only when the safety layer is sure (a word list matched, or both classifiers agree). One
    classifier alone still sends the emergency numbers first, but offers a mediator as a button
    instead of calling one away from someone else: on 2026-12-07 one classifier alone caught
    real dangers the other missed, but also read ordinary stories as danger ("the landlord is
    sending me away, I need a house urgently"; ``bot/nlu/safety.py``).
    """
    return bool((safety or {}).get("sure", True))


def emergency_in_handoff(intent: str | None, confidence: float) -> bool:
    """Whether a message written during a hand-off raises its ticket to an emergency."""
    return intent == "report_emergency" and confidence >= EMERGENCY_IN_HANDOFF_CONFIDENCE
