"""A short conversation through the REST channel of the real Rasa and action servers."""

import pytest

from tests.stack import Stack, post_json

pytestmark = pytest.mark.e2e


def say(stack: Stack, sender: str, text: str) -> list[str]:
    replies = post_json(
        f"{stack.base_url}/webhooks/rest/webhook", {"sender": sender, "message": text}
    )
    assert isinstance(replies, list)
    return [r["text"] for r in replies if "text" in r]


@pytest.mark.parametrize(
    ("greeting", "expected"),
    [
        ("buongiorno, ho bisogno di aiuto", "Ciao!"),
        ("hello, I need some help please", "Hello!"),
        ("bonjour, j'ai besoin d'aide", "Bonjour !"),
    ],
)
def test_greeting_is_answered_in_the_language_it_was_written_in(
    stack: Stack, greeting: str, expected: str
) -> None:
    replies = say(stack, f"greet-{expected}", greeting)
    assert replies and replies[0].startswith(expected)


def test_conversation_keeps_its_language_and_answers_each_turn(stack: Stack) -> None:
    sender = "conversation-fr"
    assert say(stack, sender, "bonjour, j'ai besoin d'aide")[0].startswith("Bonjour")
    bot = say(stack, sender, "est-ce que tu es un robot ?")
    assert bot and "assistant automatique" in bot[0]
    joke = say(stack, sender, "raconte-moi une blague")
    assert joke and "Je ne peux pas" in joke[0]
    assert say(stack, sender, "au revoir")[0].startswith("Au revoir")


def test_parse_reports_intent_and_language(stack: Stack) -> None:
    result = post_json(f"{stack.base_url}/model/parse", {"text": "sei un bot?"})
    assert result["intent"]["name"] == "bot_challenge"
    assert result["language"]["code"] == "it"
    assert 0 < result["language"]["confidence"] <= 1
    assert result["language"]["source"]


def test_web_chat_page_is_served(stack: Stack) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{stack.base_url}/webhooks/webchat/", timeout=10) as response:
        page = response.read().decode()
    # The page talks to its own channel, which hands conversations to mediators when asked.
    assert 'const BASE = "/webhooks/webchat/"' in page and "/webhooks/rest/" not in page
