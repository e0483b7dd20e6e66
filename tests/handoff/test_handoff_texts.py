"""The mediators' catalogue (locales/mediators): valid as shipped, precise when broken."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import handoff.texts as texts
from bot.messages import load


@pytest.fixture
def copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of locales/mediators that validate() and catalogue() read instead."""
    folder = tmp_path / "locales" / "mediators"
    shutil.copytree(texts.MEDIATOR_LOCALES, folder)
    monkeypatch.setattr(texts, "MEDIATOR_LOCALES", folder)
    texts.catalogue.cache_clear()
    yield folder
    texts.catalogue.cache_clear()


def _line(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if needle in line)


def test_shipped_catalogue_is_valid_and_italian_is_complete() -> None:
    assert texts.validate() == []
    messages = load(texts.MEDIATOR_LOCALES)[0].messages
    assert set(messages) >= {"en", "it"}
    # The group reads Italian by default: nothing may silently fall back to English.
    assert sorted(set(messages["en"]) - set(messages["it"])) == []


def test_texts_are_filled_in_the_mediator_language() -> None:
    assert (
        texts.mediator_text("claimed_by_other", "it", ticket="#7", name="Amina")
        == "Il ticket #7 è già stato preso da Amina."
    )
    assert (
        texts.mediator_text("claimed_by_other", "en", ticket="#7", name="Amina")
        == "Ticket #7 was already claimed by Amina."
    )
    # A language without a catalogue reads English.
    assert texts.mediator_text("already_yours", "ar", ticket="#7") == "You already hold ticket #7."


def test_placeholder_mismatch_is_reported_with_file_and_line(copy: Path) -> None:
    italian = copy / "it.yml"
    italian.write_text(
        italian.read_text(encoding="utf-8").replace(
            "Il ticket {ticket} è già stato preso da {name}.",
            "Il ticket {ticket} è già stato preso da {nome}.",
        ),
        encoding="utf-8",
    )

    problems = texts.validate()

    line = _line(italian, "claimed_by_other:")
    assert problems == [
        f"locales/mediators/it.yml:{line}: claimed_by_other: "
        "placeholders differ from the English source"
    ]
    with pytest.raises(ValueError, match="claimed_by_other"):
        texts.catalogue()


def test_a_key_missing_from_the_source_is_reported(copy: Path) -> None:
    italian = copy / "it.yml"
    italian.write_text(
        italian.read_text(encoding="utf-8") + '  extra_key: "Solo in italiano"\n', encoding="utf-8"
    )

    problems = texts.validate()

    line = _line(italian, "extra_key:")
    assert problems == [f"locales/mediators/it.yml:{line}: extra_key: not in the English source"]


def test_a_missing_english_source_is_reported(copy: Path) -> None:
    (copy / "en.yml").unlink()

    assert texts.validate() == ["locales/mediators/en.yml: the English source is missing"]
