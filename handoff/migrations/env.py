"""Alembic environment for the handoff tables; the engine comes from :func:`handoff.db.migrate`."""

from bot.kb.db import run_migrations
from handoff.schema import VERSION_TABLE, metadata

run_migrations(metadata, VERSION_TABLE, "bot handoff migrate")
