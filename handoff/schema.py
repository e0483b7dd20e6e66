"""Tables of the mediator handoff (SQLAlchemy Core; SQLite locally, PostgreSQL in production).

Prefixed ``handoff_`` because the database is shared with the tracker store, the channels and
the knowledge base. The Alembic migrations in ``handoff/migrations`` create the same tables; a
test compares them, so a change here without a migration fails.

- ``handoff_mediators``: who may claim tickets, how to reach them (a Telegram user id, a
  WhatsApp number, or only the local desk), the languages they speak, the provinces they cover
  and their hours, and how they sign in to the desk (a password hash, a one-time code's hash).
  Registered with ``bot handoff mediator add``; never in the repository.
- ``handoff_tickets``: one per request for a person. At most one *open* ticket (waiting or
  claimed) per person, enforced by a partial unique index, so a second request while waiting
  finds the first instead of opening another.
- ``handoff_events``: every transition with its time and actor (opened, announced, claimed,
  released, transferred, closed, reopened, rated).
- ``handoff_messages``: the transcript (person, mediator, bot, private notes). ``source_key``
  is unique: a webhook delivered twice is stored, and therefore relayed, once.
- ``handoff_outbox``: what must still be sent, to whom, in order. Written in the same
  transaction as the message it relays; ``key`` is unique (idempotency). A relay worker sends
  pending rows and marks them sent; rows left ``sending`` by a dead process are retried after
  a lease.
"""

from __future__ import annotations

import sqlalchemy as sa

# Ticket priorities, higher first: the escalation policy owns them (bot/escalation.py).
from bot.escalation import PRIORITY_EMERGENCY, PRIORITY_FALLBACK, PRIORITY_NORMAL  # noqa: F401

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

VERSION_TABLE = "handoff_alembic_version"

# Ticket states.
WAITING = "waiting"
CLAIMED = "claimed"
CLOSED = "closed"
OPEN_STATES = (WAITING, CLAIMED)


