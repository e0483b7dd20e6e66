"""The trained model answers /model/parse with the `language` contract and our entities.

Uses the model `make train` builds for the current inputs (bot.training.model_path()); it is
missing only if training was skipped, which is an error, not a reason to skip.
"""

import pytest

from bot.training import model_path

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def agent():
    from rasa.core.agent import Agent

    path = model_path()
    assert path.exists(), f"no trained model at {path}: run 'make train' (make test does it)"
    return Agent.load(str(path))


async def test_parse_has_language_intent_and_city(agent):
    result = await agent.parse_message("dove è la questura di Nardo?")
    assert result["language"]["code"] == "it"
    assert 0 < result["language"]["confidence"] <= 1
    assert result["language"]["source"]
    assert result["intent"]["name"]
    cities = [e for e in result["entities"] if e["entity"] == "city"]
    assert [e["value"] for e in cities] == ["Nardò"]


@pytest.mark.parametrize(
    ("text", "code"), [("Дуже дякую", "uk"), ("Caut un avocat", "ro"), ("زما مرسته وکړئ", "ps")]
)
async def test_parse_fixes_raw_lid176_misreadings(agent, text, code):
    assert (await agent.parse_message(text))["language"]["code"] == code


@pytest.mark.parametrize(
    "text", ["", "🙂🙂🙂", "x" * 10_000, "\x00\x1b[2J", "hi привет 你好 مرحبا"]
)
async def test_garbage_parses_with_low_language_confidence(agent, text):
    result = await agent.parse_message(text)
    assert result["language"]["confidence"] < 0.8
    assert "intent" in result


async def test_explicit_language_request_gives_language_entity(agent):
    result = await agent.parse_message("write in English please")
    assert result["language"] == {"code": "en", "confidence": 1.0, "source": "explicit"}
    assert {"entity": "language", "value": "en"}.items() <= next(
        e for e in result["entities"] if e["entity"] == "language"
    ).items()
