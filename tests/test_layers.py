"""The floors hold: every import of every module, read from its source, points down.

``DESIGN.md`` ("Floors") orders the packages: ``bot`` (the ground: settings, database, knowledge
base, NLU, messages) < ``handoff`` (tickets, outbox, relay) < ``actions``, ``channels`` and
``monitoring`` (which never import each other) < ``app`` (the composition root, which may import
everything). Imports are read with ``ast`` from every module, those inside functions included:
a lazy import is still a dependency. Three rules:

- no upward import (nor one between ``actions`` and ``channels``), except from ``app``;
- no cycle between packages;
- no private name (leading underscore) imported, or read off an imported module, across
  packages: make it public on purpose or pass it in.

``KNOWN_VIOLATIONS`` would name a violation tolerated for a while; it is empty. The test fails
on any violation not listed, and on a listed one that is gone (so the list only shrinks).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Higher imports lower; equal levels import only themselves. ``actions`` may import ``handoff``
# (DESIGN.md puts it a floor above): ``actions.handoff`` opens tickets through
# ``handoff.service.Handoff``. Forbidding it takes a rule of its own: a lower level for
# ``actions`` would let ``channels`` import it.
LEVELS = {"bot": 0, "handoff": 1, "actions": 2, "channels": 2, "monitoring": 2, "app": 3}
TOP = "app"
# ``python -m bot``, the brief's second name for the command line (DESIGN.md), runs
# ``bot/__main__.py``: a two-line shim that belongs to the composition root, not to ``bot``.
ENTRY_SHIMS = {"bot.__main__"}

# "kind: importer -> imported name", one per offending import (file:line would churn). Empty
# since 2026-12-08, when the relay began sending through the port of bot/delivery.py and date
# formatting moved to bot/i18n.py; keep it empty.
KNOWN_VIOLATIONS: set[str] = set()


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    line: int
    target: str  # the imported module, dotted
    names: tuple[str, ...]  # names taken from it (``from target import a, b``)

    @property
    def source_package(self) -> str:
        return TOP if self.module in ENTRY_SHIMS else self.module.split(".")[0]

    @property
    def target_package(self) -> str:
        return self.target.split(".")[0]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_files() -> list[Path]:
    return [p for package in LEVELS for p in sorted((ROOT / package).rglob("*.py"))]


def resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute module of a (possibly relative) ``from`` import."""
    if level == 0:
        return target or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def read_imports(
    path: Path, module: str | None = None
) -> tuple[list[Import], list[tuple[str, int, str, str]]]:
    """The imports of one file, and the private attributes it reads off imported modules."""
    module = module or module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    imports: list[Import] = []
    aliases: dict[str, str] = {}  # local name -> module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                imports.append(Import(module, node.lineno, alias.name, ()))
                local = alias.asname or alias.name.split(".")[0]
                aliases[local] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            target = resolve(module, path.name == "__init__.py", node.level, node.module)
            names = tuple(a.name for a in node.names)
            imports.append(Import(module, node.lineno, target, names))
            for alias in node.names:
                # ``from channels import telegram``: ``telegram`` may be a module.
                aliases[alias.asname or alias.name] = f"{target}.{alias.name}"
    private_reads = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and node.value.id in aliases
        ):
            target = aliases[node.value.id]
            private_reads.append((module, node.lineno, target, node.attr))
    return imports, private_reads


def project_imports() -> tuple[list[Import], list[tuple[str, int, str, str]]]:
    imports, private_reads = [], []
    for path in python_files():
        found, reads = read_imports(path)
        imports += [i for i in found if i.target_package in LEVELS]
        private_reads += [r for r in reads if r[2].split(".")[0] in LEVELS]
    return imports, private_reads


def upward(imp: Import) -> bool:
    src, dst = imp.source_package, imp.target_package
    if src == dst or src == TOP:
        return False
    return LEVELS[dst] >= LEVELS[src]


def violations() -> set[str]:
    imports, private_reads = project_imports()
    found = set()
    for imp in imports:
        if upward(imp):
            found.add(f"upward: {imp.module} -> {imp.target}")
        if imp.source_package != imp.target_package:
            for name in imp.names:
                if name.startswith("_") and not name.startswith("__"):
                    found.add(f"private: {imp.module} -> {imp.target}.{name}")
    for module, _, target, attr in private_reads:
        if module.split(".")[0] != target.split(".")[0]:
            found.add(f"private: {module} -> {target}.{attr}")
    for cycle in package_cycles(imports):
        found.add("cycle: " + " -> ".join(cycle))
    return found


def package_cycles(imports: list[Import]) -> list[list[str]]:
    """Each pair of packages that import each other, and longer loops, as sorted paths."""
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in imports:
        if imp.source_package != imp.target_package:
            graph[imp.source_package].add(imp.target_package)
    cycles = []
    for start in sorted(graph):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph[node]):
                if nxt == start:
                    cycles.append(path + [start])
                elif nxt not in path and nxt > start:
                    stack.append((nxt, path + [nxt]))
    return cycles


def test_every_package_is_read() -> None:
    imports, _ = project_imports()
    sources = {i.source_package for i in imports}
    assert sources == set(LEVELS), sources
    # Lazy imports are read too: app.cli imports its command modules inside a function.
    assert any(i.module == "app.cli" and i.target == "handoff" for i in imports)


def test_no_new_violation_of_the_floors() -> None:
    new = sorted(violations() - KNOWN_VIOLATIONS)
    assert not new, "imports that break the floors (DESIGN.md):\n" + "\n".join(new)


def test_known_violations_are_still_there() -> None:
    """A fixed violation leaves the list, so it cannot come back unnoticed."""
    gone = sorted(KNOWN_VIOLATIONS - violations())
    assert not gone, "fixed, remove from KNOWN_VIOLATIONS:\n" + "\n".join(gone)


def test_the_rules_catch_what_they_should(tmp_path: Path) -> None:
    """The checks themselves fail on the three kinds of violation."""
    up = Import("bot.x", 1, "channels.telegram", ("send",))
    private = Import("handoff.relay", 1, "channels.telegram", ("_call",))
    sideways = Import("actions.x", 1, "channels.inbox", ())
    down = Import("channels.inbox", 1, "actions.constants", ())
    assert upward(up) and upward(sideways) and upward(down)
    assert not upward(Import("app.cli", 1, "channels.telegram", ()))
    assert not upward(Import("handoff.gate", 1, "bot.escalation", ()))
    assert package_cycles([up, Import("channels.x", 1, "bot.y", ())]) == [
        ["bot", "channels", "bot"]
    ]
    assert private.names[0].startswith("_")
    source = tmp_path / "mod.py"
    source.write_text("def f():\n    from channels import telegram as t\n    t._call()\n")
    imports, reads = read_imports(source, "handoff.mod")
    assert imports[0].target == "channels" and imports[0].names == ("telegram",)
    assert reads == [("handoff.mod", 3, "channels.telegram", "_call")]
