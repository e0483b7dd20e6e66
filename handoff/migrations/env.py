"""Alembic environment for the handoff tables; the engine comes from :func:`handoff.db.migrate`."""

from alembic import context

from handoff.schema import VERSION_TABLE, metadata

config = context.config


def run_migrations_online() -> None:
    """Migrate through the engine handed over in ``config.attributes``."""
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=VERSION_TABLE,
            # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; use `bot handoff migrate`")
run_migrations_online()
