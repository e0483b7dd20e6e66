"""Mediator handoff: time from a person's message to the mediator's chat, and back.

Starts fake Twilio and Telegram APIs and the whole assistant (`python -m app run`, the trained
model) pointed at them, with one Telegram mediator registered. A WhatsApp person asks for a
mediator, the mediator claims the ticket from the group card, then N messages go one at a time:

- person → mediator: from just before the WhatsApp webhook POST to the moment the fake Telegram
  API receives the ``sendMessage`` to the mediator's chat;
- mediator → person: from just before the Telegram webhook POST (the mediator's private chat)
  to the moment the fake Twilio API receives the message for the person;
- person photo → mediator: from just before a WhatsApp webhook POST carrying a photo (a
  ``MediaUrl`` the fake Twilio serves behind credentials and a redirect, as Twilio does) to the
  moment the fake Telegram API receives the ``sendPhoto`` upload to the mediator's chat: the
  download, the checks, storing it with the ticket, and the upload.

Prints the machine, the date, the load average and p50/p95/max. SQLite by default (what
`make run` uses); ``--database-url`` for PostgreSQL.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/handoff_latency.py -n 100
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "channels"))  # the fakes the tests use

from channel_fakes import (  # noqa: E402
    WEBHOOK_SECRET,
    FakeTelegram,
    FakeTwilio,
    start_stack,
    telegram_callback_update,
    telegram_text_update,
    twilio_form,
    twilio_signed,
)
from channel_latency import _wait, percentile  # noqa: E402

from handoff.store import HandoffStore  # noqa: E402

MEDIATOR = 4242
GROUP = -1009999
PERSON = "whatsapp:+393331234500"


PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 400  # a 100 kB "JPEG"


async def measure(n: int, warmup: int, database_url: str, media_dir: str) -> dict[str, list[float]]:
    """Latency in seconds each way; the stack runs only for the duration of the call."""
    import aiohttp

    store = HandoffStore(database_url)
    store.mediators.add("Bench", ["en", "it"], telegram_user_id=str(MEDIATOR))
    twilio, telegram = await FakeTwilio().start(), await FakeTelegram().start()
    stack = await start_stack(
        ROOT,
        twilio,
        telegram,
        database_url,
        extra_env={"TELEGRAM_MEDIATOR_CHAT_ID": str(GROUP), "MEDIA_DIR": media_dir},
    )
    results: dict[str, list[float]] = {
        "person → mediator": [],
        "mediator → person": [],
        "person photo → mediator": [],
    }
    headers_tg = {
        "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
        "Content-Type": "application/json",
    }
    try:
        async with aiohttp.ClientSession() as http:
            wa_url = stack.base_url + "/webhooks/whatsapp/webhook"
            tg_url = stack.base_url + "/webhooks/telegram/webhook"

            async def whatsapp(text: str, **media: str) -> None:
                form = twilio_form(text, sender=PERSON, **media)
                body, headers = twilio_signed(wa_url, form)
                async with http.post(wa_url, data=body, headers=headers) as resp:
                    assert resp.status == 200, resp.status

            async def telegram_update(update: dict) -> None:
                async with http.post(tg_url, data=json.dumps(update), headers=headers_tg) as r:
                    assert r.status == 200, r.status

            def to_chat(chat_id: int) -> list[dict]:
                return [
                    p
                    for m, p in telegram.calls
                    if m == "sendMessage" and int(p["chat_id"]) == chat_id
                ]

            await whatsapp("I want to talk to a mediator")
            await _wait(lambda: to_chat(GROUP))
            card = to_chat(GROUP)[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            await telegram_update(telegram_callback_update(card, chat_id=MEDIATOR))
            await _wait(lambda: to_chat(MEDIATOR))
            await _wait(lambda: len(twilio.messages) >= 2)  # opened + claimed notices
            await asyncio.sleep(0.5)

            for i in range(warmup + n):
                before, start = len(telegram.calls), time.perf_counter()
                await whatsapp(f"person message {i}")
                await _wait(
                    lambda b=before: any(
                        m == "sendMessage" and int(p["chat_id"]) == MEDIATOR
                        for m, p in telegram.calls[b:]
                    )
                )
                index = next(
                    k
                    for k in range(before, len(telegram.calls))
                    if telegram.calls[k][0] == "sendMessage"
                )
                if i >= warmup:
                    results["person → mediator"].append(telegram.times[index] - start)

                before, start = len(twilio.times), time.perf_counter()
                await telegram_update(telegram_text_update(f"mediator reply {i}", chat_id=MEDIATOR))
                await _wait(lambda b=before: len(twilio.times) > b)
                if i >= warmup:
                    results["mediator → person"].append(twilio.times[before] - start)

                url = twilio.add_media(PHOTO, "image/jpeg")
                before, start = len(telegram.calls), time.perf_counter()
                await whatsapp("", NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg")

                def photo_at(b: int = before) -> int | None:
                    return next(
                        (
                            k
                            for k in range(b, len(telegram.calls))
                            if telegram.calls[k][0] == "sendPhoto"
                        ),
                        None,
                    )

                await _wait(lambda: photo_at() is not None)
                index = photo_at()
                assert index is not None
                assert telegram.calls[index][1]["photo"]["bytes"] == PHOTO
                if i >= warmup:
                    results["person photo → mediator"].append(telegram.times[index] - start)
                await asyncio.sleep(0.05)  # let the "[image]" line reach the chat too
    finally:
        await stack.stop()
        await twilio.stop()
        await telegram.stop()
        store.dispose()
    return results


def main() -> int:
    """Run the measurement and print it with the machine and date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100, help="messages each way")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured first messages")
    parser.add_argument(
        "--database-url", default=None, help="default: a SQLite file in a temporary folder"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        results = asyncio.run(measure(args.n, args.warmup, url, f"{tmp}/media"))
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    print(
        f"machine: {platform.node()} {platform.machine()} {platform.processor() or ''} "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; date: {now}"
    )
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average (1, 5, 15 min) after the run: {load}")
    print(
        f"{args.n} messages each way and {args.n} photos, sequential, after {args.warmup} "
        "warm-up; "
        f"database: {'PostgreSQL' if url.startswith('postgres') else 'SQLite'}"
    )
    for way, values in results.items():
        ms = [v * 1000 for v in values]
        print(
            f"{way:24s} p50 {statistics.median(ms):7.1f} ms  p95 {percentile(ms, 95):7.1f} ms"
            f"  max {max(ms):7.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
