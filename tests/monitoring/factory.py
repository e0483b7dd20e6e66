"""Rasa event dicts as the tracker store publishes them, and turns written straight to a store."""

from __future__ import annotations

import datetime as dt
from typing import Any

from monitoring.events import ROME, Turn
from monitoring.schema import ANSWERED
from monitoring.store import MonitoringStore

# Tuesday 2026-11-10, 10:00 in Rome: office hours.
OFFICE_TIME = dt.datetime(2026, 11, 10, 10, 0, tzinfo=ROME).timestamp()


def user(
    text: str,
    intent: str,
    confidence: float = 0.95,
    channel: str = "telegram",
    at: float = OFFICE_TIME,
    language: str | None = None,
) -> dict[str, Any]:
    parse: dict[str, Any] = {"intent": {"name": intent, "confidence": confidence}, "text": text}
    if language:
        parse["language"] = {"code": language, "confidence": 0.99, "source": "fasttext"}
    return {
        "event": "user",
        "text": text,
        "timestamp": at,
        "input_channel": channel,
        "parse_data": parse,
    }


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


def bot(response: str) -> dict[str, Any]:
    return {"event": "bot", "text": "…", "metadata": {"utter_action": response}}


def turn(**fields: Any) -> Turn:
    values: dict[str, Any] = dict(
        at=OFFICE_TIME,
        channel="telegram",
        language="it",
        intent="ask_tax_code",
        service="tax_code",
        faq=None,
        comune="Bari",
        province="BA",
        outcome=ANSWERED,
        low_confidence=False,
        out_of_hours=False,
        text="codice fiscale",
    )
    values.update(fields)
    return Turn(**values)


def people(store: MonitoringStore, count: int, prefix: str = "p", **fields: Any) -> None:
    """``count`` different people, one turn each, with ``fields``."""
    for index in range(count):
        store.record(f"{prefix}{index}", turn(**fields))
