"""Mediators pause themselves and show as unreachable; the gate reads tickets by person.

Issue #17, parts 4 and 5.

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
    op.create_index("ix_handoff_tickets_person", "handoff_tickets", ["person"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_handoff_tickets_person", table_name="handoff_tickets")
    with op.batch_alter_table("handoff_mediators", schema=None) as batch_op:
        batch_op.drop_column("unreachable_since")
        batch_op.drop_column("paused")
