"""Alembic environment for the knowledge base; the engine comes from :func:`bot.kb.db.migrate`."""

from bot.kb.db import run_migrations
from bot.kb.schema import VERSION_TABLE, metadata

run_migrations(metadata, VERSION_TABLE, "bot kb migrate")
