""" "Delete my data" reaches the bot during a hand-off (``handoff/gate.py``).

The gate asks Rasa's NLU what a message in a hand-off is; here a stand-in agent answers, with a
tracker whose last action is what the test says.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from handoff.gate import Runtime, intercept
from handoff.relay import Relay
from handoff.service import Handoff
from tests.handoff.helpers import settings_for

PERSON = "web-person"


class Agent:
    """Answers parse_message with a fixed intent; its tracker store holds ``events``."""

    def __init__(self, intent: str, events: list) -> None:
        self.intent = intent
        self.parsed: list[str] = []
        self.tracker_store = SimpleNamespace(retrieve=self._retrieve)
        self.events = events

    def is_ready(self) -> bool:
        return True

    async def parse_message(self, text: str) -> dict:
        self.parsed.append(text)
        return {"intent": {"name": self.intent, "confidence": 0.95}}

    async def _retrieve(self, sender_id: str) -> DialogueStateTracker:
        return DialogueStateTracker.from_events(sender_id, self.events)


def app_with(intent: str, last_action: str = "action_request_mediator") -> SimpleNamespace:
    events = [
        UserUttered("hi"),
        ActionExecuted(last_action),
        BotUttered("…"),
        ActionExecuted("action_listen"),
    ]
    return SimpleNamespace(ctx=SimpleNamespace(agent=Agent(intent, events)))


@pytest.fixture
def runtime(lite_store, sqlite_url):
    handoff = Handoff(lite_store, settings_for(sqlite_url))
    amina = lite_store.mediators.add("Amina", ["en"], telegram_user_id="111")
    ticket = handoff.request(PERSON, "webchat", "en").ticket
    handoff.claim(ticket.id, amina)
    return Runtime(handoff, Relay(handoff))


def _person_lines(runtime):
    ticket = runtime.handoff.store.tickets.open_for(PERSON)
    transcript = runtime.handoff.store.transcripts.messages(ticket.id)
    return [m.text for m in transcript if m.author == "person"]


async def test_delete_my_data_goes_to_the_bot_not_to_the_ticket(runtime):
    app = app_with("delete_my_data")
    assert await intercept(app, PERSON, "webchat", "delete my data", "k1", runtime=runtime) is False
    assert _person_lines(runtime) == []


async def test_the_answer_to_the_bot_s_question_goes_to_the_bot(runtime):
    app = app_with("affirm", last_action="utter_privacy_confirm_delete")
    assert await intercept(app, PERSON, "webchat", "yes", "k2", runtime=runtime) is False
    assert _person_lines(runtime) == []


async def test_anything_else_still_goes_to_the_mediator(runtime):
    app = app_with("affirm")
    assert await intercept(app, PERSON, "webchat", "yes please", "k3", runtime=runtime) is True
    assert _person_lines(runtime) == ["yes please"]
    await runtime.relay.stop()


async def test_out_of_a_hand_off_nlu_is_not_asked(lite_store, sqlite_url):
    handoff = Handoff(lite_store, settings_for(sqlite_url))
    app = app_with("delete_my_data")
    runtime = Runtime(handoff, Relay(handoff))
    assert await intercept(app, "web-other", "webchat", "hello", "k4", runtime=runtime) is False
    assert app.ctx.agent.parsed == []  # the bot parses it anyway, in its own turn
