"""Tables of the knowledge base (SQLAlchemy Core, portable between SQLite and PostgreSQL).

Every table is prefixed ``kb_`` because the database is shared with Rasa's tracker store. Texts
people read live in one table, :data:`texts`, one row per record/field/position/language, so
translation coverage is a ``COUNT`` and a translator's export is a ``SELECT``. Records that carry
facts (offices, procedures, numbers, ...) keep where they came from (``source``), when that was
last confirmed (``checked``) and whether every fact was confirmed (``verified``).

The Alembic migrations in ``bot/kb/migrations`` create the same tables; a test compares them,
so a change here without a migration fails.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Alembic's own bookkeeping table, named so it cannot clash with another tool's.
VERSION_TABLE = "kb_alembic_version"


def _provenance() -> list[sa.Column]:
    return [
        sa.Column("source", sa.Text, nullable=True),
        sa.Column("source_date", sa.Date, nullable=True),  # the source's own date
        sa.Column("checked", sa.Date, nullable=True),
        sa.Column("verified", sa.Boolean, nullable=False, default=False),
    ]


meta = sa.Table(
    "kb_meta",
    metadata,
    sa.Column("key", sa.String(50), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

provinces = sa.Table(
    "kb_provinces",
    metadata,
    sa.Column("code", sa.String(2), primary_key=True),  # car-plate code
    sa.Column("name", sa.String(100), nullable=False),
)

ambiti = sa.Table(
    "kb_ambiti",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("province", sa.String(2), sa.ForeignKey("kb_provinces.code"), nullable=False),
    *_provenance(),
)

comuni = sa.Table(
    "kb_comuni",
    metadata,
    sa.Column("istat", sa.String(6), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("province", sa.String(2), sa.ForeignKey("kb_provinces.code"), nullable=False),
    sa.Column("capoluogo", sa.Boolean, nullable=False),
    sa.Column("ambito_id", sa.String(100), sa.ForeignKey("kb_ambiti.id"), nullable=True),
    # Town centre (a register's, see kb_field_sources): distances are between town centres.
    sa.Column("lat", sa.Float, nullable=True),
    sa.Column("lng", sa.Float, nullable=True),
)

comune_names = sa.Table(
    "kb_comune_names",
    metadata,
    sa.Column("folded", sa.String(200), primary_key=True),  # bot.territory.fold(name)
    sa.Column("istat", sa.String(6), sa.ForeignKey("kb_comuni.istat"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("official", sa.Boolean, nullable=False),
    *_provenance(),
)

services = sa.Table(
    "kb_services",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("file", sa.String(200), nullable=True),
    *_provenance(),
)

offices = sa.Table(
    "kb_offices",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("comune_istat", sa.String(6), sa.ForeignKey("kb_comuni.istat"), nullable=False),
    sa.Column("address", sa.Text, nullable=False, default=""),
    sa.Column("map_url", sa.Text, nullable=False, default=""),
    sa.Column("phone", sa.String(100), nullable=False, default=""),
    sa.Column("email", sa.String(200), nullable=False, default=""),
    sa.Column("pec", sa.String(200), nullable=False, default=""),
    sa.Column("website", sa.Text, nullable=False, default=""),
    sa.Column("booking_url", sa.Text, nullable=False, default=""),
    sa.Column("serves_region", sa.Boolean, nullable=False, default=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("file", sa.String(200), nullable=True),
    # Created from a public register (file = the register's CSV), not written by an editor.
    sa.Column("imported", sa.Boolean, nullable=False, default=False),
    *_provenance(),
)

office_services = sa.Table(
    "kb_office_services",
    metadata,
    sa.Column("office_id", sa.String(100), sa.ForeignKey("kb_offices.id"), primary_key=True),
    sa.Column("service_id", sa.String(40), sa.ForeignKey("kb_services.id"), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
)

office_provinces = sa.Table(
    "kb_office_provinces",
    metadata,
    sa.Column("office_id", sa.String(100), sa.ForeignKey("kb_offices.id"), primary_key=True),
    sa.Column("province", sa.String(2), sa.ForeignKey("kb_provinces.code"), primary_key=True),
)

office_comuni = sa.Table(
    "kb_office_comuni",
    metadata,
    sa.Column("office_id", sa.String(100), sa.ForeignKey("kb_offices.id"), primary_key=True),
    sa.Column("istat", sa.String(6), sa.ForeignKey("kb_comuni.istat"), primary_key=True),
)

office_ambiti = sa.Table(
    "kb_office_ambiti",
    metadata,
    sa.Column("office_id", sa.String(100), sa.ForeignKey("kb_offices.id"), primary_key=True),
    sa.Column("ambito_id", sa.String(100), sa.ForeignKey("kb_ambiti.id"), primary_key=True),
)

office_hours = sa.Table(
    "kb_office_hours",
    metadata,
    sa.Column("office_id", sa.String(100), sa.ForeignKey("kb_offices.id"), primary_key=True),
    sa.Column("weekday", sa.SmallInteger, primary_key=True),  # 0 = Monday, as date.weekday()
    sa.Column("opens", sa.Time, primary_key=True),  # Europe/Rome wall-clock time
    sa.Column("closes", sa.Time, nullable=False),
    sa.Column("appointment_only", sa.Boolean, nullable=False, default=False),
)

office_closures = sa.Table(
    "kb_office_closures",
    metadata,
    sa.Column("office_id", sa.String(100), sa.ForeignKey("kb_offices.id"), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),  # its note is texts(field="closures")
)

procedures = sa.Table(
    "kb_procedures",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("service_id", sa.String(40), sa.ForeignKey("kb_services.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("file", sa.String(200), nullable=True),
    *_provenance(),
)

procedure_office_kinds = sa.Table(
    "kb_procedure_office_kinds",
    metadata,
    sa.Column("procedure_id", sa.String(100), sa.ForeignKey("kb_procedures.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
)

# Steps and documents are ordered rows; their words are texts(field="steps"/"documents").
procedure_steps = sa.Table(
    "kb_procedure_steps",
    metadata,
    sa.Column("procedure_id", sa.String(100), sa.ForeignKey("kb_procedures.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
)

procedure_documents = sa.Table(
    "kb_procedure_documents",
    metadata,
    sa.Column("procedure_id", sa.String(100), sa.ForeignKey("kb_procedures.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
)

emergency_numbers = sa.Table(
    "kb_emergency_numbers",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("number", sa.String(30), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("file", sa.String(200), nullable=True),
    *_provenance(),
)

# What a person in one kind of danger is told after the numbers (knowledge/safety.yml).
safety_help = sa.Table(
    "kb_safety_help",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("danger", sa.String(20), nullable=False, unique=True),
    sa.Column("procedure_id", sa.String(100), sa.ForeignKey("kb_procedures.id"), nullable=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("file", sa.String(200), nullable=True),
    *_provenance(),
)

safety_help_numbers = sa.Table(
    "kb_safety_help_numbers",
    metadata,
    sa.Column("help_id", sa.String(100), sa.ForeignKey("kb_safety_help.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column(
        "number_id", sa.String(100), sa.ForeignKey("kb_emergency_numbers.id"), nullable=False
    ),
)

safety_help_office_kinds = sa.Table(
    "kb_safety_help_office_kinds",
    metadata,
    sa.Column("help_id", sa.String(100), sa.ForeignKey("kb_safety_help.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
)

# Specific questions with short sourced answers (knowledge/faq/<service>.yml); the question and
# answer words are texts(field="question"/"answer").
faq = sa.Table(
    "kb_faq",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("service_id", sa.String(40), sa.ForeignKey("kb_services.id"), nullable=False),
    sa.Column("procedure_id", sa.String(100), sa.ForeignKey("kb_procedures.id"), nullable=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("file", sa.String(200), nullable=True),
    *_provenance(),
)

faq_office_kinds = sa.Table(
    "kb_faq_office_kinds",
    metadata,
    sa.Column("faq_id", sa.String(100), sa.ForeignKey("kb_faq.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
)

faq_sources = sa.Table(
    "kb_faq_sources",
    metadata,
    sa.Column("faq_id", sa.String(100), sa.ForeignKey("kb_faq.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("date", sa.Date, nullable=True),
)

# The public registers of knowledge/reference/registers.yml, and which value came from which row:
# a field filled from a register keeps its own source and date, apart from the record's.
registers = sa.Table(
    "kb_registers",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("role", sa.String(40), nullable=False),
    sa.Column("file", sa.String(200), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("source_date", sa.Date, nullable=True),
    sa.Column("date_label", sa.String(20), nullable=False),
    sa.Column("licence", sa.Text, nullable=False),
    sa.Column("attribution", sa.Text, nullable=False),
)

field_sources = sa.Table(
    "kb_field_sources",
    metadata,
    sa.Column("record_kind", sa.String(20), primary_key=True),  # "office" or "comune"
    sa.Column("record_id", sa.String(100), primary_key=True),
    sa.Column("field", sa.String(30), primary_key=True),
    sa.Column("register_id", sa.String(100), sa.ForeignKey("kb_registers.id"), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("source_date", sa.Date, nullable=True),
    sa.Column("line", sa.Integer, nullable=False),  # row in the register's file
    # The value is the administration's main seat (town hall, Prefettura, ASL head office),
    # which may not be the counter a person needs.
    sa.Column("seat", sa.Boolean, nullable=False),
)

texts = sa.Table(
    "kb_texts",
    metadata,
    # Record ids are unique across all knowledge files, so (record_id, field, position) names
    # one text; record_kind is kept for reports.
    sa.Column("record_id", sa.String(100), primary_key=True),
    sa.Column("field", sa.String(30), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),  # 0 for single texts, 1.. in lists
    sa.Column("language", sa.String(8), primary_key=True),
    sa.Column("record_kind", sa.String(20), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
)

# Parents before children: the loader inserts in this order and deletes in reverse.
LOAD_ORDER: tuple[sa.Table, ...] = (
    provinces,
    ambiti,
    comuni,
    comune_names,
    services,
    offices,
    office_services,
    office_provinces,
    office_comuni,
    office_ambiti,
    office_hours,
    office_closures,
    procedures,
    procedure_office_kinds,
    procedure_steps,
    procedure_documents,
    emergency_numbers,
    safety_help,
    safety_help_numbers,
    safety_help_office_kinds,
    faq,
    faq_office_kinds,
    faq_sources,
    registers,
    field_sources,
    texts,
)
