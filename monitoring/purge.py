"""The retention rule: what is older than ``RETENTION_DAYS`` (default 90) is deleted.

Deleted, when older than the cutoff:
- conversations: the events of Rasa's tracker store (table ``events``) by their timestamp (Rasa
  reads a tracker from its latest session start, so an ongoing conversation is unaffected);
- transcripts: mediator conversation lines (``handoff_messages``), and closed tickets closed
  before the cutoff with their history and sent outbox rows;
- the editors' queue texts (``monitoring_unanswered``);
- the keys of months that ended before the cutoff (``monitoring_keys``): the turn and ticket
  rows of those months stay, as anonymous aggregates no one can tie to a person any more.

Kept: ``monitoring_turns`` and ``monitoring_tickets`` (no text, no identifier once their
month's key is gone); ticket facts are synced before any ticket is deleted. Nothing newer than
the cutoff is touched. It runs once a day in the Rasa process (``monitoring.web``, the
dashboard's channel) and on demand with ``bot monitoring purge``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

import sqlalchemy as sa

from monitoring import schema
from monitoring.events import ROME
from monitoring.store import MonitoringStore

logger = logging.getLogger(__name__)

DAY = 24 * 3600
TRACKER_EVENTS = "events"  # Rasa's SQLTrackerStore table


def cutoff_of(now: float, retention_days: int) -> float:
    """The oldest moment kept: what is older than this is past retention."""
    return now - retention_days * DAY


def purge(store: MonitoringStore, retention_days: int, now: float | None = None) -> dict[str, int]:
    """Delete what is past retention; return how many rows of each kind went."""
    from handoff.schema import events as ticket_events
    from handoff.schema import messages, outbox, tickets

    now = time.time() if now is None else now
    cutoff = cutoff_of(now, retention_days)
    store.sync_tickets()
    counts: dict[str, int] = {}
    engine = store.engine
    inspector = sa.inspect(engine)
    with engine.begin() as conn:
        if inspector.has_table(TRACKER_EVENTS):
            rasa_events = sa.table(TRACKER_EVENTS, sa.column("timestamp"))
            counts["conversation_events"] = conn.execute(
                rasa_events.delete().where(rasa_events.c.timestamp < cutoff)
            ).rowcount
        if inspector.has_table(tickets.name):
            old = sa.select(tickets.c.id).where(
                tickets.c.status == "closed", tickets.c.closed_at < cutoff
            )
            counts["transcript_lines"] = conn.execute(
                messages.delete().where(
                    sa.or_(messages.c.at < cutoff, messages.c.ticket_id.in_(old))
                )
            ).rowcount
            counts["ticket_history"] = conn.execute(
                ticket_events.delete().where(ticket_events.c.ticket_id.in_(old))
            ).rowcount
            counts["outbox"] = conn.execute(
                outbox.delete().where(
                    sa.or_(
                        outbox.c.ticket_id.in_(old),
                        sa.and_(outbox.c.state == "sent", outbox.c.created_at < cutoff),
                    )
                )
            ).rowcount
            counts["tickets"] = conn.execute(
                tickets.delete().where(tickets.c.id.in_(old.scalar_subquery()))
            ).rowcount
        counts["queue_texts"] = conn.execute(
            schema.unanswered.delete().where(schema.unanswered.c.at < cutoff)
        ).rowcount
    first_kept = dt.datetime.fromtimestamp(cutoff, ROME).strftime("%Y-%m")
    with engine.connect() as conn:
        months = [
            m for m in conn.execute(sa.select(schema.keys.c.month)).scalars() if m < first_kept
        ]
    counts["month_keys"] = store.forget_keys(months)
    logger.info("retention purge (%d days): %s", retention_days, counts)
    return counts
