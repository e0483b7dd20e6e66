"""A retried turn Rasa had already finished is not run again: what Rasa recorded is resent."""

from __future__ import annotations

from types import SimpleNamespace

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from channels.turns import hand_to_rasa, recorded_replies


class Store:
    def __init__(self, events):
        self.events = events

    async def retrieve_full_tracker(self, sender_id):
        return DialogueStateTracker.from_events(sender_id, self.events)


def app_with(events):
    agent = SimpleNamespace(tracker_store=Store(events), is_ready=lambda: True)
    return SimpleNamespace(ctx=SimpleNamespace(agent=agent))


EVENTS = [
    UserUttered("ciao", message_id="SM1"),
    BotUttered("one"),
    BotUttered("two", data={"buttons": [{"title": "Bari", "payload": "/inform"}]}),
    UserUttered("grazie", message_id="SM2"),
    BotUttered("three"),
]


async def test_the_replies_recorded_after_the_message_are_found():
    app = app_with(EVENTS)
    assert [r["text"] for r in await recorded_replies(app, "wa-x", "SM1")] == ["one", "two"]
    assert [r["text"] for r in await recorded_replies(app, "wa-x", "SM2")] == ["three"]
    assert await recorded_replies(app, "wa-x", "SM3") is None  # never saved: run it


async def test_a_retry_resends_what_rasa_recorded_instead_of_running_it_again():
    ran = []

    async def on_new_message(message):
        ran.append(message)

    out = CollectingOutputChannel()
    await hand_to_rasa(
        app_with(EVENTS),
        UserMessage("ciao", out, "wa-x", message_id="SM1"),
        on_new_message,
        retried=True,
    )
    assert ran == []
    assert [m["text"] for m in out.messages] == ["one", "two"]
    assert out.messages[1]["buttons"] == [{"title": "Bari", "payload": "/inform"}]

    await hand_to_rasa(
        app_with(EVENTS),
        UserMessage("ciao", out, "wa-x", message_id="SM9"),
        on_new_message,
        retried=True,
    )
    await hand_to_rasa(
        app_with(EVENTS),
        UserMessage("ciao", out, "wa-x", message_id="SM1"),
        on_new_message,
        retried=False,
    )  # a first try never looks
    assert [m.message_id for m in ran] == ["SM9", "SM1"]
