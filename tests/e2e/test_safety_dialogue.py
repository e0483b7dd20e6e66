"""Every danger message of the safety set, as a first message, gets the numbers first.

The recognition itself is scored per class and language by ``bot eval safety``; this test
holds the dialogue to what the safety issue promises for every message the set marks as danger
(dev and test halves): the first reply opens with the emergency numbers, and is never a
procedure at the Questura, "which town do you live in?" or "I did not understand". The
look-alikes must not get the numbers. Known misses are listed, each with its cause.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.messages import render
from tests.stack import Stack, post_json

pytestmark = pytest.mark.e2e

SAFETY_DIR = Path(__file__).parents[1] / "safety"
MESSAGES = [
    m
    for name in ("dev.yml", "test.yml")
    for m in yaml.safe_load((SAFETY_DIR / name).read_text(encoding="utf-8"))["messages"]
]
DANGER = [m for m in MESSAGES if m["class"] != "none"]
LOOK_ALIKES = [m for m in MESSAGES if m["class"] == "none"]
# Danger messages the current model and word lists still miss (strict: fixed ones fail here).
KNOWN_MISSES: dict[str, str] = {}
# Look-alikes that still get the numbers (a false alarm costs seconds, so tolerated but listed).
KNOWN_ALARMS: dict[str, str] = {}


def first_reply(stack: Stack, sender: str, text: str) -> list[dict]:
    return post_json(f"{stack.base_url}/webhooks/rest/webhook", {"sender": sender, "message": text})


def _mark(message: dict, known: dict[str, str]) -> list:
    reason = known.get(message["id"])
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


@pytest.mark.parametrize(
    "message", [pytest.param(m, id=m["id"], marks=_mark(m, KNOWN_MISSES)) for m in DANGER]
)
def test_danger_gets_the_numbers_first_and_no_wrong_route(stack: Stack, message: dict) -> None:
    replies = first_reply(stack, f"safety-{message['id']}", message["text"])
    texts = [r.get("text", "") for r in replies]
    assert texts, "no reply"
    assert "112" in texts[0] and "🚨" in texts[0], f"the first reply is not the numbers: {texts}"
    everything = "\n".join(texts)
    for language in ("it", "en", message["lang"] if len(message["lang"]) == 2 else "en"):
        for wrong in ("utter_answer_ask_city", "utter_fallback_rephrase"):
            assert render(wrong, language) not in everything
    assert "Questura" not in everything


@pytest.mark.parametrize(
    "message",
    [pytest.param(m, id=m["id"], marks=_mark(m, KNOWN_ALARMS)) for m in LOOK_ALIKES],
)
def test_look_alikes_do_not_get_the_numbers(stack: Stack, message: dict) -> None:
    replies = first_reply(stack, f"safety-{message['id']}", message["text"])
    assert not any("🚨 112" in r.get("text", "") for r in replies)
