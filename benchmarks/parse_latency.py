"""p95 latency of POST /model/parse, the NLU step every incoming message goes through.

Starts ``rasa run --enable-api`` on a free loopback port with the trained model
(``bot.training.model_path()``, or ``--model``), or measures a server you give with ``--url``.
Requests are sent one at a time (latency, not throughput) over a mix of short and long messages
in several scripts, after a warm-up; prints the machine, the date and the percentiles.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/parse_latency.py [--requests 400] [--url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MESSAGES = [
    "ciao",
    "ok",
    "il permesso di soggiorno è scaduto, cosa devo fare?",
    "where is the questura in Bari?",
    "a che ora apre l'anagrafe di Nardò",
    "je cherche un avocat gratuit à Foggia",
    "necesito el codice fiscale",
    "أين الكويستورا في فودجا؟",
    "Дуже дякую",
    "мне нужен врач в Таранто",
    "我需要医生",
    "আমার ডাক্তার দরকার",
    "ਮੈਨੂੰ ਕੰਮ ਚਾਹੀਦਾ ਹੈ",
    "mujhe Lecce mein naukri chahiye",
    "Caut un avocat",
    "kam nevoje per leje qendrimi ne Brindisi",
    "👍",
    "voglio parlare con un mediatore",
    "lavoro nei campi a Cerignola e il padrone non mi paga da tre mesi, ho paura",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(url: str, text: str, timeout: float = 30) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps({"text": text}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def _wait_ready(base: str, proc: subprocess.Popen | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"error: rasa exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/status", timeout=5) as response:
                if json.loads(response.read()).get("model_file"):
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            pass
        time.sleep(1)
    raise SystemExit(f"error: {base} not ready after {timeout:.0f} s")


def main() -> int:
    """Run the benchmark; exit code 0 when the p95 budget is met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="base URL of a running Rasa server with --enable-api")
    parser.add_argument("--model", help="model archive (default: bot.training.model_path())")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--budget-ms", type=float, default=50.0)
    args = parser.parse_args()

    from app.eval_nlu import machine

    proc = None
    log = None
    if args.url:
        base = args.url.rstrip("/")
    else:
        from bot.training import model_path

        model = Path(args.model) if args.model else model_path()
        if not model.exists():
            print(f"error: no model at {model}; run 'make train' first", file=sys.stderr)
            return 2
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        log = tempfile.NamedTemporaryFile("w+", prefix="rasa-bench-", suffix=".log", delete=False)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rasa",
                "run",
                "--enable-api",
                "-i",
                "127.0.0.1",
                "-p",
                str(port),
                "-m",
                str(model),
                "--endpoints",
                os.devnull,
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    try:
        _wait_ready(base, proc, timeout=300)
        url = f"{base}/model/parse"
        for text in MESSAGES * 2:  # warm-up: first calls build graphs and caches
            _post(url, text)
        timings = []
        for i in range(args.requests):
            text = MESSAGES[i % len(MESSAGES)]
            started = time.perf_counter()
            result = _post(url, text)
            timings.append((time.perf_counter() - started) * 1000)
            assert "language" in result, "parse result lacks the language key"
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[int(0.95 * (len(timings) - 1))]
    p99 = timings[int(0.99 * (len(timings) - 1))]
    print(f"date: {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"machine: {machine()}")
    print(f"server: {base} ({'given' if args.url else 'started by the benchmark'})")
    print(
        f"requests: {len(timings)} sequential POST /model/parse, {len(MESSAGES)} distinct messages"
    )
    print(f"latency ms: p50 {p50:.1f}  p95 {p95:.1f}  p99 {p99:.1f}  max {timings[-1]:.1f}")
    verdict = "OK" if p95 <= args.budget_ms else "OVER BUDGET"
    print(f"p95 budget {args.budget_ms:.0f} ms: {verdict}")
    return 0 if p95 <= args.budget_ms else 1


if __name__ == "__main__":
    sys.exit(main())
