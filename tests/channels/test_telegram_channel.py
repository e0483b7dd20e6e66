"""The Telegram webhook as the Bot API and a person in a private chat experience it."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from channel_fakes import (
    WEBHOOK_SECRET,
    telegram_callback_update,
    telegram_message_update,
    telegram_text_update,
)
from channel_harness import BUTTONS, LONG_ANSWER, serve

from bot.settings import get_settings
from channels.common import channel_message

CHAT = 987654321


async def post(served, update, secret=WEBHOOK_SECRET, raw: bytes | None = None):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    data = raw if raw is not None else json.dumps(update).encode()
    async with served.http.post(served.url + "webhook", data=data, headers=headers) as resp:
        return resp.status


async def test_a_message_is_answered_with_send_message(telegram, telegram_api):
    assert await post(telegram, telegram_text_update("ciao", language="it")) == 200

    sent = await telegram_api.wait_for("sendMessage", 1)
    assert [(int(m["chat_id"]), m["text"]) for m in sent] == [(CHAT, "echo: ciao")]
    message = telegram.bot.received[0]
    assert message.sender_id.startswith("tg-") and str(CHAT) not in message.sender_id
    assert message.metadata == {"language_hint": "it"}


async def test_neither_the_token_nor_the_chat_id_nor_the_text_is_logged(
    telegram, telegram_api, caplog
):
    from channel_fakes import BOT_TOKEN

    with caplog.at_level(logging.INFO):  # the production log level
        await post(telegram, telegram_text_update("il mio segreto"))
        await telegram_api.wait_for("sendMessage", 1)
        await asyncio.sleep(0.1)
    # aiohttp.access is the fake Bot API's own access log, not ours.
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "aiohttp.access")
    assert "telegram: update" in logged
    assert BOT_TOKEN not in logged and str(CHAT) not in logged and "segreto" not in logged


async def test_no_call_to_telegram_at_start_up(telegram, telegram_api):
    await asyncio.sleep(0.3)
    assert telegram_api.calls == []


@pytest.mark.parametrize("secret", [None, "", "wrong", WEBHOOK_SECRET + "x"])
async def test_a_wrong_secret_gets_403_and_no_reply(telegram, telegram_api, secret):
    assert await post(telegram, telegram_text_update("ciao"), secret=secret) == 403
    await asyncio.sleep(0.3)
    assert telegram_api.calls == [] and telegram.bot.received == []


async def test_each_update_is_answered_once(telegram, telegram_api):
    update = telegram_text_update("ciao")
    statuses = await asyncio.gather(*(post(telegram, update) for _ in range(3)))
    statuses.append(await post(telegram, update))
    assert statuses == [200] * 4
    await telegram_api.wait_for("sendMessage", 2, timeout=1.0)
    assert len(telegram_api.methods("sendMessage")) == 1


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (b"", 400),
        (b"\xff\xfe", 400),
        (b'{"update_id": "x"}', 200),
        (b'{"message": {"text": "hi"}}', 200),
        (b'{"update_id": 1, "message": {"text": 5}}', 200),
        (b"{}", 200),
    ],
)
async def test_malformed_updates_never_get_a_5xx(telegram, telegram_api, raw, status):
    assert await post(telegram, None, raw=raw) == status
    await asyncio.sleep(0.2)
    assert telegram.bot.received == []


async def test_an_oversized_body_is_refused(telegram, telegram_api):
    update = telegram_text_update("x" * 300_000)
    assert await post(telegram, update) == 413


@pytest.mark.parametrize(
    "update",
    [
        {"update_id": 900_000_001, "edited_message": telegram_text_update("edit")["message"]},
        {
            "update_id": 900_000_002,
            "my_chat_member": {
                "chat": {"id": CHAT, "type": "private", "first_name": "Amina"},
                "from": {"id": CHAT, "is_bot": False, "first_name": "Amina"},
                "date": 1700000000,
                "old_chat_member": {
                    "status": "member",
                    "user": {"id": 1, "is_bot": True, "first_name": "Bot"},
                },
                "new_chat_member": {
                    "status": "kicked",
                    "until_date": 0,
                    "user": {"id": 1, "is_bot": True, "first_name": "Bot"},
                },
            },
        },
        telegram_text_update("hello group", chat_type="group"),
        telegram_message_update({"new_chat_members": []}),
    ],
    ids=["edited", "blocked-the-bot", "group", "service-message"],
)
async def test_non_message_updates_are_acknowledged_and_ignored(telegram, telegram_api, update):
    assert await post(telegram, update) == 200
    await asyncio.sleep(0.3)
    assert telegram_api.calls == [] and telegram.bot.received == []


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"voice": {"file_id": "v1", "file_unique_id": "u1", "duration": 3}}, "media_voice"),
        (
            {"photo": [{"file_id": "p1", "file_unique_id": "u2", "width": 90, "height": 90}]},
            "media_attachment",
        ),
        (
            {"document": {"file_id": "d1", "file_unique_id": "u3", "file_name": "permesso.pdf"}},
            "media_attachment",
        ),
        ({"location": {"latitude": 41.1171, "longitude": 16.8719}}, "media_location"),
    ],
    ids=["voice", "photo", "document", "location"],
)
async def test_media_get_a_polite_answer_in_the_persons_language(
    telegram, telegram_api, fields, key
):
    assert await post(telegram, telegram_message_update(fields, language="fr")) == 200
    sent = await telegram_api.wait_for("sendMessage", 1)
    assert sent[0]["text"] == channel_message(key, ["fr"])
    assert "mÃ©diateur" not in sent[0]["text"]  # the catalogue is read as UTF-8
    await asyncio.sleep(0.2)
    assert telegram.bot.received == []


async def test_buttons_become_an_inline_keyboard_and_presses_reach_rasa(telegram, telegram_api):
    await post(telegram, telegram_text_update("options"))
    sent = await telegram_api.wait_for("sendMessage", 1)
    keyboard = sent[0]["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == ["Bari", "Lecce", "Somewhere with a long name"]
    data = [row[0]["callback_data"] for row in keyboard]
    assert data[:2] == [BUTTONS[0]["payload"], BUTTONS[1]["payload"]]
    assert data[2] == "#3"  # over Telegram's 64 bytes: looked up in the remembered options

    for pressed in (data[1], data[2]):
        update = telegram_callback_update(pressed)
        assert await post(telegram, update) == 200
    received = await telegram.bot.wait_for(3)
    assert [m.text for m in received[1:]] == [BUTTONS[1]["payload"], BUTTONS[2]["payload"]]
    answered = await telegram_api.wait_for("answerCallbackQuery", 2)
    assert len(answered) == 2


async def test_long_answers_are_split_at_telegrams_limit(telegram, telegram_api):
    long_text = LONG_ANSWER + " " + LONG_ANSWER  # 8 800 characters

    class Long:
        received: list = []

        async def __call__(self, message):
            await message.output_channel.send_text_message(message.sender_id, long_text)

    served, stop = await serve(telegram.channel, telegram.store, Long())
    try:
        await post(served, telegram_text_update("long"))
        await telegram_api.wait_for("sendMessage", 3)
        await asyncio.sleep(0.2)
        texts = [m["text"] for m in telegram_api.methods("sendMessage")]
        assert len(texts) == 3 and all(len(t) <= 4096 for t in texts)
        assert all(t.endswith(".") for t in texts)
        assert " ".join(texts) == long_text
    finally:
        await stop()


async def test_a_channel_without_credentials_is_off(monkeypatch, store, caplog):
    from channels.telegram import TelegramInput

    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    get_settings.cache_clear()
    with caplog.at_level(logging.INFO, logger="channels.telegram"):
        channel = TelegramInput.from_credentials(None)
    assert len([r for r in caplog.records if "telegram channel off" in r.getMessage()]) == 1
    served, stop = await serve(channel, store)
    try:
        assert await post(served, telegram_text_update("ciao")) == 404
    finally:
        await stop()
        get_settings.cache_clear()


async def test_send_to_person_reaches_the_chat_and_reports_a_blocked_bot(telegram, telegram_api):
    from channels.outbound import ChannelOutbound
    from channels.telegram import RecipientUnreachable, UnknownRecipient

    await post(telegram, telegram_text_update("ciao"))
    await telegram_api.wait_for("sendMessage", 1)
    person = telegram.bot.received[0].sender_id
    port = ChannelOutbound(store=telegram.store)
    try:
        await port.send_to_person(person, "A mediator writes", BUTTONS[:1])
        sent = await telegram_api.wait_for("sendMessage", 2)
        assert sent[1]["text"] == "A mediator writes" and int(sent[1]["chat_id"]) == CHAT
        assert sent[1]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Bari"

        telegram_api.blocked_chats.add(CHAT)
        with pytest.raises(RecipientUnreachable):
            await port.send_to_person(person, "hello?")
        with pytest.raises(UnknownRecipient):
            await port.send_to_person("tg-000000000000000000000000", "hi")
    finally:
        await port.aclose()


async def test_set_webhook_registers_url_and_secret(channel_env, telegram_api):
    from app.cli import main

    url = "https://bot.example.org/webhooks/telegram/webhook"
    # The command runs its own event loop, as from a shell; the fake serves from this one.
    assert await asyncio.to_thread(main, ["telegram", "set-webhook", "--url", url]) == 0
    assert await asyncio.to_thread(main, ["telegram", "delete-webhook"]) == 0
    (params,) = telegram_api.methods("setWebhook")
    assert params["url"] == url and params["secret_token"] == WEBHOOK_SECRET
    assert params["allowed_updates"] == ["message", "callback_query"]
    assert len(telegram_api.methods("deleteWebhook")) == 1
    assert await asyncio.to_thread(main, ["telegram", "webhook-info"]) == 0


def test_set_webhook_needs_credentials(monkeypatch, capsys):
    from app.cli import main

    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    get_settings.cache_clear()
    try:
        assert main(["telegram", "set-webhook", "--url", "https://x/"]) == 2
    finally:
        get_settings.cache_clear()
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().err


async def test_database_down_the_update_is_kept_on_disk(channel_env, telegram_api, dead_store):
    from channels.spool import Spool
    from channels.telegram import TelegramInput

    served, stop = await serve(TelegramInput(get_settings(), store=dead_store), dead_store)
    try:
        assert await post(served, telegram_text_update("ciao", update_id=77)) == 200
        assert [k.delivery_id for k in Spool(dead_store.spool_dir).pending("telegram")] == ["77"]
        assert telegram_api.calls == []
    finally:
        await stop()


async def test_database_and_disk_down_asks_telegram_to_redeliver(
    channel_env, telegram_api, dead_store
):
    from channels.telegram import TelegramInput

    dead_store.spool_dir.parent.mkdir(parents=True, exist_ok=True)
    dead_store.spool_dir.write_text("not a folder")
    served, stop = await serve(TelegramInput(get_settings(), store=dead_store), dead_store)
    try:
        assert await post(served, telegram_text_update("ciao")) == 503  # Telegram redelivers
        assert telegram_api.calls == []
    finally:
        await stop()
