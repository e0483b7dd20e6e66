"""The monitoring dashboard and its JSON at ``/webhooks/monitoring/``, in the Rasa process.

A Rasa input channel (like the mediator desk) only because that is how ``make run`` serves a
page next to the desk without another server; people never reach the bot through it.

Access follows the desk's rule, and is the desk's code: ``credentials.yml`` names the check
(``access: channels.desk.access_error``) and this channel calls it with the request's peer,
headers and ``MEDIATOR_DESK_TOKEN``: from this machine no token, from elsewhere
``Authorization: Bearer <MEDIATOR_DESK_TOKEN>``, and without that variable nothing. The check
is named in the configuration, not imported, because this package stands below the channels;
with no check configured every request is refused (403).

The page itself holds no figures: its script asks ``api/view`` (an HTML fragment whose charts
are SVG drawn on the server, ``monitoring.charts``) with the token the user typed, if any, so
the figures are behind the same rule as the JSON.

=======  ===============================================  ====================================
method   path under ``/webhooks/monitoring/``             answer
=======  ===============================================  ====================================
GET      ``api/summary?from=&to=&province=``              every figure (``monitoring.queries``)
GET      ``api/view?from=&to=&province=``                 the same, as HTML with SVG charts
GET      ``api/unanswered?from=&to=&language=``           the editors' queue, groups with a
                                                          YAML draft each
GET      ``api/indicators?month=2026-11``                 the rows of the monthly CSV
=======  ===============================================  ====================================

Dates are Europe/Rome days, both ends included. The default period is the current month so
far: the Region reports by month, and finished months are read from their rollups, so only the
days of the current month are counted from the turns (a 30-day window across two unfinished
months is the slowest request: ``benchmarks/RESULTS.md``).
The daily job starts here too, with the server: the retention purge (``monitoring.purge``)
and the monthly rollups of finished months (``monitoring.queries.rollup``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import logging
from collections.abc import Awaitable, Callable
from html import escape
from importlib import resources
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import Settings, get_settings
from bot.territory import PROVINCES
from monitoring import charts, queries, unanswered
from monitoring.events import ROME
from monitoring.purge import purge
from monitoring.store import MonitoringStore

logger = logging.getLogger(__name__)

MAX_DAYS = 366
PURGE_EVERY_SECONDS = 24 * 3600
PURGE_FIRST_AFTER_SECONDS = 60


class RequestError(Exception):
    """A request with wrong parameters: a JSON 400."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def period(args: Any, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """``from`` and ``to`` of a request (ISO dates), by default this month so far."""
    today = today or dt.datetime.now(ROME).date()
    try:
        end = dt.date.fromisoformat(args.get("to")) if args.get("to") else today
        start = dt.date.fromisoformat(args.get("from")) if args.get("from") else end.replace(day=1)
    except ValueError as exc:
        raise RequestError(400, "bad_date", "Dates are YYYY-MM-DD.") from exc
    if start > end or (end - start).days >= MAX_DAYS:
        raise RequestError(400, "bad_period", f"From must not be after to, within {MAX_DAYS} days.")
    return start, end


def province_arg(args: Any) -> str | None:
    """The ``province`` of a request, a plate code ("LE"), or None for all."""
    value = (args.get("province") or "").strip().upper()
    if value and value not in PROVINCES:
        raise RequestError(400, "bad_province", f"Province is one of {', '.join(PROVINCES)}.")
    return value or None


def month_period(month: str) -> tuple[dt.date, dt.date]:
    """First and last day of "YYYY-MM"; ValueError if it is not a month."""
    first = dt.datetime.strptime(month, "%Y-%m").date()
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def _figure(value: Any) -> str:
    return "&lt; 5 people" if value is None else escape(str(value))


def _share(value: float | None) -> str:
    return "hidden" if value is None else f"{value * 100:.1f}%"


def render_view(figures: dict[str, Any]) -> str:
    """The dashboard's body for one period: headline figures, tables and SVG charts."""
    h = figures["handoff"]
    p = figures["period"]
    province = PROVINCES.get(p["province"] or "", "all provinces")
    shares = {r["value"]: r["share"] for r in figures["outcomes"]["rows"]}

    def cells(key: str, title: str) -> str:
        block = figures[key]
        rows = [(str(r["value"]), r["people"]) for r in block["rows"]]
        hidden = block["hidden_cells"]
        note = (
            f'<p class="hidden-note">{hidden} more with fewer than 5 people</p>' if hidden else ""
        )
        return (
            f'<section class="panel" id="{key}"><h2>{escape(title)} (people)</h2>'
            f"{charts.bars(title, rows)}{note}</section>"
        )

    waits = "".join(
        f"<tr><th>{label}</th><td>{_figure(w['tickets'])}</td><td>{_figure(w['p50_minutes'])}"
        f"</td><td>{_figure(w['p90_minutes'])}</td></tr>"
        for label, w in (
            ("all", h["wait_all"]),
            ("opened in office hours", h["wait_office_hours"]),
            ("opened out of office hours", h["wait_out_of_hours"]),
            ("time to close, all tickets", h["time_to_close"]),
        )
    )
    ratings = h["ratings"]
    weeks = figures["weeks"]
    return "".join(
        [
            f'<p id="period">{escape(p["from"])} to {escape(p["to"])}, {escape(province)}. '
            "Figures of fewer than 5 people are hidden. People are counted once per calendar "
            "month.</p>",
            '<table id="headline"><tr>',
            "<th>Conversations</th>",
            f'<td id="conversations">{_figure(figures["conversations"])}</td>',
            f'<th>People reached</th><td id="people">{_figure(figures["people"])}</td>',
            f'<th>Messages</th><td id="turns">{_figure(figures["turns"])}</td></tr><tr>',
            f'<th>Answered</th><td id="answered">{_share(shares.get("answered"))}</td>',
            f'<th>Fell back</th><td id="fallback">{_share(shares.get("fallback"))}</td>',
            f'<th>Handed over</th><td id="handover">{_share(shares.get("handover"))}</td></tr><tr>',
            f'<th>Out of office hours</th><td id="out-of-hours">'
            f"{_share(figures['out_of_hours']['share'])}</td>",
            f'<th>Tickets</th><td id="tickets">{_figure(h["tickets"])}</td>',
            f'<th>Mean rating</th><td id="rating">{_figure(ratings["mean"])}</td></tr></table>',
            cells("services", "Top services"),
            cells("faq", "Top FAQ entries"),
            cells("languages", "Languages"),
            cells("provinces", "Provinces"),
            cells("channels", "Channels"),
            '<section class="panel" id="outcomes"><h2>Answered, fell back, handed over (messages)'
            "</h2>"
            + charts.bars(
                "Outcomes", [(str(r["value"]), r["turns"]) for r in figures["outcomes"]["rows"]]
            )
            + "</section>",
            '<section class="panel" id="waits">'
            "<h2>Wait for a mediator, and time to close (minutes)</h2>"
            "<table><tr><th></th><th>tickets</th><th>p50</th><th>p90</th></tr>"
            f"{waits}</table></section>",
            '<section class="panel" id="ratings"><h2>Ratings</h2>'
            + charts.bars("Ratings", [(f"{k} ★", v) for k, v in ratings["distribution"].items()])
            + "</section>",
            '<section class="panel wide" id="weeks"><h2>People by week</h2>'
            + charts.columns("People by week", [(w["week"], w["people"]) for w in weeks])
            + "</section>",
        ]
    )


