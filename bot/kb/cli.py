"""``bot kb ...``: the editors' and operators' commands for the knowledge base.

Exit codes: 0 when the command did what was asked, 1 when the files (or the CSV) have problems —
then one ``file:line: what is wrong`` line per problem goes to stderr and nothing is written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.settings import PROJECT_ROOT

DEFAULT_PATH = PROJECT_ROOT / "knowledge"


def _print_problems(problems: list) -> int:
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(problems)} problem(s); nothing was written", file=sys.stderr)
    return 1


def _database_url(args: argparse.Namespace) -> str:
    from bot.settings import get_settings

    return getattr(args, "database_url", None) or get_settings().database_url


def _cmd_validate(args: argparse.Namespace) -> int:
    from bot.kb.merge import read_merged

    merged, problems = read_merged(args.path)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    content = merged.content
    print(
        f"ok: {len(content.offices)} offices, {len(content.procedures)} procedures, "
        f"{len(content.services)} services, {len(content.numbers)} emergency numbers, "
        f"{len(content.help)} safety help, {len(content.faq)} FAQ entries, "
        f"{len(content.aliases)} comune aliases"
    )
    for line in merged.summary_lines():
        print(line)
    return 0


def _cmd_migrate(args: argparse.Namespace) -> int:
    from bot.kb.db import current_revision, migrate

    engine = migrate(_database_url(args))
    print(f"knowledge base tables at revision {current_revision(engine)}")
    return 0


def _cmd_load(args: argparse.Namespace) -> int:
    from bot.kb.db import make_engine
    from bot.kb.load import load

    result = load(args.path, make_engine(_database_url(args)))
    if result.problems:
        return _print_problems(result.problems)
    print("\n".join(result.summary_lines() + result.reference_lines()))
    return 0


def _cmd_reference(args: argparse.Namespace) -> int:
    from bot.kb.imports import format_import_report, import_report
    from bot.kb.merge import read_merged

    merged, problems = read_merged(args.path)
    if problems:
        return _print_problems(problems)
    report = import_report(merged)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(format_import_report(report))
    return 0


def _cmd_review(args: argparse.Namespace) -> int:
    import datetime as dt

    from bot.kb.review import as_json, format_queue, review

    today = dt.date.fromisoformat(args.today) if args.today else None
    items, problems = review(args.path, today)
    if problems:
        return _print_problems(problems)
    shown = items if args.limit <= 0 else items[: args.limit]
    if args.json:
        print(json.dumps(as_json(shown), indent=2, ensure_ascii=False))
    else:
        print(format_queue(shown, len(items)))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from bot.kb.db import make_engine, migrate
    from bot.kb.report import build_report, format_report

    if args.path is not None:
        # Report on files without touching DATABASE_URL: load them into a private SQLite.
        import sqlalchemy as sa

        from bot.kb.load import load

        engine = make_engine(
            sa.create_engine("sqlite://", future=True, poolclass=sa.pool.StaticPool)
        )
        result = load(args.path, engine)
        if result.problems:
            return _print_problems(result.problems)
    else:
        engine = migrate(_database_url(args))
    report = build_report(engine)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(format_report(report))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from bot.kb.translate import export

    if args.out is None:
        problems = export(args.path, args.lang, sys.stdout)
    else:
        with args.out.open("w", encoding="utf-8", newline="") as out:
            problems = export(args.path, args.lang, out)
    if problems:
        return _print_problems(problems)
    if args.out is not None:
        print(f"wrote {args.out}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from bot.kb.translate import import_csv

    result = import_csv(args.path, args.file, args.lang)
    if result.problems:
        return _print_problems(result.problems)
    print(
        f"{result.changed_texts} text(s) changed in {len(result.changed_files)} file(s)"
        + "".join(f"\n  {f}" for f in result.changed_files)
    )
    return 0


def _language(value: str) -> str:
    from bot.kb.vocabulary import LANGUAGES

    if value not in LANGUAGES or value == "it":
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a language to translate into: one of {' '.join(LANGUAGES[1:])}"
        )
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``bot kb`` and its subcommands."""
    kb = subparsers.add_parser("kb", help="knowledge base: validate, load, report, translate")
    sub = kb.add_subparsers(dest="kb_command", metavar="KB_COMMAND", required=True)

    def with_path(parser: argparse.ArgumentParser, default: Path | None = DEFAULT_PATH) -> None:
        parser.add_argument(
            "--path",
            type=Path,
            default=default,
            help=f"knowledge folder (default: {default or 'none'})",
        )

    p = sub.add_parser("validate", help="check the knowledge files; exit 1 listing problems")
    with_path(p)
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("migrate", help="upgrade the knowledge tables of DATABASE_URL")
    p.set_defaults(func=_cmd_migrate)

    p = sub.add_parser("load", help="validate, then make DATABASE_URL match the files")
    with_path(p)
    p.set_defaults(func=_cmd_load)

    p = sub.add_parser(
        "reference", help="what the public registers gave, and what was skipped and why"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    with_path(p)
    p.description = (
        "The importer's report on knowledge/reference/ (the registers are merged "
        "into the offices by every validate and load; nothing is written)."
    )
    p.set_defaults(func=_cmd_reference)

    p = sub.add_parser(
        "review", help="the editors' queue: what to check next, most important first"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--limit", type=int, default=25, help="items shown (0: all; default 25)")
    p.add_argument("--today", default=None, help=argparse.SUPPRESS)
    with_path(p)
    p.set_defaults(func=_cmd_review)

    p = sub.add_parser("report", help="coverage, translations, stale and unverified records")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    with_path(p, default=None)
    p.description = (
        "Reports on the database (DATABASE_URL); with --path, on those files "
        "instead, without touching the database."
    )
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("export", help="texts of one language to a CSV for translators")
    p.add_argument("--lang", type=_language, required=True)
    p.add_argument("--out", type=Path, default=None, help="CSV file (default: stdout)")
    with_path(p)
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("import", help="write a translated CSV back into the knowledge files")
    p.add_argument("file", type=Path)
    p.add_argument("--lang", type=_language, required=True)
    with_path(p)
    p.set_defaults(func=_cmd_import)
