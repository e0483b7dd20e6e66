"""Webhook-to-outgoing-API latency of the WhatsApp and Telegram channels, end to end.

Starts fake Twilio and Telegram APIs in this process and the whole assistant (`python -m app
run`, the trained model under models/) pointed at them, then sends N messages through each
webhook, one at a time, and measures from just before the webhook POST to the moment the fake
API receives the reply ("ack" rows: until the webhook's own 200, which is all Twilio and
Telegram wait for). Prints the machine, the date and p50/p95/max per channel, and the same
for Rasa's REST channel (which answers inside its HTTP response) as the baseline of what the
dialogue itself costs.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/channel_latency.py -n 100
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
    telegram_text_update,
    twilio_form,
    twilio_signed,
)

TEXTS = ("hello", "ciao", "bonjour", "hola")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: a value that was actually measured)."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def measure(n: int, warmup: int) -> dict[str, list[float]]:
    """Latency in seconds per channel; the stack runs only for the duration of the call."""
    import aiohttp

    twilio, telegram = await FakeTwilio().start(), await FakeTelegram().start()
    with tempfile.TemporaryDirectory() as tmp:
        stack = await start_stack(ROOT, twilio, telegram, f"sqlite:///{tmp}/bench.db")
        results: dict[str, list[float]] = {
            "whatsapp": [],
            "telegram": [],
            "rest": [],
            "whatsapp ack": [],
            "telegram ack": [],
        }
        try:
            async with aiohttp.ClientSession() as http:
                wa_url = stack.base_url + "/webhooks/whatsapp/webhook"
                tg_url = stack.base_url + "/webhooks/telegram/webhook"
                for i in range(warmup + n):
                    text = TEXTS[i % len(TEXTS)]
                    sender = f"whatsapp:+3933300{i % 10:05d}"
                    body, headers = twilio_signed(wa_url, twilio_form(text, sender=sender))
                    before, start = len(twilio.times), time.perf_counter()
                    async with http.post(wa_url, data=body, headers=headers) as resp:
                        assert resp.status == 200, resp.status
                    acked = time.perf_counter()
                    await _wait(lambda b=before: len(twilio.times) > b)
                    if i >= warmup:
                        results["whatsapp"].append(twilio.times[before] - start)
                        results["whatsapp ack"].append(acked - start)

                    update = telegram_text_update(text, chat_id=1000 + i % 10)
                    before, start = len(telegram.times), time.perf_counter()
                    async with http.post(
                        tg_url,
                        data=json.dumps(update),
                        headers={
                            "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                            "Content-Type": "application/json",
                        },
                    ) as resp:
                        assert resp.status == 200, resp.status
                    acked = time.perf_counter()
                    await _wait(lambda b=before: len(telegram.times) > b)
                    if i >= warmup:
                        results["telegram"].append(telegram.times[before] - start)
                        results["telegram ack"].append(acked - start)
                    # Baseline: Rasa's own REST channel, which answers in the HTTP response;
                    # the difference is what the public channels add.
                    start = time.perf_counter()
                    async with http.post(
                        stack.base_url + "/webhooks/rest/webhook",
                        json={"sender": f"bench{i % 10}", "message": text},
                    ) as resp:
                        await resp.read()
                    if i >= warmup:
                        results["rest"].append(time.perf_counter() - start)
                    # Let every reply of this turn arrive before the next measurement.
                    await asyncio.sleep(0.05)
        finally:
            await stack.stop()
            await twilio.stop()
            await telegram.stop()
    return results


async def _wait(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("no reply reached the fake API")
        await asyncio.sleep(0.001)


def main() -> int:
    """Run the measurement and print it with the machine and date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100, help="messages per channel")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured first messages")
    args = parser.parse_args()
    results = asyncio.run(measure(args.n, args.warmup))
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    print(
        f"machine: {platform.node()} {platform.machine()} {platform.processor() or ''} "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; date: {now}"
    )
    print(f"{args.n} messages per channel, sequential, after {args.warmup} warm-up")
    for channel, values in results.items():
        ms = [v * 1000 for v in values]
        print(
            f"{channel:12s} p50 {statistics.median(ms):7.1f} ms  p95 {percentile(ms, 95):7.1f} ms"
            f"  max {max(ms):7.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
