"""Throwaway databases on the real PostgreSQL server of every developer and CI machine.

Each test run gets its own database, so tests running at the same time (several developers on
one machine, or pytest workers) never see each other's rows. When PostgreSQL is unreachable the
test is skipped on a developer's machine but fails under CI, where the server always runs.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

POSTGRES_ADMIN_URL = "postgresql://root@127.0.0.1:5432/test"


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """Create ``<prefix>_<random>``, yield its URL, drop it afterwards."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{secrets.token_hex(6)}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL on 127.0.0.1:5432 not reachable: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield f"postgresql://root@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
