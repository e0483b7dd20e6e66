"""The ticket action_request_mediator opens takes the conversation's language.

The events are what Rasa sends the action server: each person's message, then the ``language``
slot as action_set_language left it (bot/nlu/language.py reads the message, actions/language.py
decides whether the conversation switches).
"""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionRequestMediator, ticket_languages
from handoff.db import migrate
from handoff.service import Handoff
from handoff.store import HandoffStore
from tests.actions.conftest import web_conversation
from tests.handoff.helpers import settings_for


def conversation(*turns: tuple[str, str, str, str | None]) -> Tracker:
    """A web chat conversation of (text, detected code, source, slot after the message)."""
    replied = ((text, code, source, after, f"({after})") for text, code, source, after in turns)
    return web_conversation("web-person", *replied)


ARABIC = [
    ("مرحبا، أحتاج مساعدة في تصريح الإقامة", "ar", "script", "ar"),
    ("أين مكتب الهجرة في ليتشي؟", "ar", "script", "ar"),
]


def test_one_italian_sentence_does_not_make_an_arabic_conversation_italian() -> None:
    tracker = conversation(*ARABIC, ("Voglio parlare con un mediatore", "it", "fasttext", "it"))
    assert ticket_languages(tracker) == ("ar", "it")


def test_an_explicit_request_for_a_language_is_the_conversation_language() -> None:
    tracker = conversation(*ARABIC, ("parla italiano", "it", "explicit", "it"))
    assert ticket_languages(tracker) == ("it", "it")


def test_a_conversation_that_went_on_in_italian_is_italian() -> None:
    tracker = conversation(
        *ARABIC[:1],
        ("Ho bisogno di aiuto", "it", "fasttext", "it"),
        ("Il permesso è scaduto", "it", "fasttext", "it"),
        ("Voglio parlare con un mediatore", "it", "fasttext", "it"),
    )
    assert ticket_languages(tracker) == ("it", "it")


def test_back_to_arabic_after_one_italian_message_is_arabic() -> None:
    tracker = conversation(
        *ARABIC,
        ("grazie mille per l'aiuto", "it", "fasttext", "it"),
        ("أريد التحدث مع وسيط", "ar", "script", "ar"),
    )
    assert ticket_languages(tracker) == ("ar", "ar")


def test_a_message_that_says_nothing_leaves_no_last_language() -> None:
    tracker = conversation(*ARABIC, ("ok", "it", "too_short", "ar"))
    assert ticket_languages(tracker) == ("ar", None)


@pytest.fixture
def handoff(tmp_path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'handoff.db'}"
    migrate(url).dispose()
    store = HandoffStore(url)
    yield Handoff(store, settings_for(url))
    store.dispose()


async def test_the_ticket_and_the_reply_are_in_the_conversation_language(
    handoff: Handoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ActionRequestMediator, "handoff", handoff)
    tracker = conversation(*ARABIC, ("Voglio parlare con un mediatore", "it", "fasttext", "it"))
    dispatcher = CollectingDispatcher()

    await ActionRequestMediator().run(dispatcher, tracker, {})

    (ticket,) = handoff.store.tickets.in_states()
    assert (ticket.language, ticket.last_language) == ("ar", "it")
    (reply,) = dispatcher.messages
    assert reply["response"] == "utter_handoff_opened" and reply["language"] == "ar"
