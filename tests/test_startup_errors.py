"""Bad start-up conditions give one clear line, not a stack trace."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from tests.stack import free_port


def bot_run(env_overrides: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, RASA_PORT=str(free_port()), ACTION_PORT=str(free_port()))
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-m", "app", "run"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_clear_line(result: subprocess.CompletedProcess[str], start: str) -> None:
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(start), lines[0]


def test_port_already_in_use() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = bot_run({"RASA_PORT": str(port)})
    assert_one_clear_line(result, f"error: port {port} on 127.0.0.1 is already in use")


@pytest.mark.parametrize(
    ("url", "start"),
    [
        ("not a url", "error: DATABASE_URL is not a database URL"),
        ("nosuchdb://somewhere/x", "error: DATABASE_URL cannot be used"),
        ("postgresql://root@127.0.0.1:1/nothing", "error: cannot open DATABASE_URL"),
        ("sqlite:////proc/no/such/dir/bot.db", "error: cannot open DATABASE_URL"),
    ],
)
def test_unreadable_database_url(url: str, start: str) -> None:
    assert_one_clear_line(bot_run({"DATABASE_URL": url}), start)


def test_bootstrap_without_python_310_names_the_fix(tmp_path: Path) -> None:
    for name in ("requirements.lock", "pyproject.toml"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    (tmp_path / "scripts").mkdir()
    shutil.copy(PROJECT_ROOT / "scripts" / "bootstrap.sh", tmp_path / "scripts" / "bootstrap.sh")
    # Only the system interpreters (no pyenv, no python3.10) are on this PATH.
    bare_bin = tmp_path / "bin"
    bare_bin.mkdir()
    for tool in ("bash", "cat", "cut", "sha256sum", "dirname", "python3"):
        found = shutil.which(tool, path="/usr/bin:/bin")
        if found:
            (bare_bin / tool).symlink_to(found)
    if (bare_bin / "python3").exists():
        version = subprocess.run(
            [str(bare_bin / "python3"), "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
        ).stdout
        if "(3, 10)" in version:
            pytest.skip("the system python3 is 3.10 here: nothing to refuse")
    result = subprocess.run(
        ["bash", "scripts/bootstrap.sh"],
        cwd=tmp_path,
        env={"PATH": str(bare_bin), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Python 3.10 not found" in result.stderr
    assert "pyenv install 3.10" in result.stderr
    assert not (tmp_path / ".venv").exists()


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "redis://127.0.0.1:1/0"])
def test_unusable_redis_url(url: str) -> None:
    assert_one_clear_line(bot_run({"REDIS_URL": url}), "error: cannot use REDIS_URL")


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_an_exposed_api_without_a_token_does_not_start(host: str) -> None:
    env = {"RASA_HOST": host, "RASA_AUTH_TOKEN": ""}
    assert_one_clear_line(bot_run(env), f"error: RASA_HOST={host} is not a loopback address")
