"""The floors hold: the handoff sends through its port and borrows nothing from above.

Read from the source with ``ast`` (nothing is imported): ``bot/`` is the ground, ``handoff/``
stands on it, ``channels/`` and ``actions/`` on top, and a floor imports only what is below it.
The modules that wire the application together (the composition root: the CLI, the runner,
Rasa's entry point and the tracker store) are the exception, being moved out of ``bot/``.
A private name (``_call``, ``_locale``) is never imported from another package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLOOR = {"bot": 0, "handoff": 1, "channels": 2, "actions": 2}
# Wiring above every floor, still in bot/ until the composition root gets its own package.
COMPOSITION_ROOT = {"bot/cli.py", "bot/runner.py", "bot/rasa_main.py", "bot/tracker_store.py"}


def _imports(package: str) -> list[tuple[str, int, str, list[str]]]:
    """(file, line, module, names) of every absolute import in ``package``."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(ROOT).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((where, node.lineno, node.module, [a.name for a in node.names]))
            elif isinstance(node, ast.Import):
                found.extend((where, node.lineno, a.name, []) for a in node.names)
    return found


@pytest.mark.parametrize("package", sorted(FLOOR))
def test_no_import_climbs_a_floor(package: str) -> None:
    climbing = [
        f"{where}:{line} imports {module}"
        for where, line, module, _ in _imports(package)
        if where not in COMPOSITION_ROOT
        and (top := module.split(".")[0]) in FLOOR and top != package
        and FLOOR[top] >= FLOOR[package]
    ]
    assert climbing == []


@pytest.mark.parametrize("package", sorted(FLOOR))
def test_no_private_name_crosses_a_package(package: str) -> None:
    private = [
        f"{where}:{line} takes {name} from {module}"
        for where, line, module, names in _imports(package)
        if module.split(".")[0] in FLOOR and module.split(".")[0] != package
        for name in names if name.startswith("_")
    ]
    assert private == []


def test_the_relay_knows_the_port_not_the_platforms() -> None:
    relay = [module for _, _, module, _ in _imports("handoff")
             if module.startswith(("telegram", "twilio", "aiohttp"))]
    assert relay == []
