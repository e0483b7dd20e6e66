"""Pseudonyms, splitting, numbered options, the message catalogue and the durable store."""

from __future__ import annotations

import os
import stat
import uuid

import pytest

from bot.settings import get_settings
from channels import common
from channels.common import (
    calling_code,
    catalogue_keys,
    channel_message,
    choose_numbered,
    pseudonym,
    render_numbered,
    split_text,
)
from channels.store import (
    LEASE_SECONDS,
    MAX_ATTEMPTS,
    NEW,
    SENT,
    TAKEN,
    UNSURE,
    ChannelStore,
)


@pytest.fixture
def dev_key(monkeypatch, tmp_path):
    """No PSEUDONYM_SECRET: the key lives in a var/ directory of our own."""
    monkeypatch.delenv("PSEUDONYM_SECRET", raising=False)
    monkeypatch.setattr(common, "VAR_DIR", tmp_path / "var")
    get_settings.cache_clear()
    common.pseudonym_key.cache_clear()
    yield tmp_path / "var" / common.PSEUDONYM_KEY_FILE
    get_settings.cache_clear()
    common.pseudonym_key.cache_clear()


def test_without_a_secret_a_private_per_installation_key_is_created(dev_key):
    first = pseudonym("wa", "whatsapp:+393331234567")
    assert dev_key.exists() and stat.S_IMODE(os.stat(dev_key).st_mode) == 0o600
    common.pseudonym_key.cache_clear()
    assert pseudonym("wa", "whatsapp:+393331234567") == first  # stable across restarts
    dev_key.write_text("another-installation")
    common.pseudonym_key.cache_clear()
    assert pseudonym("wa", "whatsapp:+393331234567") != first


def test_pseudonyms_hide_the_address_and_differ_per_channel(dev_key):
    wa = pseudonym("wa", "12345")
    tg = pseudonym("tg", "12345")
    assert wa.startswith("wa-") and tg.startswith("tg-") and wa[3:] != tg[3:]
    assert "12345" not in wa + tg


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("whatsapp:+393331234567", "+39"),
        ("whatsapp:+2348031234567", "+234"),
        ("whatsapp:+12025550123", "+1"),
        ("whatsapp:+79161234567", "+7"),
        ("whatsapp:+8801712345678", "+880"),
        ("whatsapp:+923001234567", "+92"),
        ("whatsapp:+212612345678", "+212"),
        ("whatsapp:+380501234567", "+380"),
        ("whatsapp:393331234567", None),
        ("whatsapp:+39abc", None),
        ("", None),
    ],
)
def test_calling_code(number, code):
    assert calling_code(number) == code


def test_split_prefers_paragraphs_then_lines_then_sentences():
    text = "A" * 50 + "\n\n" + "B" * 30 + "\n" + "C" * 10 + ". " + "D" * 30
    assert split_text(text, 60) == ["A" * 50, "B" * 30, "C" * 10 + ". " + "D" * 30]
    assert split_text("C" * 30 + ". " + "D" * 30, 40) == ["C" * 30 + ".", "D" * 30]
    assert split_text("Costa 3.50 euro " * 5, 40)[0] == "Costa 3.50 euro Costa 3.50 euro Costa"


def test_split_cuts_a_word_only_when_there_is_no_space():
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_text("short", 10) == ["short"]
    assert split_text("   ", 10) == []


def test_split_keeps_arabic_and_chinese_sentences_whole():
    arabic = "هذه جملة عربية طويلة؟ " * 10
    parts = split_text(arabic, 60)
    assert all(p.endswith("؟") for p in parts) and all(len(p) <= 60 for p in parts)
    chinese = "这是一个句子。" * 20
    parts = split_text(chinese, 50)
    assert all(p.endswith("。") for p in parts) and "".join(parts) == chinese


