"""Engines and schema migrations for the knowledge base.

Migrations are driven from Python (no ``alembic.ini`` at the project root): the script folder is
``bot/kb/migrations`` inside the package, and the version table is ``kb_alembic_version`` so the
knowledge base can share a database with Rasa's tracker store without either stepping on the
other.
"""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.kb.schema import VERSION_TABLE

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _enable_sqlite_foreign_keys(dbapi_connection, _record) -> None:  # noqa: ANN001
    # SQLite ignores FOREIGN KEY clauses unless asked, per connection; PostgreSQL always checks.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str | Engine) -> Engine:
    """Create an engine for ``url`` (an engine passes through); SQLite checks foreign keys.

    Pooled connections are pinged before use, so the first query after a database restart
    does not fail on a connection the server closed (the handoff tables use this engine too).
    ``hide_parameters``: the handoff tables share this engine, and a failed statement must
    not put a mediator's number or a person's words in the log with its error.
    """
    if isinstance(url, Engine):
        return url
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, future=True, pool_pre_ping=True, hide_parameters=True)
        sa.event.listen(engine, "connect", _enable_sqlite_foreign_keys)
        return engine
    kwargs = {}
    if url.startswith("postgresql"):
        # Inserting thousands of text rows one statement at a time would be slow over psycopg2.
        kwargs["executemany_mode"] = "values_plus_batch"
    return sa.create_engine(url, future=True, pool_pre_ping=True, hide_parameters=True, **kwargs)


def alembic_config(engine: Engine, scripts: Path = MIGRATIONS_DIR):  # noqa: ANN201
    """Alembic configuration for a migrations folder (the knowledge base's by default).

    The handoff tables use the same machinery with their own folder (``handoff/db.py``).
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(scripts))
    config.attributes["engine"] = engine
    return config


# Alembic's command context is process-global (module-level proxies it sets and deletes): two
# threads migrating at once, say the relay's first round and a CLI command in one process,
# made one of them fail with KeyError('script'). One migration at a time per process.
_MIGRATING = threading.Lock()


def migrate(url: str | Engine, revision: str = "head", scripts: Path = MIGRATIONS_DIR) -> Engine:
    """Upgrade the tables of ``url`` (the knowledge base's by default) to ``revision``."""
    from alembic import command

    engine = make_engine(url)
    with _MIGRATING:
        command.upgrade(alembic_config(engine, scripts), revision)
    return engine


def current_revision(engine: Engine, version_table: str = VERSION_TABLE) -> str | None:
    """Return the revision the database is at, or ``None`` before the first migration."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": version_table})
        return context.get_current_revision()


def run_migrations(metadata: sa.MetaData, version_table: str, command: str) -> None:
    """Body of an Alembic ``env.py``: migrate through the engine :func:`migrate` handed over.

    Shared by the knowledge base's and the handoff's migrations (``command`` is what to run
    instead of an offline migration, for the error message).
    """
    from alembic import context

    if context.is_offline_mode():
        raise SystemExit(f"offline (SQL script) migrations are not supported; use `{command}`")
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=version_table,
            # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
