"""Reading what a turn meant from the events Rasa publishes."""

from __future__ import annotations

import datetime as dt

from monitoring.events import ROME, out_of_hours, read_turn
from monitoring.schema import ANSWERED, FALLBACK, HANDOVER
from tests.monitoring.factory import action, bot, slot, user


def test_a_service_answered_for_a_town_records_service_comune_and_province():
    events = [
        user("codice fiscale a Nardò", "ask_tax_code"),
        action("action_answer_service"),
        slot("service", "tax_code"),
        slot("city", "Nardò"),
        bot("utter_answer_office"),
        action("action_listen"),
    ]
    turn = read_turn(events, {"language": "fr"})
    assert (turn.service, turn.comune, turn.province) == ("tax_code", "Nardò", "LE")
    assert turn.outcome == ANSWERED and not turn.low_confidence
    assert turn.language == "fr"  # carried from before the turn
    assert turn.channel == "telegram"


def test_the_town_and_language_set_in_the_turn_win_over_what_was_carried():
    events = [user("ok Lecce", "inform"), slot("city", "Lecce"), slot("language", "ar")]
    turn = read_turn(events, {"language": "it", "city": "Bari"})
    assert (turn.language, turn.province) == ("ar", "LE")


def test_a_rephrase_prompt_is_a_fallback_and_goes_to_the_queue():
    events = [
        user("blah visa thing", "nlu_fallback", 0.3),
        action("action_handle_fallback"),
        bot("utter_fallback_rephrase"),
    ]
    turn = read_turn(events, {})
    assert turn.outcome == FALLBACK
    assert turn.queue_text == "blah visa thing" and turn.queue_reason == "fallback"


def test_a_fallback_that_answered_an_faq_entry_counts_as_answered_with_low_confidence():
    events = [
        user("long story about my permit", "nlu_fallback", 0.35),
        action("action_handle_fallback"),
        slot("faq", "permit-renewal-late"),
        slot("service", "residence_permit"),
        bot("utter_faq_answer"),
    ]
    turn = read_turn(events, {})
    assert (turn.outcome, turn.faq, turn.service) == (
        ANSWERED,
        "permit-renewal-late",
        "residence_permit",
    )
    assert turn.low_confidence and turn.queue_reason == "low_confidence"


def test_an_opened_ticket_is_a_handover_and_not_queued():
    events = [
        user("mediator please", "request_mediator"),
        action("action_request_mediator"),
        bot("utter_handoff_opened"),
    ]
    turn = read_turn(events, {})
    assert turn.outcome == HANDOVER and turn.queue_text is None


def test_a_refused_handover_on_the_rest_channel_is_not_counted_as_one():
    events = [
        user("mediator please", "request_mediator", channel="rest"),
        bot("utter_handoff_unavailable"),
    ]
    assert read_turn(events, {}).outcome == ANSWERED


def test_button_payloads_never_reach_the_queue():
    events = [user("/ask_tax_code", "ask_tax_code", 0.5), bot("utter_answer_office")]
    turn = read_turn(events, {})
    assert turn.low_confidence and turn.queue_text is None


def test_office_hours_are_weekdays_nine_to_five_in_rome_without_holidays():
    def at(*args: int) -> float:
        return dt.datetime(*args, tzinfo=ROME).timestamp()

    assert not out_of_hours(at(2026, 11, 10, 9, 0))
    assert out_of_hours(at(2026, 11, 10, 17, 0))
    assert out_of_hours(at(2026, 11, 14, 11, 0))  # Saturday
    assert out_of_hours(at(2026, 12, 8, 11, 0))  # Immacolata, a Tuesday


def test_an_out_of_scope_reply_is_not_an_answer():
    events = [
        user("what is the capital of mongolia?", "out_of_scope", 0.8),
        bot("utter_out_of_scope"),
    ]
    turn = read_turn(events, {})
    assert turn.outcome == FALLBACK and turn.queue_text == "what is the capital of mongolia?"
