"""Cards remember their group message; mediators pause and show as unreachable; a person index.

Issue #17, parts 3 (the card's message id), 4 (paused, unreachable_since) and 5 (the gate's
index on ``handoff_tickets.person``).

Revision ID: 0006
Revises: 0005_media
Create Date: 2026-12-08 01:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005_media"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("handoff_mediators", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("unreachable_since", sa.Float(), nullable=True))
    with op.batch_alter_table("handoff_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card_message_id", sa.String(length=32), nullable=True))
    op.create_index("ix_handoff_tickets_person", "handoff_tickets", ["person"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_handoff_tickets_person", table_name="handoff_tickets")
    with op.batch_alter_table("handoff_tickets", schema=None) as batch_op:
        batch_op.drop_column("card_message_id")
    with op.batch_alter_table("handoff_mediators", schema=None) as batch_op:
        batch_op.drop_column("unreachable_since")
        batch_op.drop_column("paused")