class DashboardInput(InputChannel):
    """The Region's dashboard and the editors' queue; not a way to reach the bot."""

    @classmethod
    def name(cls) -> str:
        return "monitoring"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        path = (credentials or {}).get("access")
        if not path:
            return cls(access=None)
        module, _, name = str(path).rpartition(".")
        return cls(access=getattr(importlib.import_module(module), name))

    def __init__(
        self,
        access: Callable[..., Any] | None = None,
        store: MonitoringStore | None = None,
        settings: Settings | None = None,
    ):
        self.access = access
        self._store = store
        self._settings = settings
        self._purger: asyncio.Task[None] | None = None

    @property
    def settings(self) -> Settings:
        return self._settings or get_settings()

    @property
    def store(self) -> MonitoringStore:
        if self._store is None:
            self._store = MonitoringStore(self.settings.database_url)
        return self._store

    def _refused(self, request: Request) -> HTTPResponse | None:
        if self.access is None:
            return response.json(
                {
                    "error": "forbidden",
                    "message": "No access rule is configured for the dashboard (credentials.yml).",
                },
                403,
            )
        error = self.access(request.ip, request.headers, self.settings.mediator_desk_token)
        if error is None:
            return None
        return response.json({"error": error.code, "message": error.message}, error.status)

    async def _purge_daily(self) -> None:
        await asyncio.sleep(PURGE_FIRST_AFTER_SECONDS)
        while True:
            try:
                await asyncio.to_thread(purge, self.store, self.settings.retention_days)
                await asyncio.to_thread(queries.rollup_finished_months, self.store.engine)
            except Exception:
                logger.exception("monitoring: the retention purge failed; retrying tomorrow")
            await asyncio.sleep(PURGE_EVERY_SECONDS)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        page = resources.files("monitoring").joinpath("static/dashboard.html").read_text("utf-8")
        board = Blueprint("monitoring_dashboard", __name__)

        @board.listener("after_server_start")
        async def start_purge(app: Any, loop: Any) -> None:
            self._purger = asyncio.create_task(self._purge_daily())

        @board.listener("before_server_stop")
        async def stop_purge(app: Any, loop: Any) -> None:
            if self._purger is not None:
                self._purger.cancel()

        @board.route("/", methods=["GET"])
        async def dashboard_page(_: Request) -> HTTPResponse:
            return response.html(page, headers={"Cache-Control": "no-store"})

        def api(path: str) -> Callable[..., Any]:
            def register(handler: Callable[[Request], Any]) -> Callable[..., Any]:
                async def route(request: Request) -> HTTPResponse:
                    refused = self._refused(request)
                    if refused is not None:
                        return refused
                    try:
                        return await asyncio.to_thread(handler, request)
                    except RequestError as exc:
                        return response.json(
                            {"error": exc.code, "message": exc.message}, exc.status
                        )
                    except Exception:
                        logger.exception("monitoring: %s failed", path)
                        return response.json(
                            {
                                "error": "unavailable",
                                "message": "The figures could not be read now.",
                            },
                            503,
                        )

                route.__name__ = f"monitoring_{handler.__name__}"
                board.add_route(route, f"/api/{path}", methods=["GET"])
                return handler

            return register

        @api("summary")
        def summary(request: Request) -> HTTPResponse:
            return response.json(self._summary(request), headers={"Cache-Control": "no-store"})

        @api("view")
        def view(request: Request) -> HTTPResponse:
            return response.html(
                render_view(self._summary(request)), headers={"Cache-Control": "no-store"}
            )

        @api("unanswered")
        def unanswered_queue(request: Request) -> HTTPResponse:
            start, end = period(request.args)
            language = (request.args.get("language") or "").strip() or None
            groups = unanswered.queue(self.store.engine, start, end, language)
            for group in groups:
                group["draft"] = unanswered.draft_yaml(group)
            return response.json(
                {"period": {"from": start.isoformat(), "to": end.isoformat()}, "groups": groups},
                headers={"Cache-Control": "no-store"},
            )

        @api("indicators")
        def indicator_rows(request: Request) -> HTTPResponse:
            try:
                start, end = month_period(request.args.get("month") or "")
            except ValueError as exc:
                raise RequestError(400, "bad_month", "month is YYYY-MM.") from exc
            return response.json(
                {
                    "month": start.strftime("%Y-%m"),
                    "rows": queries.indicators(self.store.engine, start, end),
                }
            )

        return board

    def _summary(self, request: Request) -> dict[str, Any]:
        start, end = period(request.args)
        province = province_arg(request.args)
        self.store.sync_tickets()
        return queries.summary(self.store.engine, start, end, province)
