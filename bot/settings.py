"""The one place where configuration is read from the environment.

Every other module asks :func:`get_settings` instead of reading ``os.environ`` itself, so the
list of variables below is complete and ``.env.example`` can mirror it. Nothing here opens a
connection: engines and clients are created lazily by the modules that use them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"
DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'bot.db'}"


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; see ``.env.example`` for what each variable means."""

    database_url: str
    redis_url: str | None
    rasa_host: str
    rasa_port: int
    action_port: int
    rasa_auth_token: str | None
    model_cache_dir: Path
    log_level: str


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"error: {name}={raw!r} is not a whole number") from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the environment once per process."""
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        redis_url=os.environ.get("REDIS_URL") or None,
        rasa_host=os.environ.get("RASA_HOST") or "127.0.0.1",
        rasa_port=_int("RASA_PORT", 5005),
        action_port=_int("ACTION_PORT", 5055),
        rasa_auth_token=os.environ.get("RASA_AUTH_TOKEN") or None,
        model_cache_dir=Path(
            os.environ.get("MODEL_CACHE_DIR") or cache_home / "puglia-assistant" / "models"
        ),
        log_level=os.environ.get("LOG_LEVEL") or "INFO",
    )
