"""Mediators sign in to the desk: a password hash and a one-time sign-in code.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 18:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("handoff_mediators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("login_code_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("login_code_expires", sa.Float(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_handoff_mediators_login_code_hash"), ["login_code_hash"]
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("handoff_mediators", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_handoff_mediators_login_code_hash"), type_="unique")
        batch_op.drop_column("login_code_expires")
        batch_op.drop_column("login_code_hash")
        batch_op.drop_column("password_hash")
