"""Benchmark: the dashboard's queries over one year of synthetic traffic on PostgreSQL.

Fills a schema of its own (``monitoring_bench_<random>`` in the database of ``--url``, dropped
afterwards) with one year of turns (default 1,000,000) and mediator tickets (default 20,000),
loaded with COPY, then times each dashboard request: ``monitoring.queries.summary`` (every
figure of the page and of ``api/summary``) for the last 30 days, for one province, for a
quarter and for the whole year, and for the periods counted wholly from the turns, which are
the slowest (30 days with no whole finished month, and the longest such period: two months
less a day at each end), and ``indicators`` (the monthly CSV) for one month. Each is run
``--repeat`` times after one warm-up; the slowest run is reported.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/monitoring_scale.py
        [--turns 1000000] [--tickets 20000] [--url postgresql://root@127.0.0.1:5432/test]

Target (issue 18): every dashboard request under 1 s. The traffic: 16 languages, 6 provinces
and an unknown town on a third of turns, 12 services, 80 FAQ entries, about 8 turns per person
per month, office-hour and night traffic, 10 % fallbacks and 3 % handovers, written in time
order as the event broker appends them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import random
import secrets
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.kb.vocabulary import LANGUAGES, SERVICES  # noqa: E402
from bot.territory import comuni  # noqa: E402
from monitoring import queries, schema  # noqa: E402
from monitoring.events import ROME  # noqa: E402
from monitoring.store import MonitoringStore  # noqa: E402

DEFAULT_URL = "postgresql://root@127.0.0.1:5432/test"
END = dt.date(2026, 11, 30)
DAYS = 365
TARGET_SECONDS = 1.0
TODAY = END + dt.timedelta(days=1)
MID = dt.date(2026, 11, 15)  # the year is over: its last month is finished


def _copy(engine: sa.engine.Engine, table: sa.Table, columns: list[str], rows: io.StringIO) -> None:
    rows.seek(0)
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            cursor.copy_expert(
                f"COPY {table.name} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", rows
            )
        raw.commit()
    finally:
        raw.close()


def fill(engine: sa.engine.Engine, turns: int, tickets: int, seed: int = 18) -> None:
    """Write ``turns`` turns and ``tickets`` tickets spread over the year before ``END``."""
    rng = random.Random(seed)
    towns = [(c.name, c.province) for c in comuni()]
    languages = list(LANGUAGES)
    language_weights = [30, 20, 12, 14, 3, 5, 6, 4, 3, 6, 5, 3, 3, 2, 1, 1]
    services = list(SERVICES)
    channels = ["whatsapp", "telegram", "webchat"]
    start = dt.datetime.combine(END - dt.timedelta(days=DAYS - 1), dt.time(), ROME).timestamp()
    persons_per_month = max(turns // 12 // 8, 1)
    out = io.StringIO()
    # In time order, as the broker appends them: a period's rows sit together on disk.
    for at in sorted(start + rng.random() * DAYS * 86400 for _ in range(turns)):
        local = dt.datetime.fromtimestamp(at, ROME)
        day = local.date()
        week = day - dt.timedelta(days=day.weekday())
        person = f"{local.month:02d}{rng.randrange(persons_per_month):014d}"
        town = rng.choice(towns) if rng.random() < 0.66 else ("", "")
        service = rng.choice(services) if rng.random() < 0.7 else ""
        faq = f"{service}-q{rng.randrange(7)}" if service and rng.random() < 0.4 else ""
        roll = rng.random()
        outcome = "fallback" if roll < 0.10 else "handover" if roll < 0.13 else "answered"
        out_of_hours = local.weekday() > 4 or not 9 <= local.hour < 17
        out.write(
            f"{at},{day},{week},{person},{rng.choice(channels)},"
            f"{rng.choices(languages, language_weights)[0]},ask_x,{service},{faq},"
            f'"{town[0]}",{town[1]},{outcome},{rng.random() < 0.05},{out_of_hours}\n'
        )
    _copy(
        engine,
        schema.turns,
        [
            "at",
            "day",
            "week",
            "person",
            "channel",
            "language",
            "intent",
            "service",
            "faq",
            "comune",
            "province",
            "outcome",
            "low_confidence",
            "out_of_hours",
        ],
        out,
    )
    out = io.StringIO()
    openings = sorted(start + rng.random() * DAYS * 86400 for _ in range(tickets))
    for ticket_id, opened in enumerate(openings, start=1):
        local = dt.datetime.fromtimestamp(opened, ROME)
        wait = rng.expovariate(1 / 900)
        claimed = opened + wait if rng.random() < 0.95 else ""
        closed = opened + wait + rng.expovariate(1 / 1800) if claimed else ""
        rating = rng.choice([1, 2, 3, 4, 4, 5, 5, 5]) if claimed and rng.random() < 0.6 else ""
        out.write(
            f"{ticket_id},{local.date()},{local.month:02d}{rng.randrange(50_000):014d},"
            f"{rng.choice(channels)},{rng.choices(languages, language_weights)[0]},"
            f"{rng.choice(services)},{rng.choice(towns)[1]},request,{opened},{claimed},"
            f"{closed},{rating},{local.weekday() > 4 or not 9 <= local.hour < 17}\n"
        )
    _copy(
        engine,
        schema.tickets,
        [
            "ticket_id",
            "day",
            "person",
            "channel",
            "language",
            "service",
            "province",
            "reason",
            "opened_at",
            "claimed_at",
            "closed_at",
            "rating",
            "out_of_hours",
        ],
        out,
    )
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))


def measure(engine: sa.engine.Engine, repeat: int) -> dict[str, float]:
    """Slowest of ``repeat`` runs (after a warm-up) of each dashboard request, in seconds.

    "Today" is the day after the year, so the last month is finished, as on the dashboard the
    day after; the last 30 days then still come from the turns themselves (a month's rollup
    covers whole months only).
    """
    month = (END.replace(day=1), END)
    requests = {
        "summary, last 30 days, all provinces": lambda: queries.summary(
            engine, END - dt.timedelta(days=29), END, today=TODAY
        ),
        "summary, default period (this month so far: 15 days, from the turns)": lambda: (
            queries.summary(engine, MID.replace(day=1), MID, today=MID)
        ),
        "summary, 30 days to mid-November, before it ended (all from the turns)": lambda: (
            queries.summary(engine, MID - dt.timedelta(days=29), MID, today=MID)
        ),
        "summary, 2 Oct to 29 Nov: 59 days, no whole month (all from the turns)": lambda: (
            queries.summary(engine, dt.date(2026, 10, 2), END - dt.timedelta(days=1), today=TODAY)
        ),
        "summary, last 30 days, province LE": lambda: queries.summary(
            engine, END - dt.timedelta(days=29), END, "LE", today=TODAY
        ),
        "summary, one quarter, all provinces": lambda: queries.summary(
            engine, END - dt.timedelta(days=90), END, today=TODAY
        ),
        "summary, whole year, all provinces": lambda: queries.summary(
            engine, END - dt.timedelta(days=DAYS - 1), END, today=TODAY
        ),
        "indicators (monthly CSV), one month": lambda: queries.indicators(engine, *month),
    }
    results = {}
    for name, request in requests.items():
        request()
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            request()
            times.append(time.perf_counter() - began)
        results[name] = max(times)
    return results


def run(
    url: str, turns: int, tickets: int, repeat: int, name: str | None = None
) -> dict[str, float]:
    """Fill a throwaway schema, measure, drop it; return the slowest time of each request."""
    name = name or f"monitoring_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(url, future=True)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    engine = sa.create_engine(url, future=True, connect_args={"options": f"-csearch_path={name}"})
    try:
        MonitoringStore(engine)  # creates the tables in the schema
        began = time.perf_counter()
        fill(engine, turns, tickets)
        print(
            f"filled {turns:,} turns and {tickets:,} tickets in {time.perf_counter() - began:.1f} s"
        )
        began = time.perf_counter()
        months = queries.rollup_finished_months(engine, today=TODAY)
        print(
            f"monthly rollups of {months} finished months (the daily job, once a month): "
            f"{time.perf_counter() - began:.1f} s"
        )
        return measure(engine, repeat)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def main() -> int:
    """Print the machine, fill, measure; exit 1 if a request took 1 s or more."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=1_000_000)
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--url", default=DEFAULT_URL)
    args = parser.parse_args()
    admin = sa.create_engine(args.url, future=True)
    with admin.connect() as conn:
        version = conn.execute(sa.text("SHOW server_version")).scalar()
    admin.dispose()
    print(f"date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} cores; "
        f"Python {platform.python_version()}; PostgreSQL {version}; load "
        f"{os.getloadavg()[0]:.1f}"
    )
    results = run(args.url, args.turns, args.tickets, args.repeat)
    for name, seconds in results.items():
        flag = "ok" if seconds < TARGET_SECONDS else "OVER 1 s"
        print(f"{name}: {seconds * 1000:.0f} ms ({flag})")
    return 0 if all(s < TARGET_SECONDS for s in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
