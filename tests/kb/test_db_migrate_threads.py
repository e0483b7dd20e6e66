"""Two threads of one process migrating at once both succeed (Alembic's context is global)."""

from __future__ import annotations

import threading
from pathlib import Path

from bot.kb import db


def test_concurrent_migrations_in_one_process_do_not_collide(tmp_path: Path) -> None:
    from handoff.db import MIGRATIONS_DIR as HANDOFF_MIGRATIONS

    errors: list[BaseException] = []

    def run(name: str, scripts: Path) -> None:
        try:
            for i in range(5):
                db.migrate(f"sqlite:///{tmp_path / f'{name}-{i}.db'}", scripts=scripts)
        except BaseException as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=("kb", db.MIGRATIONS_DIR)),
        threading.Thread(target=run, args=("handoff", HANDOFF_MIGRATIONS)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
