"""The Workday sandbox's SQLite schema.

Amounts are integer cents (rendered as decimal strings on the wire, never floats); timestamps are
UTC text in one fixed form (``2026-03-15T10:00:00.000000Z``, see clock.py), so comparing the text
compares the instants; business dates are ISO dates. Table names carry a ``workday_`` prefix in
their own MetaData, so they cannot clash with another sandbox's tables in one process.

A finalized version's results are written once, at finalization, and never change (as a completed
pay run's results in Workday): ``pay_result`` rows are numbered 1..n per (run, version) in report
order, so a page is a range of that key, however deep into the report it starts, and each is kept
as the report's JSON entry, so a page is read and sent without converting anything.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, MetaData, PrimaryKeyConstraint, Table, Text, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.schema import CreateColumn

metadata = MetaData()

# The sandbox's own settings (the workforce's size, which of the company file's named employees are on it).
setting = Table(
    "workday_setting", metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

pay_run = Table(
    "workday_pay_run", metadata,
    Column("number", Integer, primary_key=True, autoincrement=True),
    Column("id", Text, nullable=False, unique=True),           # PAYRUN-000001
    Column("pay_group", Text, nullable=False),
    Column("period_start", Text, nullable=False),
    Column("period_end", Text, nullable=False),
    Column("payment_date", Text, nullable=False),
    Column("headcount", Integer, nullable=False),               # the first n employees of the generated workforce
    # Which of the company file's named employees it pays too: the setting when the run was created,
    # as JSON (true, false or a list of their ids; staff.py); 0 or 1 in a database from before lists.
    Column("company_staff", Text, nullable=False, server_default="false"),
    Column("status", Text, nullable=False),                     # Draft | Finalized | Reopened | Cancelled
    Column("version", Integer, nullable=False),                 # the version finalized last (1 until then)
    Column("ever_finalized", Boolean, nullable=False, default=False),
    Column("finalized_by", Text),
    Column("finalized_on", Text),
    Column("last_action_by", Text),                             # who finalized, reopened or cancelled it last
    Column("status_changed_on", Text, nullable=False),
    Column("faults", Text, nullable=False, default="{}"),       # JSON: applied at the next finalization
    Column("created_on", Text, nullable=False),
    Column("updated_on", Text, nullable=False, index=True),
)

# Each row as the results report shows it (its JSON, rendered once at finalization).
pay_result = Table(
    "workday_pay_result", metadata,
    Column("run_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("seq", Integer, nullable=False),                     # 1..n in report order
    Column("entry", Text, nullable=False),
    PrimaryKeyConstraint("run_id", "version", "seq"),
    sqlite_with_rowid=False,
)

control_total = Table(
    "workday_control_total", metadata,
    Column("run_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("entity", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("headcount", Integer, nullable=False),
    Column("earnings", Integer, nullable=False),
    Column("employee_deductions", Integer, nullable=False),
    Column("employer_contributions", Integer, nullable=False),
    Column("reimbursements", Integer, nullable=False),
    Column("net_pay", Integer, nullable=False),
    PrimaryKeyConstraint("run_id", "version", "entity", "currency"),
)

# One-off pay inputs (reimbursements): waiting (no run), or in the run version that paid them.
pay_input = Table(
    "workday_pay_input", metadata,
    Column("number", Integer, primary_key=True, autoincrement=True),
    Column("id", Text, nullable=False, unique=True),           # PAYINPUT-000001
    Column("reference", Text, nullable=False, unique=True),    # the sender's key: one input per reference
    Column("worker_id", Text, nullable=False),
    Column("component", Text, nullable=False),
    Column("amount_cents", Integer, nullable=False),
    Column("currency", Text, nullable=False),
    Column("created_on", Text, nullable=False),
    Column("run_id", Text),
    Column("run_version", Integer),
)

# Not Workday's: where the Standard Webhooks events go (one endpoint, like the other sandboxes').
webhook_subscription = Table(
    "workday_webhook_subscription", metadata,
    Column("id", Integer, primary_key=True),
    Column("endpoint", Text, nullable=False),
)


def create_tables(engine: Engine) -> None:
    metadata.create_all(engine)
    # A database from before runs recorded company_staff: none of its runs paid the named employees.
    with engine.begin() as conn:
        if "company_staff" not in {column["name"] for column in inspect(conn).get_columns(pay_run.name)}:
            column = CreateColumn(pay_run.c.company_staff).compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {pay_run.name} ADD COLUMN {column}")
