"""Start the real assistant (``bot run``) on free loopback ports for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.settings import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    base_url: str
    action_port: int
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_stack(tmp: Path, extra_env: dict[str, str] | None = None) -> Iterator[Stack]:
    """Run ``bot run`` until the web chat address is printed; stop it afterwards."""
    rasa_port, action_port = free_port(), free_port()
    env = dict(os.environ)
    env.update(
        RASA_PORT=str(rasa_port),
        ACTION_PORT=str(action_port),
        DATABASE_URL=f"sqlite:///{tmp / 'tracker.db'}",
        **(extra_env or {}),
    )
    log_path = tmp / "bot-run.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "run"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    stack = Stack(f"http://127.0.0.1:{rasa_port}", action_port, process, log_path)
    try:
        deadline = time.monotonic() + 240
        while "Press Ctrl-C to stop" not in stack.log():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"bot run did not start:\n{stack.log()[-3000:]}")
            time.sleep(0.5)
        yield stack
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def post_json(url: str, payload: dict, timeout: float = 30) -> object:
    import json

    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())
