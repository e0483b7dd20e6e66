"""The scale benchmark, bounded: a smaller year on the real PostgreSQL, every request < 1 s.

The full run (a million turns, 20,000 tickets) is ``benchmarks/monitoring_scale.py``, with its
figure in ``benchmarks/RESULTS.md``; this keeps its code working and its target in
``make test`` at a size that takes seconds.
"""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa

from benchmarks.monitoring_scale import TARGET_SECONDS, run
from tests.databases import POSTGRES_ADMIN_URL

pytestmark = pytest.mark.postgres


def test_dashboard_requests_over_a_year_of_turns_answer_under_a_second():
    try:
        sa.create_engine(POSTGRES_ADMIN_URL).connect().close()
    except sa.exc.OperationalError as exc:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 not reachable: {exc}")
    name = f"monitoring_bench_test_{secrets.token_hex(4)}"
    results = run(POSTGRES_ADMIN_URL, turns=100_000, tickets=2_000, repeat=1, name=name)
    assert len(results) == 8
    slow = {name: seconds for name, seconds in results.items() if seconds >= TARGET_SECONDS}
    assert not slow, slow
    engine = sa.create_engine(POSTGRES_ADMIN_URL)
    with engine.connect() as conn:  # the benchmark's schema is gone
        left = conn.execute(
            sa.text("SELECT count(*) FROM information_schema.schemata WHERE schema_name = :name"),
            {"name": name},
        ).scalar()
    engine.dispose()
    assert left == 0
