"""The escalation thresholds named in bot/escalation.py are the ones the dialogue obeys."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionHandleFallback
from bot import escalation
from bot.kb.queries import KnowledgeBase
from tests.actions.conftest import responses, tracker


@pytest.mark.parametrize("threshold", [2, 3])
async def test_the_fallback_calls_a_mediator_at_the_named_threshold(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch, threshold: int
) -> None:
    monkeypatch.setattr(escalation, "FAILED_TURNS_BEFORE_MEDIATOR", threshold)

    async def reply(failed_turns: int) -> list[str]:
        dispatcher = CollectingDispatcher()
        await ActionHandleFallback(kb).run(
            dispatcher,
            tracker("blah", "nlu_fallback", language="fr", failed_turns=failed_turns),
            {},
        )
        return responses(dispatcher)

    assert await reply(threshold - 1) == ["utter_fallback_rephrase"]
    assert await reply(threshold) == ["utter_fallback_offer_mediator"]


def test_an_emergency_goes_first_then_someone_the_bot_failed() -> None:
    priority = escalation.PRIORITIES
    assert set(priority) == set(escalation.REASONS)
    assert (
        priority[escalation.REASON_EMERGENCY]
        > priority[escalation.REASON_FALLBACK]
        > priority[escalation.REASON_REQUEST]
    )


def test_only_a_sure_danger_or_a_confident_intent_in_a_handoff_escalates() -> None:
    assert escalation.emergency_opens_ticket({"sure": True})
    assert not escalation.emergency_opens_ticket({"sure": False})
    at = escalation.EMERGENCY_IN_HANDOFF_CONFIDENCE
    assert escalation.emergency_in_handoff("report_emergency", at)
    assert not escalation.emergency_in_handoff("report_emergency", at - 0.01)
    assert not escalation.emergency_in_handoff("request_mediator", 1.0)
    assert escalation.can_hand_over("telegram") and not escalation.can_hand_over("rest")
