"""``bot handoff mediator password`` and ``link``: how a mediator gets into the desk."""

from __future__ import annotations

import io

import pytest

from app.cli import main
from bot.settings import get_settings
from handoff.credentials import check_password
from handoff.store import HandoffStore, get_handoff_store


@pytest.fixture
def database(sqlite_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MEDIATOR_DESK_URL", "https://desk.example.org/webhooks/desk/")
    get_settings.cache_clear()
    get_handoff_store.cache_clear()  # the CLI's store, cached under "no URL given"
    store = HandoffStore(sqlite_url)
    yield store
    store.dispose()
    get_handoff_store.cache_clear()
    get_settings.cache_clear()


def test_password_is_stored_hashed_and_too_short_is_refused(database, monkeypatch, capsys):
    database.mediators.add("Sara", ["en"])
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["handoff", "mediator", "password", "Sara", "--stdin"]) == 1
    assert "at least 10 characters" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["handoff", "mediator", "password", "Sara", "--stdin"]) == 0
    stored = database.mediators.by_name("Sara").password_hash
    assert stored.startswith("scrypt$") and "a long enough password" not in stored
    assert check_password("a long enough password", stored)
    assert not check_password("another password", stored)
    assert main(["handoff", "mediator", "password", "Nobody", "--stdin"]) == 1
    assert main(["handoff", "mediator", "password", "Sara", "--remove"]) == 0
    assert database.mediators.by_name("Sara").password_hash is None


def test_link_goes_to_the_mediator_s_own_chat(database, capsys):
    database.mediators.add("Omar", ["ar"], telegram_user_id="4242")
    database.mediators.add("Sara", ["en"])
    assert main(["handoff", "mediator", "link", "Omar", "--minutes", "10"]) == 0
    assert "queued to their telegram chat" in capsys.readouterr().out
    ((row, state),) = database.outbox.rows("telegram", "4242")
    assert state == "pending"
    assert "https://desk.example.org/webhooks/desk/#login=" in row.payload["text"]
    assert main(["handoff", "mediator", "link", "Sara"]) == 1  # desk-only: no chat
    assert "set a password instead" in capsys.readouterr().err
