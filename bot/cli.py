"""The ``bot`` command line: one entry point for operators, editors and developers.

Each command group lives in its own module and adds itself through a ``register(subparsers)``
function listed in ``COMMAND_MODULES``; the modules are imported only when the CLI starts, and
heavy imports (Rasa, SQLAlchemy models, fastText) happen inside the command that needs them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Modules providing ``register(subparsers)``; one per command group.
COMMAND_MODULES: tuple[str, ...] = (
    "bot.kb.cli",
    "bot.messages_cli",
    "bot.eval_nlu",
    "channels.telegram_cli",
    "handoff.cli",
    "monitoring.cli",
)


def _cmd_run(_: argparse.Namespace) -> int:
    from bot.runner import run

    return run()


def _cmd_train(args: argparse.Namespace) -> int:
    import subprocess

    from bot.training import ensure_model

    try:
        print(ensure_model(force=args.force))
    except subprocess.CalledProcessError:
        print("error: training failed; see the output above", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="bot", description="Puglia migrant-services assistant: operate, edit, evaluate."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run_parser = sub.add_parser("run", help="start the assistant locally (Rasa, actions, web chat)")
    run_parser.set_defaults(func=_cmd_run)

    train_parser = sub.add_parser("train", help="train the model if its inputs changed")
    train_parser.add_argument("--force", action="store_true", help="train even if cached")
    train_parser.set_defaults(func=_cmd_train)

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command named on the command line and return its exit code."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)
