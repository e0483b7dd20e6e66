"""``bot report monthly`` and ``bot monitoring purge``: the monitoring's commands."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from bot.settings import VAR_DIR, get_settings

DEFAULT_OUT = VAR_DIR / "reports"  # local state, never committed (.gitignore: var/)


def _store() -> Any:
    from monitoring.store import MonitoringStore

    return MonitoringStore(get_settings().database_url)


def _cmd_monthly(args: argparse.Namespace) -> int:
    from monitoring.report import monthly, previous_month
    from monitoring.web import month_period

    month = args.month or previous_month(dt.date.today())
    try:
        month_period(month)
    except ValueError:
        print(f"error: --month {month!r} is not YYYY-MM", file=sys.stderr)
        return 2
    for path in monthly(_store(), month, Path(args.out)):
        print(path)
    return 0


def _cmd_purge(args: argparse.Namespace) -> int:
    from monitoring.purge import purge

    days = args.days or get_settings().retention_days
    print(json.dumps(purge(_store(), days), sort_keys=True))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``report monthly`` and ``monitoring purge`` to the ``bot`` command line."""
    report = sub.add_parser("report", help="reports for the Region (monitoring)")
    report_sub = report.add_subparsers(dest="report_command", metavar="REPORT", required=True)
    monthly = report_sub.add_parser(
        "monthly", help="CSV of indicators per province, language and service, PNG summary"
    )
    monthly.add_argument("--month", help="YYYY-MM (default: last month)")
    monthly.add_argument("--out", default=str(DEFAULT_OUT), help="folder to write into")
    monthly.set_defaults(func=_cmd_monthly)

    monitoring = sub.add_parser("monitoring", help="the monitoring's data")
    monitoring_sub = monitoring.add_subparsers(
        dest="monitoring_command", metavar="ACTION", required=True
    )
    purge = monitoring_sub.add_parser(
        "purge", help="delete conversations, transcripts and queue texts past retention"
    )
    purge.add_argument("--days", type=int, help="retention in days (default RETENTION_DAYS)")
    purge.set_defaults(func=_cmd_purge)
