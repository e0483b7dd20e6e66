"""``bot run``: start the whole assistant on one machine, with no outside accounts.

It checks what commonly goes wrong before anything starts (a port already taken, a database
URL that cannot be opened, no trained model) and reports it in one line instead of a stack
trace, then supervises two child processes: the rasa-sdk action server and the Rasa server with
the REST channel, the HTTP API and the local web chat page. A child that dies once the
assistant is running is restarted (``app.supervisor``); Ctrl-C stops both.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from app.supervisor import Child, Supervisor
from bot.exposure import exposure_error
from bot.settings import PROJECT_ROOT, VAR_DIR, Settings, get_settings

WEBCHAT_PATH = "/webhooks/webchat/"
DESK_PATH = "/webhooks/desk/"
DASHBOARD_PATH = "/webhooks/monitoring/"


class StartupError(Exception):
    """A condition that stops ``bot run`` before it starts anything; the message is for users."""


def check_port_free(host: str, port: int) -> None:
    """Fail early with a clear line if someone already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise StartupError(
                f"port {port} on {host} is already in use ({exc.strerror}); stop what is "
                f"using it or choose another with RASA_PORT / ACTION_PORT"
            ) from exc


def check_database(url: str) -> None:
    """Open one connection: a bad DATABASE_URL fails here, not in Rasa's endless retry loop."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StartupError(f"DATABASE_URL is not a database URL: {exc}") from exc
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StartupError(
                f"cannot open DATABASE_URL ({url}): cannot create {folder}: {exc.strerror}"
            ) from exc
    try:
        engine = create_engine(
            url, future=True, connect_args=_connect_timeout(parsed), hide_parameters=True
        )
    except (ArgumentError, ImportError, SQLAlchemyError) as exc:
        raise StartupError(f"DATABASE_URL cannot be used: {exc}") from exc
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise StartupError(
            f"cannot open DATABASE_URL ({parsed.render_as_string(hide_password=True)}): {reason}"
        ) from exc
    finally:
        engine.dispose()


def check_redis(url: str) -> None:
    """Reach the lock store's Redis once, so a bad REDIS_URL fails here in one line."""
    from bot.lock_store import redis_lock_store

    try:
        store = redis_lock_store(url)
        store.red.ping()
    except Exception as exc:  # ValueError for the URL, redis errors for the server
        raise StartupError(f"cannot use REDIS_URL: {exc}") from exc


def load_knowledge(url: str) -> None:
    """Bring the knowledge tables up to date with knowledge/ (a no-op when nothing changed)."""
    from bot.kb.db import make_engine
    from bot.kb.load import load

    engine = make_engine(url)
    try:
        result = load(PROJECT_ROOT / "knowledge", engine)
    finally:
        engine.dispose()
    if result.problems:
        first = result.problems[0]
        raise StartupError(
            f"the knowledge files have {len(result.problems)} problem(s), e.g. {first}; "
            f"run 'bot kb validate' for all of them"
        )
    print("knowledge: " + "; ".join(result.summary_lines()), file=sys.stderr)


def _connect_timeout(parsed) -> dict:  # type: ignore[no-untyped-def]
    return {"connect_timeout": 5} if parsed.get_backend_name() == "postgresql" else {}


def _wait_until_up(url: str, processes: list[subprocess.Popen], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise StartupError("a server stopped while starting; see its log above")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise StartupError(f"{url} did not answer within {timeout:.0f} s")


def server_commands(settings: Settings, model: Path) -> tuple[list[str], list[str]]:
    """The action server and Rasa server command lines."""
    python = sys.executable
    actions = [python, "-m", "rasa_sdk", "--actions", "actions", "-p", str(settings.action_port)]
    # Rasa's own CLI, through app.rasa_main for its fix of a Rasa 3.6 slowdown.
    rasa = [python, "-m", "app.rasa_main", "run", "--model", str(model), "--enable-api"]
    rasa += ["--interface", settings.rasa_host, "--port", str(settings.rasa_port)]
    rasa += ["--endpoints", "endpoints.yml", "--credentials", "credentials.yml"]
    # No --auth-token: the command line is visible to every user of the machine (ps). The token
    # reaches Rasa in the environment (RASA_AUTH_TOKEN), which app.rasa_main reads.
    return actions, rasa


def child_environment(settings: Settings) -> dict[str, str]:
    """Environment for both servers: endpoints.yml reads these variables."""
    env = dict(os.environ)
    env.pop("RASA_AUTH_TOKEN", None)
    if settings.rasa_auth_token:
        env["RASA_AUTH_TOKEN"] = settings.rasa_auth_token
    env.update(
        DATABASE_URL=settings.database_url,
        ACTION_ENDPOINT_URL=f"http://127.0.0.1:{settings.action_port}/webhook",
        SANIC_HOST="127.0.0.1",  # rasa-sdk reads it; otherwise it listens on every interface
        PYTHONPATH=str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    return env


def migrate_handoff(url: str) -> None:
    """Create or upgrade the mediator handoff tables once, before two servers race to."""
    from handoff.db import migrate

    migrate(url).dispose()


def run() -> int:
    """Start both servers, print the chat address, and wait for Ctrl-C."""
    from bot.training import ensure_model

    settings = get_settings()
    refused = exposure_error(settings.rasa_host, settings.rasa_auth_token)
    if refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    VAR_DIR.mkdir(exist_ok=True)
    try:
        check_port_free(settings.rasa_host, settings.rasa_port)
        check_port_free("127.0.0.1", settings.action_port)
        check_database(settings.database_url)
        if settings.redis_url:
            check_redis(settings.redis_url)
        load_knowledge(settings.database_url)
        migrate_handoff(settings.database_url)
        model = ensure_model()
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError:
        print("error: training failed; see the output above", file=sys.stderr)
        return 2

    env = child_environment(settings)
    actions_cmd, rasa_cmd = server_commands(settings, model)
    supervisor = Supervisor(
        [Child("action server", actions_cmd), Child("Rasa server", rasa_cmd)], PROJECT_ROOT, env
    )
    supervisor.start()
    stop = supervisor.stop

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        base = f"http://{settings.rasa_host}:{settings.rasa_port}"
        processes = supervisor.processes()
        _wait_until_up(f"http://127.0.0.1:{settings.action_port}/health", processes, 120)
        _wait_until_up(base + "/", processes, 300)
        print(
            f"\nThe assistant is running.\n"
            f"  Web chat:      {base}{WEBCHAT_PATH}\n"
            f"  Mediator desk: {base}{DESK_PATH}\n"
            f"  Dashboard:     {base}{DASHBOARD_PATH}\n"
            f"  REST channel:  POST {base}/webhooks/rest/webhook\n"
            f"  HTTP API:      POST {base}/model/parse\n"
            f"  Actions:       http://127.0.0.1:{settings.action_port}/webhook\n"
            f"Press Ctrl-C to stop.\n",
            flush=True,
        )
        supervisor.run_forever()
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping", file=sys.stderr)
        return 0
    finally:
        stop()
