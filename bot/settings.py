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
    # Files in the hand-off (handoff/media.py): where they are kept, how long, which types are
    # passed on and how big. The size defaults are what every route can still deliver: Twilio
    # takes images up to 5 MB and other WhatsApp media up to 16 MB (Telegram bots download up
    # to 20 MB). Voice notes: WhatsApp's audio/ogg (opus), Telegram's .oga voice (audio/ogg),
    # m4a and mp3.
    media_dir: Path = VAR_DIR / "media"
    media_retention_days: int = 30
    media_max_image_bytes: int = 5_000_000
    media_max_document_bytes: int = 16_000_000
    media_max_voice_bytes: int = 16_000_000
    media_image_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp")
    media_document_types: tuple[str, ...] = (
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    media_voice_types: tuple[str, ...] = (
        "audio/ogg",
        "audio/opus",
        "audio/mpeg",
        "audio/mp4",
        "audio/x-m4a",
        "audio/aac",
        "audio/amr",
    )
    # How long a link to a file lives (Twilio fetches a file sent to WhatsApp from it), and
    # the public address those links start with.
    media_link_minutes: int = 30
    media_public_url: str = "http://127.0.0.1:5005/webhooks/media/"
    # Approved WhatsApp templates (Content SIDs, HX…) for WhatsApp mediators whose 24-hour
    # window is closed: the ticket card and the reminder (channels/whatsapp_templates.py
    # lists their variables). "HX…" for every mediator, or "it:HX…,en:HX…" per language.
    twilio_card_template_sid: str | None = None
    twilio_reminder_template_sid: str | None = None
    # The public URL Twilio posts message status callbacks to (channels/twilio_status.py);
    # by default TWILIO_WEBHOOK_URL with its last part "webhook" replaced by "status".
    twilio_status_callback_url: str | None = None
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


def _types(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list of MIME types (lower case); unset or empty: ``default``."""
    raw = _opt(name)
    if raw is None:
        return default
    return tuple(t.strip().lower() for t in raw.split(",") if t.strip())


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
        telegram_api_base_url=(_opt("TELEGRAM_API_BASE_URL") or "https://api.telegram.org").rstrip(
            "/"
        ),
        pseudonym_secret=_opt("PSEUDONYM_SECRET"),
        telegram_mediator_chat_id=_opt("TELEGRAM_MEDIATOR_CHAT_ID"),
        twilio_handoff_template_sid=_opt("TWILIO_HANDOFF_TEMPLATE_SID"),
        mediator_group_language=_opt("MEDIATOR_GROUP_LANGUAGE") or "it",
        handoff_reminder_minutes=_int("HANDOFF_REMINDER_MINUTES", 10),
        handoff_default_wait_minutes=_int("HANDOFF_DEFAULT_WAIT_MINUTES", 15),
        mediator_desk_token=_opt("MEDIATOR_DESK_TOKEN"),
        mediator_desk_url=_opt("MEDIATOR_DESK_URL")
        or f"http://127.0.0.1:{_int('RASA_PORT', 5005)}/webhooks/desk/",
        media_dir=Path(_opt("MEDIA_DIR") or VAR_DIR / "media"),
        media_retention_days=_positive("MEDIA_RETENTION_DAYS", 30),
        media_max_image_bytes=_positive("MEDIA_MAX_IMAGE_BYTES", 5_000_000),
        media_max_document_bytes=_positive("MEDIA_MAX_DOCUMENT_BYTES", 16_000_000),
        media_max_voice_bytes=_positive("MEDIA_MAX_VOICE_BYTES", 16_000_000),
        media_image_types=_types("MEDIA_IMAGE_TYPES", Settings.media_image_types),
        media_document_types=_types("MEDIA_DOCUMENT_TYPES", Settings.media_document_types),
        media_voice_types=_types("MEDIA_VOICE_TYPES", Settings.media_voice_types),
        media_link_minutes=_positive("MEDIA_LINK_MINUTES", 30),
        media_public_url=_opt("MEDIA_PUBLIC_URL")
        or f"http://127.0.0.1:{_int('RASA_PORT', 5005)}/webhooks/media/",
        twilio_card_template_sid=_opt("TWILIO_CARD_TEMPLATE_SID"),
        twilio_reminder_template_sid=_opt("TWILIO_REMINDER_TEMPLATE_SID"),
        twilio_status_callback_url=_opt("TWILIO_STATUS_CALLBACK_URL"),
        retention_days=_positive("RETENTION_DAYS", 90),
    )
