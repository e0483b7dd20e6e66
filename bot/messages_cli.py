"""``bot messages validate|missing``: the reply catalogue's checks for translators and CI."""

from __future__ import annotations

import argparse

from bot.kb.vocabulary import LANGUAGES


def _cmd_validate(_: argparse.Namespace) -> int:
    from bot.messages import validate

    problems = validate()
    for problem in problems:
        print(problem)
    if not problems:
        print("ok: every translation matches its source in the domain")
    return 1 if problems else 0


def _cmd_missing(args: argparse.Namespace) -> int:
    from bot.messages import missing

    gaps = missing(languages=tuple(args.languages or LANGUAGES))
    for language, names in gaps.items():
        print(f"{language}: {len(names)} missing" + (": " + ", ".join(names) if names else ""))
    return 1 if any(gaps.values()) else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``bot messages`` and its subcommands."""
    parser = subparsers.add_parser("messages", help="reply catalogue (locales/): validate, gaps")
    sub = parser.add_subparsers(dest="messages_command", metavar="MESSAGES_COMMAND", required=True)
    p = sub.add_parser("validate", help="check locales/*.yml against the domain")
    p.set_defaults(func=_cmd_validate)
    p = sub.add_parser("missing", help="replies not yet translated, per language; exit 1 if any")
    p.add_argument("languages", nargs="*", help="language codes (default: all 16)")
    p.set_defaults(func=_cmd_missing)
