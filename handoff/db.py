"""Engine and migrations of the handoff tables (the knowledge base's machinery, own folder)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from bot.kb import db as kb_db
from handoff.schema import VERSION_TABLE

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def migrate(url: str | Engine, revision: str = "head") -> Engine:
    """Upgrade the handoff tables of ``url`` to ``revision``; return the engine."""
    return kb_db.migrate(url, revision, scripts=MIGRATIONS_DIR)


def current_revision(engine: Engine) -> str | None:
    """Return the revision of the handoff tables, or ``None`` before the first migration."""
    return kb_db.current_revision(engine, VERSION_TABLE)
