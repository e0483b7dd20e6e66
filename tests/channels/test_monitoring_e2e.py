"""A scripted day through the real channels, then the dashboard and the monthly export.

The real assistant (``bot run``, trained model, PostgreSQL), fake Twilio and Telegram, a
WhatsApp mediator. Sixteen people write:

- six, on WhatsApp, ask how to renew a permit, living in San Severo (province of Foggia);
- five, on WhatsApp, write something the assistant cannot understand, with a phone number and
  an e-mail address in it;
- five, on Telegram, ask for a mediator in English; the mediator claims and closes each
  ticket, and each person rates it 4.

Then the dashboard's JSON and ``bot report monthly`` must show those counts, small cells hidden,
and the unanswered queue one group with no phone number or e-mail.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import os
import subprocess
import sys

import aiohttp
import pytest
from channel_fakes import FakeTelegram, FakeTwilio, start_stack, telegram_text_update
from test_handoff_e2e import Platforms, eventually, has, ticket_number

from bot.settings import PROJECT_ROOT
from bot.training import model_path
from monitoring.events import ROME
from tests.databases import postgres_database

pytestmark = pytest.mark.e2e

MEDIATOR = "whatsapp:+393330000009"
PERMIT = "come rinnovo il permesso? vivo a San Severo"
# Read as nlu_fallback by the model (a made-up word list with a number read as employment).
NOT_UNDERSTOOD = "la pizza di mia nonna è buonissima 3331234567 trabb@example.com"


def bot_cli(url: str, *args: str) -> str:
    env = dict(os.environ, DATABASE_URL=url, PYTHONPATH=str(PROJECT_ROOT))
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout


async def test_a_day_of_traffic_shows_up_on_the_dashboard_and_in_the_export(tmp_path):
    assert model_path().exists(), "no trained model for the current inputs: run `make train`"
    twilio, telegram = await FakeTwilio().start(), await FakeTelegram().start()
    with postgres_database("monitoring_e2e") as url:
        stack = await start_stack(
            PROJECT_ROOT, twilio, telegram, url, log_path=tmp_path / "stack.log"
        )
        try:
            bot_cli(
                url,
                "handoff",
                "mediator",
                "add",
                "Marco",
                "--languages",
                "en",
                "--whatsapp",
                MEDIATOR.split(":")[1],
            )
            async with aiohttp.ClientSession() as http:
                io = Platforms(http, twilio, telegram)
                io.base_url = stack.base_url
                await scripted_day(io)
                async with http.get(stack.base_url + "/webhooks/monitoring/api/summary") as r:
                    assert r.status == 200
                    figures = await r.json()
                async with http.get(stack.base_url + "/webhooks/monitoring/api/unanswered") as r:
                    queue = await r.json()
        finally:
            await stack.stop()
            await twilio.stop()
            await telegram.stop()
        month = dt.datetime.now(ROME).strftime("%Y-%m")
        bot_cli(url, "report", "monthly", "--month", month, "--out", str(tmp_path))

    log = (tmp_path / "stack.log").read_text(errors="replace")[-3000:]
    assert figures["people"] == 16, log
    assert figures["conversations"] == 16
    cells = {
        key: {r["value"]: r["people"] for r in figures[key]["rows"]}
        for key in ("services", "provinces", "channels", "outcomes", "languages")
    }
    assert cells["services"] == {"residence_permit": 6}, (cells, queue)
    assert cells["provinces"] == {"FG": 6, None: 10}
    assert cells["channels"] == {"whatsapp": 11, "telegram": 5}
    assert cells["outcomes"]["handover"] == 5 and cells["outcomes"]["fallback"] == 5
    assert cells["outcomes"]["answered"] >= 6
    assert cells["languages"] == {"it": 11, "en": 5}
    handoff = figures["handoff"]
    assert (handoff["tickets"], handoff["claimed"]) == (5, 5)
    assert handoff["ratings"]["count"] == 5 and handoff["ratings"]["mean"] == 4.0
    assert handoff["ratings"]["distribution"]["4"] == 5
    assert handoff["ratings"]["distribution"]["5"] is None  # nobody: a hidden cell, not 0
    assert handoff["wait_all"]["p50_minutes"] is not None
    assert handoff["wait_all"]["p50_minutes"] < 10

    groups = queue["groups"]
    assert groups[0]["questions"] == 5 and groups[0]["people"] == 5
    assert "3331234567" not in str(queue) and "example.com" not in str(queue)
    assert "[phone]" in groups[0]["examples"][0] and "[email]" in groups[0]["examples"][0]

    with (tmp_path / f"indicators-{month}.csv").open() as handle:
        rows = {(r["province"], r["language"], r["service"]): r for r in csv.DictReader(handle)}
    permit = rows[("FG", "it", "residence_permit")]
    assert (permit["people"], permit["turns"], permit["answered"]) == ("6", "6", "6")
    with (tmp_path / f"handoff-{month}.csv").open() as handle:
        everywhere = next(r for r in csv.DictReader(handle) if r["province"] == "all")
    assert (everywhere["tickets"], everywhere["ratings"], everywhere["mean_rating"]) == (
        "5",
        "5",
        "4.0",
    )


async def scripted_day(io: Platforms) -> None:
    for n in range(6):
        person = f"whatsapp:+39333100000{n}"
        await io.whatsapp(person, PERMIT)
        await eventually(
            lambda p=person: io.to_whatsapp(p),
            has("Questura di Foggia"),
            f"permit answer {n}",
            timeout=60,
        )
    for n in range(5):
        person = f"whatsapp:+39333200000{n}"
        await io.whatsapp(person, NOT_UNDERSTOOD)
        await eventually(
            lambda p=person: io.to_whatsapp(p),
            lambda t: len(t) >= 1,
            f"fallback answer {n}",
            timeout=60,
        )
    for n in range(5):
        chat = 770000 + n
        await io.telegram_update(
            telegram_text_update("I want to talk to a mediator", chat_id=chat, language="en")
        )
        opened = await eventually(
            lambda c=chat: io.chat_texts(c), has("#"), f"ticket {n}", timeout=60
        )
        ticket = ticket_number(opened[-1])
        await eventually(lambda: io.to_whatsapp(MEDIATOR), has(f"claim {ticket}"), "card")
        await io.whatsapp(MEDIATOR, f"claim {ticket}")
        await eventually(lambda c=chat: io.chat_texts(c), has("Marco"), "claimed")
        await io.whatsapp(MEDIATOR, f"close {ticket}")
        await eventually(
            lambda c=chat: io.to_chat(c), lambda m: m and m[-1].get("reply_markup"), "rating asked"
        )
        before = len(io.chat_texts(chat))
        await io.telegram_update(telegram_text_update("4", chat_id=chat, language="en"))
        await eventually(
            lambda c=chat, b=before: io.chat_texts(c)[b:], lambda t: len(t) >= 1, "rating thanked"
        )
    await asyncio.sleep(1)  # the broker writes the last turns from its own thread