mediators = sa.Table(
    "handoff_mediators",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(80), nullable=False, unique=True),
    sa.Column("telegram_user_id", sa.String(32), nullable=True, unique=True),
    sa.Column("whatsapp", sa.String(40), nullable=True, unique=True),
    sa.Column("languages", sa.String(200), nullable=False),  # "ar,fr,it"
    sa.Column("provinces", sa.String(60), nullable=False, server_default=""),  # "" = all
    sa.Column("hours", sa.String(200), nullable=False, server_default=""),  # "" = always
    sa.Column("ui_language", sa.String(8), nullable=False, server_default="it"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    # Set by the mediator (desk, /pause): no new cards, no claims offered, until they resume.
    sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
    # When Telegram last refused to write to them (403: they never pressed Start); cleared
    # when a message to them goes through or they write to the bot.
    sa.Column("unreachable_since", sa.Float, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    # The desk (handoff/credentials.py): a scrypt hash, never the password; the SHA-256 of the
    # one-time code of a sign-in link, and until when it works.
    sa.Column("password_hash", sa.String(200), nullable=True),
    sa.Column("login_code_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("login_code_expires", sa.Float, nullable=True),
)

tickets = sa.Table(
    "handoff_tickets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("person", sa.String(40), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    # The conversation's language (what the assistant answers in): routing and every notice.
    sa.Column("language", sa.String(8), nullable=False),
    # The language of the person's last message when it differed, shown beside it ("ar (last
    # message it)"): one Italian sentence asking for a mediator does not make the ticket Italian.
    sa.Column("last_language", sa.String(8), nullable=True),
    sa.Column("wanted_language", sa.String(8), nullable=True),  # set by a transfer
    sa.Column("topic", sa.String(40), nullable=True),
    sa.Column("comune", sa.String(80), nullable=True),
    sa.Column("province", sa.String(4), nullable=True),
    sa.Column("reason", sa.String(16), nullable=False),  # request | fallback | emergency
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("mediator_id", sa.Integer, sa.ForeignKey("handoff_mediators.id"), nullable=True),
    sa.Column("opened_at", sa.Float, nullable=False),
    sa.Column("claimed_at", sa.Float, nullable=True),
    sa.Column("closed_at", sa.Float, nullable=True),
    sa.Column("announced_at", sa.Float, nullable=True),
    sa.Column("announcements", sa.Integer, nullable=False, server_default="0"),
    sa.Column("awaiting_rating", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("rating", sa.Integer, nullable=True),
    sa.Column("rated_at", sa.Float, nullable=True),
    sa.Column("person_last_at", sa.Float, nullable=True),
    sa.Column("template_sent_at", sa.Float, nullable=True),
    # The Telegram message id of the ticket's latest card in the mediators' group: edited on
    # claim, release, transfer and close so the card shows who holds it (issue #17).
    sa.Column("card_message_id", sa.String(32), nullable=True),
    sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
)
sa.Index(
    "ix_handoff_tickets_one_open_per_person",
    tickets.c.person,
    unique=True,
    postgresql_where=tickets.c.status.in_(OPEN_STATES),
    sqlite_where=tickets.c.status.in_(OPEN_STATES),
)
sa.Index("ix_handoff_tickets_status", tickets.c.status, tickets.c.priority)
# The gate's one query per message (TicketStore.standing): every ticket of a person.
sa.Index("ix_handoff_tickets_person", tickets.c.person)

events = sa.Table(
    "handoff_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "ticket_id",
        sa.Integer,
        sa.ForeignKey("handoff_tickets.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("mediator_id", sa.Integer, nullable=True),
    sa.Column("detail", sa.String(200), nullable=True),
)

messages = sa.Table(
    "handoff_messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "ticket_id",
        sa.Integer,
        sa.ForeignKey("handoff_tickets.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("at", sa.Float, nullable=False),
    # person | mediator | bot | note (private, never relayed) | system (delivery reports)
    sa.Column("author", sa.String(10), nullable=False),
    sa.Column("mediator_id", sa.Integer, nullable=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("source_key", sa.String(96), nullable=True, unique=True),
)

outbox = sa.Table(
    "handoff_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(128), nullable=False, unique=True),
    sa.Column(
        "ticket_id",
        sa.Integer,
        sa.ForeignKey("handoff_tickets.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    # person (a pseudonym), telegram (a chat id), whatsapp (an address), desk, webchat
    sa.Column("destination", sa.String(12), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # JSON: {"text", "buttons", "kind", ...}
    sa.Column("state", sa.String(10), nullable=False),  # pending|sending|sent|held|failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("due_at", sa.Float, nullable=False),  # not before (retries back off)
    sa.Column("claimed_at", sa.Float, nullable=True),
    sa.Column("sent_at", sa.Float, nullable=True),
    sa.Column("error", sa.String(200), nullable=True),
)
sa.Index("ix_handoff_outbox_state", outbox.c.state, outbox.c.id)

# --- files and delivery reports (issue #17, migration 0005_media) -------------------------------
# ``ticket_id`` is a plain column, not a foreign key: erasing a person deletes their tickets
# (HandoffStore.forget_person) and their files (handoff.media) in either order, and a cascade
# would drop the rows of files still on disk.

media = sa.Table(
    "handoff_media",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ticket_id", sa.Integer, nullable=True, index=True),
    sa.Column("person", sa.String(40), nullable=False, index=True),  # pseudonym, for erasure
    sa.Column("direction", sa.String(4), nullable=False),  # in: from the person; out: to them
    sa.Column("kind", sa.String(10), nullable=False),  # image | document | voice
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("stored_name", sa.String(80), nullable=False, unique=True),  # random, under MEDIA_DIR
    sa.Column("source_key", sa.String(128), nullable=True, unique=True),  # a redelivery: once
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
)

media_links = sa.Table(
    "handoff_media_links",
    metadata,
    # SHA-256 of the token in the link: the database alone cannot hand out a file.
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "media_id",
        sa.Integer,
        sa.ForeignKey("handoff_media.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("expires_at", sa.Float, nullable=False),
)

delivery_status = sa.Table(
    "handoff_delivery_status",
    metadata,
    sa.Column("message_sid", sa.String(64), primary_key=True),  # Twilio's MessageSid
    sa.Column("ticket_id", sa.Integer, nullable=True, index=True),
    sa.Column("person", sa.String(40), nullable=True, index=True),  # pseudonym, for erasure
    sa.Column("recipient", sa.String(10), nullable=True),  # person | mediator
    sa.Column("mediator_id", sa.Integer, nullable=True),
    sa.Column("outbox_key", sa.String(128), nullable=True),
    # queued | sending | sent | delivered | read | failed | undelivered (Twilio's words)
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error_code", sa.Integer, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

whatsapp_windows = sa.Table(
    "handoff_whatsapp_windows",
    metadata,
    # A mediator's WhatsApp address and when they last wrote to the business number: within
    # 24 hours a card may go as free text, after that only as an approved template.
    sa.Column("address", sa.String(64), primary_key=True),
    sa.Column("last_inbound_at", sa.Float, nullable=False),
)
