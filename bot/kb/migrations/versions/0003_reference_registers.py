"""Public registers: town-centre coordinates, imported offices, and each imported field's source.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add kb_comuni.lat/lng, kb_offices.imported, kb_registers and kb_field_sources."""
    with op.batch_alter_table("kb_comuni") as batch:
        batch.add_column(sa.Column("lat", sa.Float(), nullable=True))
        batch.add_column(sa.Column("lng", sa.Float(), nullable=True))
    with op.batch_alter_table("kb_offices") as batch:
        batch.add_column(
            sa.Column("imported", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "kb_registers",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("file", sa.String(length=200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("source_date", sa.Date(), nullable=True),
        sa.Column("date_label", sa.String(length=20), nullable=False),
        sa.Column("licence", sa.Text(), nullable=False),
        sa.Column("attribution", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_registers")),
    )
    op.create_table(
        "kb_field_sources",
        sa.Column("record_kind", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.String(length=100), nullable=False),
        sa.Column("field", sa.String(length=30), nullable=False),
        sa.Column("register_id", sa.String(length=100), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_date", sa.Date(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("seat", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["register_id"],
            ["kb_registers.id"],
            name=op.f("fk_kb_field_sources_register_id_kb_registers"),
        ),
        sa.PrimaryKeyConstraint(
            "record_kind", "record_id", "field", name=op.f("pk_kb_field_sources")
        ),
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_table("kb_field_sources")
    op.drop_table("kb_registers")
    with op.batch_alter_table("kb_offices") as batch:
        batch.drop_column("imported")
    with op.batch_alter_table("kb_comuni") as batch:
        batch.drop_column("lng")
        batch.drop_column("lat")
