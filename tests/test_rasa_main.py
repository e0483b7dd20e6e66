"""The action-response check compiled once accepts and rejects exactly what Rasa's does."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.rasa_main import fast_action_validation


@pytest.fixture(scope="module")
def action() -> RemoteAction:
    fast_action_validation()
    return RemoteAction("action_answer_service", None)


def test_valid_response_passes(action: RemoteAction) -> None:
    response = {
        "events": [{"event": "slot", "name": "city", "value": "Nardò"}],
        "responses": [{"response": "utter_answer_card", "card": "🏢 Questura"}],
    }
    assert action._validate_action_result(response) is True


def test_invalid_response_raises_rasas_own_error(action: RemoteAction) -> None:
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": "not a list"})


def test_a_valid_response_no_longer_goes_through_jsonschema_validate(
    action: RemoteAction, monkeypatch: pytest.MonkeyPatch
) -> None:
    # jsonschema.validate re-checks the schema itself on every call (~25 ms here).
    import jsonschema

    def recheck(*args: object, **kwargs: object) -> None:
        raise AssertionError("jsonschema.validate called for a valid response")

    monkeypatch.setattr(jsonschema, "validate", recheck)
    assert action._validate_action_result({"events": [], "responses": []}) is True
