"""Baseline: the integration store as finsync made it before migrations.

A new store gets every table. A store made before migrations (its tables there, no
alembic_version) keeps its tables and rows, and gets what the code of its day added whenever it
opened a store: the tables it did not have yet, and expense_fingerprint's later column and index.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def finance_event() -> None:
    op.create_table(
        "finance_event",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("process", sa.String(), nullable=False),
        sa.Column("business_key", sa.String(), nullable=False),
        sa.Column("workflow_id", sa.String(), nullable=False),
        sa.Column("correlation_id", sa.String(), nullable=False),
        sa.Column("entity_code", sa.String(), nullable=True),
        sa.Column("amount", sa.String(), nullable=True),
        sa.Column("currency", sa.String(), nullable=True),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("data", sa.String(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_finance_event_business_key", "finance_event", ["business_key"])
    op.create_index("ix_finance_event_correlation_id", "finance_event", ["correlation_id"])
    op.create_index("ix_finance_event_process", "finance_event", ["process"])
    op.create_index("ix_finance_event_type", "finance_event", ["type"])
    op.create_index("ix_finance_event_workflow_id", "finance_event", ["workflow_id"])


def payment_route() -> None:
    op.create_table(
        "payment_route",
        sa.Column("end_to_end_id", sa.String(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("workflow_id", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("end_to_end_id"),
    )
    op.create_index("ix_payment_route_message_id", "payment_route", ["message_id"])


def webhook_receipt() -> None:
    op.create_table(
        "webhook_receipt",
        sa.Column("webhook_id", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("workflow_id", sa.String(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("webhook_id"),
    )


def bank_report() -> None:
    op.create_table(
        "bank_report",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.String(), nullable=False),
        sa.Column("end_to_end_id", sa.String(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("workflow_id", sa.String(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("investigate", sa.Boolean(), nullable=False),
        sa.Column("report", sa.String(), nullable=False),
        sa.Column("raw", sa.String(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("webhook_id", "end_to_end_id", "source"),
    )
    op.create_index("ix_bank_report_end_to_end_id", "bank_report", ["end_to_end_id"])
    op.create_index("ix_bank_report_investigate", "bank_report", ["investigate"])


def sweep_watermark() -> None:
    op.create_table(
        "sweep_watermark",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("watermark", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def reconciliation() -> None:
    op.create_table(
        "reconciliation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_key", sa.String(), nullable=False),
        sa.Column("entity_code", sa.String(), nullable=False),
        sa.Column("day", sa.String(), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workflow_id", sa.String(), nullable=True),
        sa.Column("difference_count", sa.Integer(), nullable=False),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("counts", sa.String(), nullable=False),
        sa.Column("differences", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_key"),
    )
    op.create_index("ix_reconciliation_day", "reconciliation", ["day"])
    op.create_index("ix_reconciliation_entity_code", "reconciliation", ["entity_code"])


def expense_fingerprint() -> None:
    op.create_table(
        "expense_fingerprint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("report_id", sa.String(), nullable=False),
        sa.Column("line_id", sa.String(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fingerprint", "report_id", "line_id"),
    )
    op.create_index("ix_expense_fingerprint_fingerprint", "expense_fingerprint", ["fingerprint"])
    op.create_index("ix_expense_fingerprint_report_id", "expense_fingerprint", ["report_id"])


TABLES: dict[str, Callable[[], None]] = {
    "finance_event": finance_event, "payment_route": payment_route, "webhook_receipt": webhook_receipt,
    "bank_report": bank_report, "sweep_watermark": sweep_watermark, "reconciliation": reconciliation,
    "expense_fingerprint": expense_fingerprint,
}


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    present = set(inspector.get_table_names())
    for name, create in TABLES.items():
        if name not in present:
            create()
    if "expense_fingerprint" in present:
        # Added to the table after the first stores were made: the column by the code that opened
        # a store (nullable, no backfill), the index by nothing until now.
        if "submitted_at" not in {column["name"] for column in inspector.get_columns("expense_fingerprint")}:
            op.add_column("expense_fingerprint", sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True))
        if "ix_expense_fingerprint_report_id" not in {index["name"] for index in inspector.get_indexes("expense_fingerprint")}:
            op.create_index("ix_expense_fingerprint_report_id", "expense_fingerprint", ["report_id"])


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
