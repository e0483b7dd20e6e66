"""Benchmark: one person's long message, and everybody else's replies.

Starts ``bot run`` on free loopback ports (SQLite in a temporary folder) unless ``--url``
points at one already running. One "other person" sends short messages over REST one after the
other (a new conversation each, as ``reply_latency.py``) and their reply times are measured in
blocks: alone, then while a second sender posts a 4,096-character message every ``--every``
seconds (0: back to back, the worst case), each followed by a refused 1 MB body. Blocks
alternate (alone, loaded, alone, loaded…) so a drift of the machine shows in both. Meanwhile
``GET /version`` is timed every 50 ms: it does no work, so its time is how long the server's
event loop was busy elsewhere (a stall). Prints p50/p95/max of each series, the long messages'
own reply times and how long the 1 MB refusals took, with the machine and the date.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/long_messages.py [-n 200] [--every 1] \
        [--long-chars 4096] [--url URL]

``--long-chars 0`` sends only the 1 MB bodies (what a refused message costs everyone else).

Target (issue 14): the other person's p95 does not move; a 1 MB message is refused in under a
second.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.stack import running_stack  # noqa: E402

SHORT = (
    "il mio permesso scade, vivo a Gallipoli",
    "necesito el código fiscal, vivo en Lecce",
    "can I see a doctor without a permit? I live in Foggia",
    "je cherche un cours d'italien à Bari",
    "ciao",
    "sei un bot?",
)
WORDS = (
    "ciao ho bisogno di aiuto per il permesso di soggiorno vivo a Lecce e lavoro nei campi "
    "non ho ancora il codice fiscale la mia famiglia è arrivata da poco e non so a chi "
    "chiedere"
).split()
LONG_CHARS = 4096
HUGE_BYTES = 1_000_000


def long_text(seed: int, chars: int = LONG_CHARS) -> str:
    """A message of ``chars`` characters made of the domain's words, different every time."""
    rng = random.Random(seed)
    text = ""
    while len(text) < chars:
        text += rng.choice(WORDS) + " "
    return text[:chars]


