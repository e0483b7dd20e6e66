"""`bot run` keeps serving: a dead server is restarted, with pauses that grow and reset."""

from __future__ import annotations

import signal
import sys

import pytest

from app import supervisor as supervisor_module
from app.supervisor import Child, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def supervised(tmp_path):
    clock, lines = Clock(), []
    supervisor = Supervisor(
        [Child("action server", SLEEPER), Child("Rasa server", SLEEPER)],
        tmp_path,
        {},
        log=lines.append,
        clock=clock,
    )
    supervisor.start()
    yield supervisor, clock, lines
    supervisor.stop()


def kill(child: Child) -> None:
    assert child.process is not None
    child.process.send_signal(signal.SIGKILL)
    child.process.wait()


def test_a_dead_child_is_restarted_after_a_pause_and_the_other_keeps_running(supervised):
    supervisor, clock, lines = supervised
    actions, rasa = supervisor.children
    rasa_process = rasa.process
    kill(actions)
    supervisor.check()
    assert lines == ["the action server stopped (exit code -9); restarting it in 1 s"]
    clock.now += 0.5
    supervisor.check()
    assert actions.process.poll() is not None  # still pausing
    clock.now += 0.5
    supervisor.check()
    assert actions.process.poll() is None and actions.restarts == 1
    assert lines[-1] == "restarted the action server (restart 1)"
    assert rasa.process is rasa_process and rasa_process.poll() is None


def test_quick_deaths_double_the_pause_and_a_stable_run_resets_it(supervised):
    supervisor, clock, lines = supervised
    rasa = supervisor.children[1]
    pauses = []
    for _ in range(7):
        kill(rasa)
        supervisor.check()
        pauses.append(rasa.restart_at - clock.now)
        clock.now = rasa.restart_at
        supervisor.check()
    assert pauses == [1, 2, 4, 8, 16, 30, 30]
    clock.now += supervisor_module.STABLE_SECONDS
    kill(rasa)
    supervisor.check()
    assert rasa.restart_at - clock.now == 1


def test_stopping_stops_every_child_and_restarts_none(supervised):
    supervisor, clock, lines = supervised
    supervisor.stop()
    assert all(p.poll() is not None for p in supervisor.processes())
    clock.now += 100
    supervisor.check()
    assert lines == [] and all(p.poll() is not None for p in supervisor.processes())
