from __future__ import annotations

import pytest

from monitoring.store import MonitoringStore


@pytest.fixture
def store(tmp_path):
    """Monitoring tables in a SQLite file of their own."""
    made = MonitoringStore(f"sqlite:///{tmp_path / 'monitoring.db'}")
    yield made
    made.engine.dispose()