def post(url: str, body: bytes, timeout: float = 60) -> tuple[int, float]:
    """(HTTP status, milliseconds); a refused body is a status too (0: connection closed)."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (ConnectionError, urllib.error.URLError):
        status = 0  # the server closed the connection while the body was still being sent
    return status, (time.perf_counter() - start) * 1000


def say(url: str, sender: str, text: str) -> float:
    """Milliseconds to the reply of one REST message; anything but a 200 stops the run."""
    status, elapsed = post(url, json.dumps({"sender": sender, "message": text}).encode())
    if status != 200:
        raise RuntimeError(f"{text[:40]!r}: HTTP {status}")
    return elapsed


class LongSender(threading.Thread):
    """Posts 4,096-character messages back to back, each followed by a refused 1 MB body."""

    def __init__(self, url: str, every: float, chars: int):
        super().__init__(daemon=True)
        self.url = url
        self.every = every
        self.chars = chars
        self.running = threading.Event()
        self.stopped = threading.Event()
        self.long_ms: list[float] = []
        self.huge: list[tuple[int, float]] = []

    def run(self) -> None:
        huge = json.dumps({"sender": "heavy-huge", "message": "x" * HUGE_BYTES}).encode()
        n = 0
        while not self.stopped.is_set():
            if not self.running.wait(0.1):
                continue
            n += 1
            started = time.monotonic()
            if self.chars:
                self.long_ms.append(say(self.url, f"heavy-{n}", long_text(n, self.chars)))
            self.huge.append(post(self.url, huge, timeout=10))
            self.stopped.wait(max(0.0, self.every - (time.monotonic() - started)))


class LoopProbe(threading.Thread):
    """Times ``GET /version`` every 50 ms into ``alone`` or ``loaded``, as the blocks go."""

    def __init__(self, base: str):
        super().__init__(daemon=True)
        self.url = f"{base}/version"
        self.loaded = threading.Event()
        self.stopped = threading.Event()
        self.series: dict[bool, list[float]] = {False: [], True: []}

    def run(self) -> None:
        while not self.stopped.wait(0.05):
            start = time.perf_counter()
            with urllib.request.urlopen(self.url, timeout=30) as response:
                response.read()
            self.series[self.loaded.is_set()].append((time.perf_counter() - start) * 1000)


def percentile(values: list[float], q: float) -> float:
    """The value at rank ``q`` of the sorted values (rounded down, no interpolation)."""
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


def summary(values: list[float]) -> str:
    """One line of a series for the report: p50, p95 and max in milliseconds."""
    return (
        f"p50 {statistics.median(values):.1f}  p95 {percentile(values, 0.95):.1f}  "
        f"max {max(values):.1f}"
    )


def main() -> None:
    """Time short messages alone, then beside long ones, in alternating blocks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="short messages timed per series")
    parser.add_argument("--blocks", type=int, default=4, help="blocks per series")
    parser.add_argument(
        "--every", type=float, default=1.0, help="seconds between long messages (0: back to back)"
    )
    parser.add_argument(
        "--long-chars",
        type=int,
        default=LONG_CHARS,
        help="characters of the long messages (0: only the 1 MB bodies)",
    )
    parser.add_argument("--url", help="base URL of a running assistant (default: start one)")
    args = parser.parse_args()

    alone: list[float] = []
    loaded: list[float] = []
    with ExitStack() as stack:
        base = args.url
        if base is None:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            base = stack.enter_context(running_stack(tmp)).base_url
        url = f"{base}/webhooks/rest/webhook"
        for i, text in enumerate((*SHORT, long_text(0, args.long_chars or 10))):  # warm-up
            say(url, f"warmup-{i}", text)
        heavy = LongSender(url, args.every, args.long_chars)
        heavy.start()
        probe = LoopProbe(base)
        probe.start()
        per_block = max(1, args.n // args.blocks)
        count = 0
        for _ in range(args.blocks):
            for series, load in ((alone, False), (loaded, True)):
                if load:
                    heavy.running.set()
                    probe.loaded.set()
                    time.sleep(0.3)  # the first long message is under way
                for _ in range(per_block):
                    series.append(say(url, f"other-{count}", SHORT[count % len(SHORT)]))
                    count += 1
                heavy.running.clear()
                probe.loaded.clear()
        heavy.stopped.set()
        probe.stopped.set()
        probe.join(timeout=30)
        heavy.join(timeout=120)

    refused = [ms for status, ms in heavy.huge if status in (413, 0)]
    print(f"date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} cores; "
        f"Python {platform.python_version()}"
    )
    print(f"other person, alone:              {len(alone)} replies, ms {summary(alone)}")
    print(f"other person, with long messages: {len(loaded)} replies, ms {summary(loaded)}")
    what = f"one {args.long_chars:,}-character message" if args.long_chars else "one 1 MB body"
    print(f"  ({what} every {args.every:g} s" if args.every else f"  ({what} back to back", end="")
    print(", each followed by a 1 MB one)" if args.long_chars else ")")
    print(f"event loop (GET /version), alone:  ms {summary(probe.series[False])}")
    print(f"event loop, with long messages:    ms {summary(probe.series[True])}")
    if heavy.long_ms:
        print(
            f"{args.long_chars:,}-character messages:         {len(heavy.long_ms)} replies, "
            f"ms {summary(heavy.long_ms)}"
        )
    print(
        f"1 MB messages: {len(heavy.huge)} sent, {len(refused)} refused (413 or connection "
        f"closed), ms {summary(refused) if refused else '-'}; other answers: "
        f"{sorted({s for s, _ in heavy.huge} - {413, 0}) or 'none'}"
    )


if __name__ == "__main__":
    main()
