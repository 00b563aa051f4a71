"""The Concur sandbox's tables. Amounts are stored as decimal strings, never floats.

Table names carry a ``concur_`` prefix: every sandbox shares one SQLModel metadata when several
run in one process.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class ConcurSetting(SQLModel, table=True):
    """Facts fixed when the database is created (company id, token signing key)."""

    __tablename__ = "concur_setting"

    key: str = Field(primary_key=True)
    value: str


class ConcurUser(SQLModel, table=True):
    __tablename__ = "concur_user"

    user_id: str = Field(primary_key=True)            # uuid5 of the employee id
    employee_number: str = Field(index=True, unique=True)
    given_name: str
    family_name: str
    email: str = Field(index=True)
    company_code: str                                  # the legal entity (US01, DE01)
    cost_center: str | None = None
    manager_user_id: str | None = Field(default=None, index=True)
    active: bool = True
    created_at: str


class ConcurExchangeRate(SQLModel, table=True):
    __tablename__ = "concur_exchange_rate"

    id: int | None = Field(default=None, primary_key=True)
    from_currency: str = Field(index=True)
    to_currency: str = Field(index=True)
    rate: str
    effective: str                                     # ISO date the rate applies from


class ConcurReport(SQLModel, table=True):
    __tablename__ = "concur_report"

    report_id: str = Field(primary_key=True)
    user_id: str = Field(index=True)
    name: str
    business_purpose: str = ""
    report_date: str
    currency_code: str
    policy_id: str
    custom_data: str = "[]"                            # JSON list of {id, value}
    approval_status_id: str = Field(default="A_NOTF", index=True)
    payment_status_id: str = "P_NOTP"
    step_code: str | None = None                       # the step of the last status change
    submit_date: str | None = None
    approval_date: str | None = None
    paid_date: str | None = None
    report_version: int = 0
    created_at: str
    modified_at: str


class ConcurReportComment(SQLModel, table=True):
    """A comment left with a workflow action (a send-back's reason, an approver's note)."""

    __tablename__ = "concur_report_comment"

    id: int | None = Field(default=None, primary_key=True)
    report_id: str = Field(index=True, foreign_key="concur_report.report_id")
    comment: str
    author_user_id: str | None = None                  # None: an integration acting with a company token
    step_code: str | None = None
    created_at: str


class ConcurExpense(SQLModel, table=True):
    __tablename__ = "concur_expense"

    expense_id: str = Field(primary_key=True)
    report_id: str = Field(index=True, foreign_key="concur_report.report_id")
    seq: int                                           # order within the report
    expense_type_code: str
    transaction_date: str
    transaction_amount: str
    transaction_currency: str
    exchange_rate: str
    posted_amount: str                                 # in the report currency
    vendor_name: str = ""
    business_purpose: str = ""
    receipt_image_id: str | None = None
    custom_data: str = "[]"
    tax_code: str | None = None
    reclaimable_tax: str | None = None                 # in the transaction currency


class ConcurFiDocument(SQLModel, table=True):
    """A Financial Integration document: an approved report waiting to be posted and paid."""

    __tablename__ = "concur_fi_document"

    seq: int | None = Field(default=None, primary_key=True)  # queue order
    id: str = Field(index=True, unique=True)                  # the docId
    report_id: str = Field(index=True)
    doc_type: str = "EXPENSE"
    doc_status: str = Field(default="READY", index=True)      # READY, ACKNOWLEDGED, WITHDRAWN
    document: str                                             # JSON text, as Concur sends it
    created_at: str
    acknowledged_at: str | None = None
    posting_confirmation: str | None = None                   # JSON of the accepted confirmation
    payment_confirmation: str | None = None


class ConcurSubscription(SQLModel, table=True):
    """An Event Subscription Service webhook subscription."""

    __tablename__ = "concur_subscription"

    id: str = Field(primary_key=True)
    topic: str
    filter: str
    endpoint: str
    created_at: str


CONCUR_TABLES: list[type[SQLModel]] = [ConcurSetting, ConcurUser, ConcurExchangeRate, ConcurReport,
                                       ConcurReportComment, ConcurExpense, ConcurFiDocument, ConcurSubscription]
