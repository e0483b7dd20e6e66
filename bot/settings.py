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
    # Input bounds, on every endpoint: characters of one message (longer ones are refused before
    # NLU, whose cost grows with the text) and bytes of one request body (Sanic's own cap).
    max_message_chars: int = 4096
    max_request_bytes: int = 256 * 1024
    # WhatsApp through Twilio: the channel is off unless SID, token and number are all set.
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_whatsapp_number: str | None = None
    twilio_webhook_url: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"
    # Telegram: the channel is off unless both the token and the webhook secret are set.
    telegram_bot_token: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_webhook_url: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    # HMAC key for sender pseudonyms; None means a per-installation key under var/.
    pseudonym_secret: str | None = None
    # Mediator handoff: the Telegram group where ticket cards go (a chat id such as
    # -1001234567890); the approved WhatsApp template (Content SID) that asks a person silent for
    # over 24 hours to reply; the language of texts sent to the group; minutes before an
    # unclaimed ticket is announced again; the wait announced when there is no history yet; the
    # token the local mediator desk asks for when it is not opened from this machine.
    telegram_mediator_chat_id: str | None = None
    twilio_handoff_template_sid: str | None = None
    mediator_group_language: str = "it"
    handoff_reminder_minutes: int = 10
    handoff_default_wait_minutes: int = 15
    mediator_desk_token: str | None = None
    # Where mediators open the desk, for the one-time sign-in links sent to them; by default
    # the local address of `bot run`.
    mediator_desk_url: str = "http://127.0.0.1:5005/webhooks/desk/"
    # Days conversations, transcripts and unanswered-question texts are kept; the scheduled
    # purge (monitoring/purge.py) deletes what is older and keeps anonymous aggregates.
    retention_days: int = 90


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"error: {name}={raw!r} is not a whole number") from exc


def _positive(name: str, default: int) -> int:
    value = _int(name, default)
    if value <= 0:
        raise SystemExit(f"error: {name}={value} must be a positive whole number")
    return value


def _opt(name: str) -> str | None:
    """Read an optional variable: unset and empty both mean "not configured"."""
    return os.environ.get(name, "").strip() or None


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
        max_message_chars=_positive("MAX_MESSAGE_CHARS", 4096),
        max_request_bytes=_positive("MAX_REQUEST_BYTES", 256 * 1024),
        twilio_account_sid=_opt("TWILIO_ACCOUNT_SID"),
        twilio_auth_token=_opt("TWILIO_AUTH_TOKEN"),
        twilio_whatsapp_number=_opt("TWILIO_WHATSAPP_NUMBER"),
        twilio_webhook_url=_opt("TWILIO_WEBHOOK_URL"),
        twilio_api_base_url=(_opt("TWILIO_API_BASE_URL") or "https://api.twilio.com").rstrip("/"),
        telegram_bot_token=_opt("TELEGRAM_BOT_TOKEN"),
        telegram_webhook_secret=_opt("TELEGRAM_WEBHOOK_SECRET"),
        telegram_webhook_url=_opt("TELEGRAM_WEBHOOK_URL"),
        telegram_api_base_url=(
            _opt("TELEGRAM_API_BASE_URL") or "https://api.telegram.org"
        ).rstrip("/"),
        pseudonym_secret=_opt("PSEUDONYM_SECRET"),
        telegram_mediator_chat_id=_opt("TELEGRAM_MEDIATOR_CHAT_ID"),
        twilio_handoff_template_sid=_opt("TWILIO_HANDOFF_TEMPLATE_SID"),
        mediator_group_language=_opt("MEDIATOR_GROUP_LANGUAGE") or "it",
        handoff_reminder_minutes=_int("HANDOFF_REMINDER_MINUTES", 10),
        handoff_default_wait_minutes=_int("HANDOFF_DEFAULT_WAIT_MINUTES", 15),
        mediator_desk_token=_opt("MEDIATOR_DESK_TOKEN"),
        mediator_desk_url=_opt("MEDIATOR_DESK_URL")
        or f"http://127.0.0.1:{_int('RASA_PORT', 5005)}/webhooks/desk/",
        retention_days=_positive("RETENTION_DAYS", 90),
    )
