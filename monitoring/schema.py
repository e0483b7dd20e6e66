"""Tables of the monitoring (SQLAlchemy Core), beside Rasa's, the channels' and the handoff's.

Why tables of our own rather than reading Rasa's ``events`` table at query time: a year of
traffic is a million turns, and turning raw tracker events into "which service, which province,
answered or not" means replaying every conversation; the dashboard must answer in under a
second. So each turn is reduced once, when it happens (``monitoring.broker``), to one narrow row
with no message text, and the queries group those rows.

- ``monitoring_keys``: one random key per calendar month. Person ids in the other tables are
  HMACs of the sender id under the key of the month the row belongs to, so a person is counted
  once per month. The purge deletes the keys of months past retention: the rows stay countable
  but nobody, not even with the sender id, can link them to a person any more.
- ``monitoring_turns``: one row per message a person sent to the assistant: channel, language,
  intent, service, FAQ entry, comune and province when known, outcome (``answered``,
  ``fallback``, ``handover``), low confidence, out of office hours.
- ``monitoring_tickets``: the facts of each mediator ticket (times, rating, language, province,
  service), copied from ``handoff_tickets`` by ``monitoring.store.MonitoringStore.sync_tickets``
  so that they outlive the tickets the purge deletes.
- ``monitoring_monthly``: turns and people per month, province and value of each dimension
  (``monitoring.queries``), made once a month is over, so a year on the dashboard reads twelve
  small sets of rows instead of a million turns. Person ids are per month, so people add up
  across months exactly as they are defined.
- ``monitoring_unanswered``: the editors' queue: the scrubbed text of questions that fell back
  or were answered with low confidence, deleted after the retention period.

Created with ``create_all`` on first use (new tables only, no column of theirs changes yet); a
change to a column will need an Alembic chain of its own, as the handoff tables have.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "pk": "pk_%(table_name)s",
    }
)

# Outcomes of a turn.
ANSWERED = "answered"
FALLBACK = "fallback"
HANDOVER = "handover"
OUTCOMES = (ANSWERED, FALLBACK, HANDOVER)

keys = sa.Table(
    "monitoring_keys",
    metadata,
    sa.Column("month", sa.String(7), primary_key=True),  # "2026-11"
    sa.Column("key", sa.String(64), nullable=False),
)

turns = sa.Table(
    "monitoring_turns",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("day", sa.Date, nullable=False),  # Europe/Rome
    sa.Column("week", sa.Date, nullable=False),  # the Monday of ``day``: weekly trends
    sa.Column("person", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("language", sa.String(8), nullable=True),
    sa.Column("intent", sa.String(60), nullable=True),
    sa.Column("service", sa.String(40), nullable=True),
    sa.Column("faq", sa.String(80), nullable=True),
    sa.Column("comune", sa.String(80), nullable=True),
    sa.Column("province", sa.String(4), nullable=True),
    sa.Column("outcome", sa.String(10), nullable=False),
    sa.Column("low_confidence", sa.Boolean, nullable=False),
    sa.Column("out_of_hours", sa.Boolean, nullable=False),
)
sa.Index("ix_monitoring_turns_day_province", turns.c.day, turns.c.province)

tickets = sa.Table(
    "monitoring_tickets",
    metadata,
    sa.Column("ticket_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("day", sa.Date, nullable=False),  # opened, Europe/Rome
    sa.Column("person", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("service", sa.String(40), nullable=True),
    sa.Column("province", sa.String(4), nullable=True),
    sa.Column("reason", sa.String(16), nullable=False),
    sa.Column("opened_at", sa.Float, nullable=False),
    sa.Column("claimed_at", sa.Float, nullable=True),
    sa.Column("closed_at", sa.Float, nullable=True),
    sa.Column("rating", sa.Integer, nullable=True),
    sa.Column("out_of_hours", sa.Boolean, nullable=False),
)
sa.Index("ix_monitoring_tickets_day_province", tickets.c.day, tickets.c.province)

monthly = sa.Table(
    "monitoring_monthly",
    metadata,
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("province", sa.String(4), primary_key=True),  # "*": all provinces
    sa.Column("dimension", sa.String(16), primary_key=True),  # outcome, service, week...
    sa.Column("value", sa.String(80), primary_key=True),  # "": none
    sa.Column("turns", sa.Integer, nullable=False),
    sa.Column("people", sa.Integer, nullable=False),
)

unanswered = sa.Table(
    "monitoring_unanswered",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False, index=True),
    sa.Column("person", sa.String(16), nullable=False),
    sa.Column("language", sa.String(8), nullable=True),
    sa.Column("reason", sa.String(16), nullable=False),  # fallback | low_confidence
    sa.Column("text", sa.Text, nullable=False),  # scrubbed (monitoring.privacy.scrub)
)
