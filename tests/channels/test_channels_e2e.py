"""Conversations through each public channel, answered by the real assistant (`bot run`).

Slow (loads the trained model), so few, all against one running stack: a greeting and a permit
question on each channel, a forged request and a retry.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from channel_fakes import (
    WEBHOOK_SECRET,
    FakeTelegram,
    FakeTwilio,
    start_stack,
    telegram_text_update,
    twilio_form,
    twilio_signed,
)

from bot.messages import render
from bot.settings import PROJECT_ROOT
from bot.training import model_path

pytestmark = pytest.mark.e2e


async def eventually(texts, needle: str, timeout: float = 60.0) -> str:
    """Wait until one of the delivered texts (a callable returning them) contains ``needle``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        joined = "\n".join(texts())
        if needle in joined:
            return joined
        await asyncio.sleep(0.1)
    raise AssertionError(f"{needle!r} never delivered; got:\n" + "\n".join(texts()))


async def test_greetings_and_permit_answers_through_whatsapp_and_telegram(tmp_path):
    assert model_path().exists(), "no trained model for the current inputs: run `make train`"
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
                telegram_url,
                data=json.dumps(telegram_text_update("ciao")),
                headers={
                    "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                    "Content-Type": "application/json",
                },
            ) as resp:
                assert resp.status == 200

        whatsapp_sent = await twilio.wait_for(1, timeout=60)
        telegram_sent = await telegram.wait_for("sendMessage", 1, timeout=60)
        await asyncio.sleep(2)  # room for a wrong second answer to the retry or the forgery
        assert len(twilio.messages) == 1
        assert whatsapp_sent[0]["To"] == "whatsapp:+393331234567"
        assert whatsapp_sent[0]["Body"].startswith(render("utter_greet", "en"))
        assert telegram_sent[0]["text"].startswith(render("utter_greet", "it"))
        assert not [m for m, _ in telegram.calls if m == "getMe"]  # nothing at start-up

        # A permit question naming the town gets that province's Questura on each channel.
        async with aiohttp.ClientSession() as http:
            form = twilio_form(
                "how do I renew my permesso di soggiorno? I live in Nardò",
                sender="whatsapp:+393339999999",
            )
            body, headers = twilio_signed(whatsapp_url, form)
            async with http.post(whatsapp_url, data=body, headers=headers) as resp:
                assert resp.status == 200
            update = telegram_text_update(
                "come rinnovo il permesso? vivo a San Severo", chat_id=555000111
            )
            async with http.post(
                telegram_url,
                data=json.dumps(update),
                headers={
                    "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                    "Content-Type": "application/json",
                },
            ) as resp:
                assert resp.status == 200
        await eventually(
            lambda: [m["Body"] for m in twilio.messages if m["To"].endswith("9999999")],
            "Questura di Lecce",
        )
        await eventually(
            lambda: [
                m["text"] for m in telegram.methods("sendMessage") if int(m["chat_id"]) == 555000111
            ],
            "Questura di Foggia",
        )
    finally:
        await stack.stop()
        await twilio.stop()
        await telegram.stop()
