"""The fault suite runs only when asked for (``make faults``, or ``pytest -m faults``).

It starts the whole assistant twice and cuts its database and Redis for 20 s each: a few
minutes, too long for every ``make test``. The figures of every scenario are printed at the end.
"""

from __future__ import annotations

import pytest

TALLIES: list[str] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "faults" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="fault suite: run it with `make faults`")
    for item in items:
        if item.get_closest_marker("faults"):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if TALLIES:
        terminalreporter.section("fault suite: messages")
        for line in TALLIES:
            terminalreporter.write_line(line)
