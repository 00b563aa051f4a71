"""The sandbox's state in SQLite: master data, posted journal entries, and every inbound entry
with what became of it (the confirmation a polling client or the callback reads).

Master data is keyed as SAP keys it: a company code (4 characters), a GL account (10 digits,
zero-padded), a cost center within its company code, a posting period per fiscal year. Amounts
are exact decimal text, signed: positive is a debit, negative a credit.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

# What became of an inbound entry.
PENDING = "PENDING"      # received, not yet processed (an asynchronous request)
POSTED = "POSTED"
REJECTED = "REJECTED"


class CompanyCode(SQLModel, table=True):
    __tablename__ = "s4_company_code"

    company_code: str = Field(primary_key=True)      # "1010"
    name: str
    currency: str                                    # the company code currency
    country: str


class CostCenter(SQLModel, table=True):
    __tablename__ = "s4_cost_center"

    company_code: str = Field(primary_key=True)
    cost_center: str = Field(primary_key=True)
    name: str
    blocked: bool = False                            # locked against actual primary postings


class GLAccount(SQLModel, table=True):
    __tablename__ = "s4_gl_account"

    gl_account: str = Field(primary_key=True)        # "0000006500"
    name: str
    blocked: bool = False                            # blocked for posting


class PostingPeriod(SQLModel, table=True):
    __tablename__ = "s4_posting_period"

    fiscal_year: int = Field(primary_key=True)
    period: int = Field(primary_key=True)            # 1..12: the fiscal year is the calendar year
    name: str                                        # "Mar 2026"
    start: date
    end: date
    open: bool


class JournalDocument(SQLModel, table=True):
    """A posted journal entry (BKPF): its key is company code, document number and fiscal year."""

    __tablename__ = "s4_journal_document"
    __table_args__ = (UniqueConstraint("original_reference_document", "logical_system"),)

    company_code: str = Field(primary_key=True)
    accounting_document: str = Field(primary_key=True)   # "0100000000"
    fiscal_year: int = Field(primary_key=True)
    fiscal_period: int
    document_type: str = "SA"
    reference_document_type: str                          # "BKPFF"
    original_reference_document: str = Field(index=True)
    logical_system: str
    header_text: str | None = None
    document_date: date
    posting_date: date
    reverses_document: str | None = None                  # on a reversal: the document it reverses
    reversed_by_document: str | None = None               # on a reversed document: its reversal
    reversal_reason: str | None = None
    created_at: float


class JournalItem(SQLModel, table=True):
    """One line of a posted entry (BSEG / ACDOCA)."""

    __tablename__ = "s4_journal_item"

    company_code: str = Field(primary_key=True)
    accounting_document: str = Field(primary_key=True)
    fiscal_year: int = Field(primary_key=True)
    item: int = Field(primary_key=True)                   # 1, 2, ...
    gl_account: str
    cost_center: str | None = None
    amount: str                                           # signed, in the transaction currency
    currency: str
    item_text: str | None = None


class InboundMessage(SQLModel, table=True):
    """One SOAP request: its entries are processed together, and answered in one confirmation."""

    __tablename__ = "s4_inbound_message"

    id: int | None = Field(default=None, primary_key=True)
    message_id: str                                       # the sender's MessageHeader/ID
    service: str                                          # "create" or "reverse"
    asynchronous: bool
    received_at: float
    due_at: float = Field(index=True)                     # when it is processed (asynchronous)
    processed_at: float | None = Field(default=None, index=True)
    confirmation_webhook_id: str | None = None            # fixed when processed, the same on every delivery
    notified: bool = False                                # the confirmation went to the outbox (or had nowhere to go)


class InboundEntry(SQLModel, table=True):
    """One journal entry of a request, and what became of it."""

    __tablename__ = "s4_inbound_entry"

    id: int | None = Field(default=None, primary_key=True)
    message: int = Field(foreign_key="s4_inbound_message.id", index=True)
    position: int
    entry_message_id: str                                 # the entry's own MessageHeader/ID
    original_reference_document: str = Field(index=True)
    logical_system: str
    company_code: str
    draft: str                                            # the parsed entry, as JSON
    status: str = PENDING
    accounting_document: str | None = None
    fiscal_year: int | None = None
    log: str = "[]"                                       # JSON list of {type_id, severity, note}
    received_at: float


class CallbackEndpoint(SQLModel, table=True):
    """Where asynchronous confirmations go (the communication arrangement's outbound service)."""

    __tablename__ = "s4_callback_endpoint"

    id: int = Field(default=1, primary_key=True)
    url: str


TABLES: list[type[SQLModel]] = [CompanyCode, CostCenter, GLAccount, PostingPeriod, JournalDocument, JournalItem,
                                InboundMessage, InboundEntry, CallbackEndpoint]
