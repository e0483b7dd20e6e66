"""The action-response check compiled once accepts and rejects exactly what Rasa's does."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from app.rasa_main import fast_action_validation


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


def test_closed_api_takes_the_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import rasa.core.run
    import rasa.shared.utils.common

    from app import rasa_main

    calls: list[dict] = []

    def serve_application(
        model_path=None,
        channel=None,
        interface="0.0.0.0",
        port=5005,
        credentials=None,
        cors=None,
        auth_token=None,
        enable_api=True,
    ):
        calls.append({"interface": interface, "auth_token": auth_token})

    monkeypatch.setattr(rasa.core.run, "serve_application", serve_application)
    rasa_main.closed_api()
    wrapped = rasa.core.run.serve_application
    # rasa.api.run filters its arguments by the signature: it must still be Rasa's.
    assert rasa.shared.utils.common.arguments_of(wrapped)[:3] == [
        "model_path",
        "channel",
        "interface",
    ]

    monkeypatch.setenv("RASA_AUTH_TOKEN", "from-env")
    wrapped("m", interface="127.0.0.1")
    assert calls[-1] == {"interface": "127.0.0.1", "auth_token": "from-env"}
    wrapped("m", interface="0.0.0.0")  # exposed, with a token: allowed
    assert calls[-1]["auth_token"] == "from-env"

    monkeypatch.delenv("RASA_AUTH_TOKEN")
    count = len(calls)
    with pytest.raises(SystemExit) as stopped:
        wrapped("m", interface="0.0.0.0")
    assert stopped.value.code == 2 and len(calls) == count
    with pytest.raises(SystemExit):
        wrapped("m")  # Rasa's default interface is every interface


async def test_nlu_runs_off_the_event_loop_on_bounded_text(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    import sys
    import threading

    from rasa.core.channels.channel import UserMessage
    from rasa.core.processor import MessageProcessor

    from app import rasa_main

    seen: dict = {}

    def graph(self, message, tracker, only_output_properties=True):
        seen["thread"] = threading.current_thread().name
        seen["text"] = message.text
        return {
            "text": message.text,
            "intent": {"name": "greet", "confidence": 1.0},
            "entities": [],
        }

    monkeypatch.setattr(MessageProcessor, "parse_message", MessageProcessor.parse_message)
    monkeypatch.setattr(MessageProcessor, "_parse_message_with_graph", graph)
    monkeypatch.setattr(MessageProcessor, "_check_for_unseen_features", lambda self, data: None)
    switch = sys.getswitchinterval()
    try:
        rasa_main.nlu_off_event_loop(max_chars=10)
        assert sys.getswitchinterval() == rasa_main.GIL_SWITCH_SECONDS
    finally:
        sys.setswitchinterval(switch)

    processor = MessageProcessor.__new__(MessageProcessor)
    processor.http_interpreter = None
    message = UserMessage("x" * 25, sender_id="someone")
    parsed = await processor.parse_message(message)
    assert seen["thread"].startswith("nlu") and seen["thread"] != threading.current_thread().name
    assert seen["text"] == "x" * 10 and parsed["intent"]["name"] == "greet"
    assert message.text == "x" * 25  # the conversation keeps the whole message
    assert asyncio.get_running_loop().is_running()
