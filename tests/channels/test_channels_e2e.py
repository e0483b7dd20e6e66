"""A greeting through each public channel, answered by the real assistant (`bot run`).

Slow (loads the trained model), so few: one conversation per channel, a forged request and a
retry, all against one running stack.
"""

from __future__ import annotations

import asyncio
import json

import pytest
import yaml
from channel_fakes import (
    WEBHOOK_SECRET,
    FakeTelegram,
    FakeTwilio,
    start_stack,
    telegram_text_update,
    twilio_form,
    twilio_signed,
)

from bot.settings import PROJECT_ROOT
from bot.training import model_path

pytestmark = pytest.mark.e2e


def greetings() -> set[str]:
    domain = yaml.safe_load((PROJECT_ROOT / "domain" / "chitchat.yml").read_text("utf-8"))
    return {variant["text"] for variant in domain["responses"]["utter_greet"]}


@pytest.mark.skipif(not model_path().exists(), reason="no trained model: run `make train`")
async def test_greetings_through_whatsapp_and_telegram(tmp_path):
    twilio, telegram = await FakeTwilio().start(), await FakeTelegram().start()
    stack = await start_stack(PROJECT_ROOT, twilio, telegram, f"sqlite:///{tmp_path / 'e2e.db'}")
    try:
        import aiohttp

        async with aiohttp.ClientSession() as http:
            whatsapp_url = stack.base_url + "/webhooks/whatsapp/webhook"
            form = twilio_form("hello", sid="SM" + "e" * 32)
            body, headers = twilio_signed(whatsapp_url, form)
            for _ in range(2):  # the second is Twilio retrying
                async with http.post(whatsapp_url, data=body, headers=headers) as resp:
                    assert resp.status == 200
            forged, forged_headers = twilio_signed(whatsapp_url, twilio_form("hello"), "0" * 32)
            async with http.post(whatsapp_url, data=forged, headers=forged_headers) as resp:
                assert resp.status == 403

            telegram_url = stack.base_url + "/webhooks/telegram/webhook"
            async with http.post(
                telegram_url, data=json.dumps(telegram_text_update("ciao")),
                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                         "Content-Type": "application/json"},
            ) as resp:
                assert resp.status == 200

        whatsapp_sent = await twilio.wait_for(1, timeout=60)
        telegram_sent = await telegram.wait_for("sendMessage", 1, timeout=60)
        await asyncio.sleep(2)  # room for a wrong second answer to the retry or the forgery
        assert len(twilio.messages) == 1
        assert whatsapp_sent[0]["To"] == "whatsapp:+393331234567"
        assert whatsapp_sent[0]["Body"] in greetings()
        assert telegram_sent[0]["text"] in greetings()
        assert not [m for m, _ in telegram.calls if m == "getMe"]  # nothing at start-up
    finally:
        await stack.stop()
        await twilio.stop()
        await telegram.stop()
