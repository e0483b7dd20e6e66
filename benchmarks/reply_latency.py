"""Benchmark: end-to-end reply time over the REST channel of the running assistant.

Starts ``bot run`` on free loopback ports (SQLite in a temporary folder, as ``make run`` does)
unless ``--url`` points at one already running, then sends N messages, one conversation per
message so every reply goes through NLU, the dialogue policies, the action server and the
knowledge base, and prints p50/p95/max in ms with the machine and the date.

Then it times the hand-off gate (``handoff.gate.intercept``) that WhatsApp, Telegram and the web
chat pass before Rasa, on the same database with some closed and open tickets of other people:
the SQL statements it sends per message of a person who is not in hand-off, and its time. The
REST channel does not pass the gate, so this is the part of a WhatsApp or Telegram reply that
the REST figures leave out. With ``--url`` the gate is timed on ``DATABASE_URL`` (or skipped).

    PYTHONPATH=$PWD .venv/bin/python benchmarks/reply_latency.py [-n 300] [--url URL]

Target (issue 5): p95 <= 150 ms on this 2-core machine; (issue 17) the gate: one query.
"""

from __future__ import annotations

import argparse
import asyncio
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


def gate_cost(database_url: str, n: int) -> tuple[float, list[float]]:
    """(SQL statements per message, ms per message) of the gate for people not in hand-off."""
    from types import SimpleNamespace

    import sqlalchemy as sa
    from sqlalchemy import event

    from handoff import schema as t
    from handoff.gate import Runtime, intercept
    from handoff.relay import Relay
    from handoff.service import Handoff
    from handoff.store import HandoffStore

    store = HandoffStore(database_url)
    handoff = Handoff(store)
    now = time.time()
    with store.engine.begin() as conn:  # others' tickets: 500 closed (some owed a rating), 20 open
        conn.execute(
            sa.insert(t.tickets),
            [
                dict(
                    person=f"other-{i}",
                    channel="whatsapp",
                    language="ar",
                    reason="asked",
                    priority=0,
                    status="waiting" if i < 20 else "closed",
                    opened_at=now,
                    announcements=0,
                    awaiting_rating=i % 10 == 1,
                )
                for i in range(520)
            ],
        )
    runtime = Runtime(handoff, Relay(handoff))
    app = SimpleNamespace(ctx=None)
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    async def run() -> list[float]:
        timings = []
        for i in range(n):
            start = time.perf_counter()
            routed = await intercept(
                app, f"gate-{i}", "whatsapp", MESSAGES[i % len(MESSAGES)], f"g{i}", runtime=runtime
            )
            timings.append((time.perf_counter() - start) * 1000)
            assert routed is False, "a person not in hand-off must reach the bot"
        return timings

    asyncio.run(run())  # warm-up: migration check, connection pool, thread pool
    event.listen(store.engine, "before_cursor_execute", count)
    timings = asyncio.run(run())
    store.dispose()
    return statements / n, timings


def main() -> None:
    """Time ``-n`` messages against a running assistant, or one started for the run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="messages to time")
    parser.add_argument("--url", help="base URL of a running assistant (default: start one)")
    args = parser.parse_args()

    with ExitStack() as stack:
        base = args.url
        database_url = os.environ.get("DATABASE_URL")
        if base is None:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            base = stack.enter_context(running_stack(tmp)).base_url
            database_url = f"sqlite:///{tmp / 'tracker.db'}"
        url = f"{base}/webhooks/rest/webhook"
        for i, text in enumerate(MESSAGES):  # warm-up: lazy loads, caches, JIT of TF graphs
            post(url, f"warmup-{i}", text)
        timings = [post(url, f"bench-{i}", MESSAGES[i % len(MESSAGES)]) for i in range(args.n)]
        gate = gate_cost(database_url, args.n) if database_url else None

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
    if gate is not None:
        queries, gate_ms = gate
        gate_ms.sort()
        print(
            f"hand-off gate, person not in hand-off: {queries:g} SQL statement(s) per message; "
            f"ms p50 {statistics.median(gate_ms):.2f}  "
            f"p95 {gate_ms[int(0.95 * (len(gate_ms) - 1))]:.2f}  max {gate_ms[-1]:.2f}"
        )


if __name__ == "__main__":
    main()