def test_numbered_options_round_trip():
    buttons = [{"title": "Sì", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    assert render_numbered("Confermi?", buttons) == "Confermi?\n\n1. Sì\n2. No"
    payloads = ["/affirm", "/deny"]
    assert [
        choose_numbered(r, payloads)
        for r in ("1", " 2. ", "2)", "٢", "۲", "0", "3", "12", "2 figli", "")
    ] == ["/affirm", "/deny", "/deny", "/deny", "/deny", None, None, None, None, None]


def test_every_channel_message_has_the_fallback_and_the_tier1_languages():
    tier1 = {"it", "en", "fr", "ar", "es", "sq", "ro", "uk", "ru", "ur", "bn", "zh"}
    for key in catalogue_keys():
        assert channel_message(key, ["xx", None]) == channel_message(key, ["en"])
        for language in tier1:
            assert channel_message(key, [language]) != "" and (
                language == "en" or channel_message(key, [language]) != channel_message(key, ["en"])
            ), (key, language)


# --- the store, on SQLite and on PostgreSQL -------------------------------------------------


def _exercise_inbox(first: ChannelStore, second: ChannelStore, monkeypatch) -> None:
    # Two instances sharing one database: only one of them answers a delivery.
    claimed = first.claim("whatsapp", "SM1", {"text": "ciao"})
    assert claimed is not None and claimed.attempt == 1
    assert second.claim("whatsapp", "SM1", {"text": "ciao"}) is None
    # The first renews its lease while it works; the second cannot take the row.
    renewed = first.renew("whatsapp", {"SM1": claimed.claimed_at})
    assert set(renewed) == {"SM1"}
    assert second.take_abandoned("whatsapp") == []
    # The first died: once the lease has run out, the second takes it over with the message.
    monkeypatch.setattr("channels.store.LEASE_SECONDS", -1.0)
    assert second.take_abandoned("whatsapp", held={"SM1"}) == []  # its own: not taken again
    taken = second.take_abandoned("whatsapp")
    assert [(d.delivery_id, d.payload, d.attempt) for d in taken] == [("SM1", {"text": "ciao"}, 2)]
    # A late renewal by the first finds the lease gone.
    assert first.renew("whatsapp", renewed) == {}
    monkeypatch.setattr("channels.store.LEASE_SECONDS", LEASE_SECONDS)
    assert first.take_abandoned("whatsapp") == []  # claimed again just now, by the second
    assert first.claim("whatsapp", "SM1", {"text": "ciao"}) is None
    second.save_payload("whatsapp", "SM1", {"text": "ciao", "chosen": "/greet"})
    second.finish("whatsapp", "SM1")
    monkeypatch.setattr("channels.store.LEASE_SECONDS", -1.0)
    assert first.take_abandoned("whatsapp") == []  # done: never again
    assert first.claim("whatsapp", "SM1", {"text": "ciao"}) is None
    # A message that crashes its process every time is given up after MAX_ATTEMPTS starts.
    assert first.claim("whatsapp", "SM2", {"text": "boom"}).attempt == 1
    attempts = [d.attempt for _ in range(MAX_ATTEMPTS) for d in first.take_abandoned("whatsapp")]
    assert attempts == list(range(2, MAX_ATTEMPTS + 2))
    monkeypatch.setattr("channels.store.LEASE_SECONDS", LEASE_SECONDS)


def _exercise_replies(store: ChannelStore) -> None:
    key = ("whatsapp", "SM3")
    assert store.begin_reply(*key, 0, 1, "d0").state == NEW
    store.reply_sent(*key, 0)
    assert store.begin_reply(*key, 0, 1, "d0").state == SENT  # a retry skips it
    assert store.begin_reply(*key, 1, 1, "d1").state == NEW  # begun, then the process died
    unsure = store.begin_reply(*key, 1, 2, "d1")  # the takeover finds it in doubt
    assert unsure.state == UNSURE and unsure.began_at > 0
    assert store.begin_reply(*key, 1, 1, "d1").state == TAKEN  # the old attempt must stop
    store.release_reply(*key, 1)  # the platform refused it: not sent
    assert store.begin_reply(*key, 1, 2, "d1").state == NEW
    store.claim("whatsapp", "SM3", {})
    store.finish("whatsapp", "SM3")  # the record goes with the message
    assert store.begin_reply(*key, 0, 1, "d0").state == NEW


def _exercise_contacts(store: ChannelStore) -> None:
    assert store.record_inbound("wa-x", "whatsapp", "whatsapp:+39333") is None
    store.set_options("wa-x", ["/affirm", "/deny"])
    before = store.record_inbound("wa-x", "whatsapp", "whatsapp:+39333")
    assert before is not None and before.last_options == ["/affirm", "/deny"]
    assert store.forget("wa-x") is True
    assert store.lookup("wa-x") is None


def test_store_on_sqlite(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    first, second = ChannelStore(url), ChannelStore(url)
    _exercise_inbox(first, second, monkeypatch)
    _exercise_replies(second)
    _exercise_contacts(first)
    first.dispose()
    second.dispose()


@pytest.mark.postgres
def test_store_on_postgresql(monkeypatch):
    sqlalchemy = pytest.importorskip("sqlalchemy")
    admin = sqlalchemy.create_engine(
        "postgresql://root@127.0.0.1:5432/test", future=True, isolation_level="AUTOCOMMIT"
    )
    name = f"x_channels_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    except sqlalchemy.exc.OperationalError as exc:
        pytest.skip(f"PostgreSQL not available: {exc}")
    try:
        url = f"postgresql://root@127.0.0.1:5432/{name}"
        first, second = ChannelStore(url), ChannelStore(url)
        try:
            _exercise_inbox(first, second, monkeypatch)
            _exercise_replies(first)
            _exercise_contacts(second)
        finally:
            first.dispose()
            second.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
