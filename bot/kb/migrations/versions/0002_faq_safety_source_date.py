"""FAQ entries, safety help per danger, and the source's own date on every sourced record.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tables whose records carry source/checked/verified.
_SOURCED = (
    "kb_ambiti",
    "kb_comune_names",
    "kb_services",
    "kb_offices",
    "kb_procedures",
    "kb_emergency_numbers",
)


def _provenance() -> list[sa.Column]:
    return [
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_date", sa.Date(), nullable=True),
        sa.Column("checked", sa.Date(), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
    ]


def upgrade() -> None:
    """Add source_date, the safety help and the FAQ tables."""
    for table in _SOURCED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("source_date", sa.Date(), nullable=True))
    op.create_table(
        "kb_safety_help",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("danger", sa.String(length=20), nullable=False),
        sa.Column("procedure_id", sa.String(length=100), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(length=200), nullable=True),
        *_provenance(),
        sa.ForeignKeyConstraint(
            ["procedure_id"],
            ["kb_procedures.id"],
            name=op.f("fk_kb_safety_help_procedure_id_kb_procedures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_safety_help")),
        sa.UniqueConstraint("danger", name=op.f("uq_kb_safety_help_danger")),
    )
    op.create_table(
        "kb_safety_help_numbers",
        sa.Column("help_id", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("number_id", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["help_id"],
            ["kb_safety_help.id"],
            name=op.f("fk_kb_safety_help_numbers_help_id_kb_safety_help"),
        ),
        sa.ForeignKeyConstraint(
            ["number_id"],
            ["kb_emergency_numbers.id"],
            name=op.f("fk_kb_safety_help_numbers_number_id_kb_emergency_numbers"),
        ),
        sa.PrimaryKeyConstraint("help_id", "position", name=op.f("pk_kb_safety_help_numbers")),
    )
    op.create_table(
        "kb_safety_help_office_kinds",
        sa.Column("help_id", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["help_id"],
            ["kb_safety_help.id"],
            name=op.f("fk_kb_safety_help_office_kinds_help_id_kb_safety_help"),
        ),
        sa.PrimaryKeyConstraint("help_id", "position", name=op.f("pk_kb_safety_help_office_kinds")),
    )
    op.create_table(
        "kb_faq",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("service_id", sa.String(length=40), nullable=False),
        sa.Column("procedure_id", sa.String(length=100), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(length=200), nullable=True),
        *_provenance(),
        sa.ForeignKeyConstraint(
            ["procedure_id"],
            ["kb_procedures.id"],
            name=op.f("fk_kb_faq_procedure_id_kb_procedures"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["kb_services.id"], name=op.f("fk_kb_faq_service_id_kb_services")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_faq")),
    )
    op.create_table(
        "kb_faq_office_kinds",
        sa.Column("faq_id", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["faq_id"], ["kb_faq.id"], name=op.f("fk_kb_faq_office_kinds_faq_id_kb_faq")
        ),
        sa.PrimaryKeyConstraint("faq_id", "position", name=op.f("pk_kb_faq_office_kinds")),
    )
    op.create_table(
        "kb_faq_sources",
        sa.Column("faq_id", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["faq_id"], ["kb_faq.id"], name=op.f("fk_kb_faq_sources_faq_id_kb_faq")
        ),
        sa.PrimaryKeyConstraint("faq_id", "position", name=op.f("pk_kb_faq_sources")),
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    for table in (
        "kb_faq_sources",
        "kb_faq_office_kinds",
        "kb_faq",
        "kb_safety_help_office_kinds",
        "kb_safety_help_numbers",
        "kb_safety_help",
    ):
        op.drop_table(table)
    for table in _SOURCED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("source_date")
