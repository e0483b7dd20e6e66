"""The ``bot`` command line: one entry point for operators, editors and developers.

Each command group lives in its own module, on whichever floor owns it, and adds itself through a
``register(subparsers)`` function; this module, in the composition root, is the one place that
knows them all. They are imported only when the parser is built, and heavy imports (Rasa,
SQLAlchemy models, fastText) happen inside the command that needs them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _cmd_run(_: argparse.Namespace) -> int:
    from app.runner import run

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

    # Plain imports, not importlib with names: tests/test_layers.py reads these edges.
    from app import eval_nlu
    from bot import messages_cli
    from bot.kb import cli as kb_cli
    from channels import telegram_cli
    from handoff import cli as handoff_cli
    from monitoring import cli as monitoring_cli

    for module in (kb_cli, messages_cli, eval_nlu, telegram_cli, handoff_cli, monitoring_cli):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command named on the command line and return its exit code."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)
