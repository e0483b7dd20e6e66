"""Benchmark: end-to-end reply time over the REST channel of the running assistant.

Starts ``bot run`` on free loopback ports (SQLite in a temporary folder, as ``make run`` does)
unless ``--url`` points at one already running, then sends N messages, one conversation per
message so every reply goes through NLU, the dialogue policies, the action server and the
knowledge base, and prints p50/p95/max in ms with the machine and the date.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/reply_latency.py [-n 300] [--url URL]

Target (issue 5): p95 <= 150 ms on this 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.stack import running_stack  # noqa: E402

# Service questions with a town (full answer: office, hours, documents, steps) and short
# follow-ups, in several languages.
MESSAGES = (
    "il mio permesso scade, vivo a Gallipoli",
    "necesito el código fiscal, vivo en Lecce",
    "can I see a doctor without a permit? I live in Foggia",
    "je cherche un cours d'italien à Bari",
    "ciao",
    "sei un bot?",
)


def post(url: str, sender: str, text: str) -> float:
    """Milliseconds to the reply of one REST message; no reply at all stops the run."""
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        replies = json.loads(response.read())
    elapsed = (time.perf_counter() - start) * 1000
    if not replies:
        raise RuntimeError(f"no reply to {text!r}")
    return elapsed


def main() -> None:
    """Time ``-n`` messages against a running assistant, or one started for the run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="messages to time")
    parser.add_argument("--url", help="base URL of a running assistant (default: start one)")
    args = parser.parse_args()

    with ExitStack() as stack:
        base = args.url
        if base is None:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            base = stack.enter_context(running_stack(tmp)).base_url
        url = f"{base}/webhooks/rest/webhook"
        for i, text in enumerate(MESSAGES):  # warm-up: lazy loads, caches, JIT of TF graphs
            post(url, f"warmup-{i}", text)
        timings = [post(url, f"bench-{i}", MESSAGES[i % len(MESSAGES)]) for i in range(args.n)]

    timings.sort()
    p95 = timings[int(0.95 * (len(timings) - 1))]
    print(f"date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} cores; "
        f"Python {platform.python_version()}"
    )
    print(f"messages: {len(timings)} (REST channel, one new conversation each)")
    print(
        f"reply time ms: p50 {statistics.median(timings):.1f}  p95 {p95:.1f}  max {timings[-1]:.1f}"
    )


if __name__ == "__main__":
    main()
