"""Logs keep no phone numbers, chat ids or message texts, even when the database fails.

A session of WhatsApp and Telegram traffic, then the inbox table disappears (an induced
database error: every insert fails and is logged with its exception), then more traffic; the
log captured at DEBUG, SQLAlchemy's included, must not contain any number, chat id or text
used. The whole assistant (Rasa's and the action server's logs) is checked the same way in
``test_edges_e2e.py``.
"""

from __future__ import annotations

import asyncio
import json
import logging

import sqlalchemy as sa
from channel_fakes import WEBHOOK_SECRET, telegram_text_update, twilio_form, twilio_signed

NUMBER = "whatsapp:+393471122334"
CHAT_ID = 731904522
TEXTS = (
    "Mi chiamo Fatima Benali e abito in via Roma 12",
    "Sono Ahmed, il mio passaporto è YB4471932",
)
SECRETS = ("3471122334", str(CHAT_ID), "Fatima", "Benali", "via Roma", "Ahmed", "YB4471932")


async def _whatsapp(served, text, sid):
    body, headers = twilio_signed(served.url + "webhook", twilio_form(text, sender=NUMBER, sid=sid))
    async with served.http.post(served.url + "webhook", data=body, headers=headers) as resp:
        return resp.status


async def _telegram(served, text):
    async with served.http.post(
        served.url + "webhook",
        data=json.dumps(telegram_text_update(text, chat_id=CHAT_ID)),
        headers={
            "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
            "Content-Type": "application/json",
        },
    ) as resp:
        return resp.status


async def test_no_number_or_text_reaches_the_log(whatsapp, telegram, store, caplog):
    caplog.set_level(logging.DEBUG)
    for n, text in enumerate(TEXTS):
        assert await _whatsapp(whatsapp, text, f"SM{n:032x}") == 200
        assert await _telegram(telegram, text) == 200
    await whatsapp.bot.wait_for(2)
    await telegram.bot.wait_for(2)

    with store.engine.begin() as conn:  # the induced database error
        conn.execute(sa.text("DROP TABLE channel_inbox"))
    for n, text in enumerate(TEXTS, 10):
        await _whatsapp(whatsapp, text, f"SM{n:032x}")
        await _telegram(telegram, text)
    await asyncio.sleep(0.3)

    log = caplog.text
    # Both channels met the broken database (and kept the deliveries on local disk).
    assert "whatsapp: database unavailable" in log and "telegram: database unavailable" in log
    assert "no such table: channel_inbox" in log  # the errors themselves are logged
    leaked = [secret for secret in SECRETS if secret in log]
    assert leaked == [], leaked
