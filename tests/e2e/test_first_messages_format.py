"""The acceptance data of issue 5 is itself checked, so the end-to-end test cannot pass vacuously.

A missing language/service pair, a misspelt comune or a town in the wrong province would make the
end-to-end test check the wrong office (or nothing) without anyone noticing.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.kb.vocabulary import SERVICES as ALL_SERVICES
from bot.kb.vocabulary import TIER1
from bot.territory import PROVINCES, by_folded_name, comuni, fold

MESSAGES_FILE = Path(__file__).with_name("first_messages.yml")
UNSEEN_FILE = Path(__file__).with_name("first_messages_unseen.yml")

TIER1_LANGUAGES = TIER1
SERVICES = tuple(s for s in ALL_SERVICES if s != "emergency")

# The only non-Latin spellings the file may use: the capoluoghi as commonly written.
TRANSLITERATIONS = {
    "Bari": ("باري", "باری", "Бари", "Барі", "巴里"),
    "Foggia": ("فوجا", "Фоджа", "福贾"),
    "Lecce": ("ليتشي", "Лечче", "莱切"),
    "Taranto": ("تارانتو", "Таранто", "塔兰托"),
    "Brindisi": ("برينديزي", "Бриндизи", "Бриндізі", "布林迪西"),
}

# Languages written with spaces between words, where the 4-15 word limit applies.
SPACED = tuple(lang for lang in TIER1_LANGUAGES if lang != "zh")


def load_messages(path: Path = MESSAGES_FILE) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]


SETS = {"": load_messages(MESSAGES_FILE), "unseen:": load_messages(UNSEEN_FILE)}
# Every check below applies to both files; the issue's own examples are in the first.
MESSAGES = [{**m, "set": prefix} for prefix, messages in SETS.items() for m in messages]


def entry_id(message: dict) -> str:
    return f"{message['set']}{message['language']}-{message['service']}"


@pytest.mark.parametrize("prefix", SETS)
def test_one_message_per_language_and_service(prefix: str) -> None:
    messages = SETS[prefix]
    pairs = Counter((m["language"], m["service"]) for m in messages)
    expected = {(lang, service) for lang in TIER1_LANGUAGES for service in SERVICES}
    assert len(messages) == 144
    assert set(pairs) == expected
    assert [pair for pair, count in pairs.items() if count != 1] == []


@pytest.mark.parametrize("prefix", SETS)
def test_every_entry_has_exactly_the_contract_fields(prefix: str) -> None:
    fields = {"language", "service", "text", "comune", "province"}
    assert [m for m in SETS[prefix] if set(m) != fields] == []
    assert [m for m in SETS[prefix] if not str(m["text"]).strip()] == []


@pytest.mark.parametrize("message", MESSAGES, ids=entry_id)
def test_comune_is_official_and_in_the_stated_province(message: dict) -> None:
    comune = by_folded_name().get(fold(message["comune"]))
    assert comune is not None, f"not a comune of Puglia: {message['comune']!r}"
    assert comune.name == message["comune"], "use the official ISTAT spelling"
    assert message["province"] in PROVINCES
    assert comune.province == message["province"]


@pytest.mark.parametrize("message", MESSAGES, ids=entry_id)
def test_text_names_the_comune(message: dict) -> None:
    text = message["text"]
    spellings = (message["comune"], *TRANSLITERATIONS.get(message["comune"], ()))
    assert any(fold(spelling) in fold(text) for spelling in spellings), text


@pytest.mark.parametrize("message", MESSAGES, ids=entry_id)
def test_text_names_no_other_comune(message: dict) -> None:
    """A second town in the text would make the expected office ambiguous.

    Some comuni are also everyday words (Salve, Noci, Castro), so this is worth checking.
    """
    text = fold(message["text"])
    own = fold(message["comune"])
    others = [
        c.name
        for c in comuni()
        if fold(c.name) not in own
        and re.search(r"(?<!\w)" + re.escape(fold(c.name)) + r"(?!\w)", text)
    ]
    assert others == [], message["text"]


@pytest.mark.parametrize(
    "message",
    [m for m in MESSAGES if m["language"] in SPACED],
    ids=entry_id,
)
def test_text_is_short_like_a_first_whatsapp_message(message: dict) -> None:
    assert 4 <= len(message["text"].split()) <= 15, message["text"]


def test_the_issue_examples_are_included_verbatim() -> None:
    texts = {(m["language"], m["service"]): (m["text"], m["comune"]) for m in SETS[""]}
    assert texts[("it", "residence_permit")] == (
        "il mio permesso scade, vivo a Gallipoli",
        "Gallipoli",
    )
    assert texts[("en", "health_care")] == (
        "can I get medical help without a permit? I live in Foggia",
        "Foggia",
    )
    assert texts[("es", "tax_code")] == (
        "necesito el código fiscal, ¿adónde voy? vivo en Lecce",
        "Lecce",
    )


@pytest.mark.parametrize("prefix", SETS)
def test_towns_vary_across_provinces(prefix: str) -> None:
    assert len({m["comune"] for m in SETS[prefix]}) >= 20
    assert {m["province"] for m in SETS[prefix]} == set(PROVINCES)
