"""Keep the servers ``bot run`` starts running: a child that dies is started again.

The assistant is two processes, the rasa-sdk action server and the Rasa server. One of them
dying (a crash, the out-of-memory killer, someone's ``kill``) used to stop the other as well,
and nothing brought either back. Here a dead child is logged and restarted after a pause that
doubles with each quick death (1 s, 2 s, 4 s … at most ``MAX_PAUSE_SECONDS``), so a child that
cannot start does not spin; one that ran for ``STABLE_SECONDS`` starts again at 1 s.

Nothing a dead child was doing is lost: a turn waiting on the action server waits for its
restart (``bot.rasa_outages``), and deliveries a dead Rasa was answering are taken over by the
next one when their leases expire (``channels.inbox``).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

FIRST_PAUSE_SECONDS = 1.0
MAX_PAUSE_SECONDS = 30.0
STABLE_SECONDS = 60.0
STOP_SECONDS = 15.0


def _log(line: str) -> None:
    print(f"bot run: {line}", file=sys.stderr, flush=True)


@dataclass
class Child:
    """One server: its name for the log, its command line, and its current process."""

    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    pause: float = FIRST_PAUSE_SECONDS
    restart_at: float | None = None  # set while dead and waiting for its restart


@dataclass
class Supervisor:
    """Starts the children, restarts the dead, stops them all."""

    children: list[Child]
    cwd: Path
    env: dict[str, str]
    log: Callable[[str], None] = _log
    clock: Callable[[], float] = time.monotonic
    _stopping: bool = field(default=False, init=False)

    def start(self) -> None:
        for child in self.children:
            self._start(child)

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(child.command, cwd=self.cwd, env=self.env)
        child.started_at = self.clock()
        child.restart_at = None

    def processes(self) -> list[subprocess.Popen]:
        return [c.process for c in self.children if c.process is not None]

    def check(self) -> None:
        """Notice dead children and restart those whose pause is over."""
        now = self.clock()
        for child in self.children:
            if self._stopping or child.process is None:
                continue
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    self._start(child)
                    self.log(f"restarted the {child.name} (restart {child.restarts})")
                continue
            code = child.process.poll()
            if code is None:
                continue
            if now - child.started_at >= STABLE_SECONDS:
                child.pause = FIRST_PAUSE_SECONDS
            self.log(
                f"the {child.name} stopped (exit code {code}); restarting it in {child.pause:.0f} s"
            )
            child.restart_at = now + child.pause
            child.pause = min(child.pause * 2, MAX_PAUSE_SECONDS)

    def run_forever(self, poll_seconds: float = 0.5) -> NoReturn:
        """Watch the children until interrupted (Ctrl-C, SIGTERM)."""
        while True:
            self.check()
            time.sleep(poll_seconds)

    def stop(self) -> None:
        """Terminate every child, killing those that do not stop in STOP_SECONDS."""
        self._stopping = True
        running = [p for p in self.processes() if p.poll() is None]
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
