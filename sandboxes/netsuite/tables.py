"""The sandbox's SQLite schema, named as NetSuite's SuiteQL tables so SuiteQL runs on it as is.

Conventions follow SuiteQL: lower-case column names, internal ids as integers, booleans as
'T'/'F', dates as ISO text (SuiteQL formats them on the way out), amounts and rates as exact
decimal text. The same rows back the REST record API (``records.py``, ``journal.py``).
Own MetaData, so these names cannot clash with another sandbox's tables in one process.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, Text, UniqueConstraint, inspect, select
from sqlalchemy.engine import Connection, Engine

metadata = MetaData()


def _flag(name: str, default: str = "F") -> Column:
    return Column(name, String(1), nullable=False, default=default, server_default=default)


currency = Table(
    "currency", metadata,
    Column("id", Integer, primary_key=True),
    Column("symbol", String(3), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("currencyprecision", Integer, nullable=False),
    _flag("isinactive"),
)

subsidiary = Table(
    "subsidiary", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("externalid", Text, unique=True),          # finsync's legal entity code, e.g. "US01"
    Column("currency", Integer, ForeignKey("currency.id"), nullable=False),
    Column("country", String(2), nullable=False),
    _flag("isinactive"),
)

currencyrate = Table(
    "currencyrate", metadata,
    Column("id", Integer, primary_key=True),
    Column("basecurrency", Integer, ForeignKey("currency.id"), nullable=False),
    Column("transactioncurrency", Integer, ForeignKey("currency.id"), nullable=False),
    Column("exchangerate", Text, nullable=False),     # units of base per one transaction currency
    Column("effectivedate", Text, nullable=False),
)

department = Table(
    "department", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("externalid", Text, unique=True),          # finsync's cost center code, e.g. "CC-1000"
    Column("subsidiary", Integer, ForeignKey("subsidiary.id"), nullable=False),
    _flag("isinactive"),
)

account = Table(
    "account", metadata,
    Column("id", Integer, primary_key=True),
    Column("acctnumber", Text, nullable=False, unique=True),
    Column("acctname", Text, nullable=False),
    Column("accountsearchdisplayname", Text, nullable=False),
    Column("accttype", Text, nullable=False),
    Column("externalid", Text, unique=True),
    _flag("isinactive"),
)

accountingperiod = Table(
    "accountingperiod", metadata,
    Column("id", Integer, primary_key=True),
    Column("periodname", Text, nullable=False),
    Column("startdate", Text, nullable=False),
    Column("enddate", Text, nullable=False),
    _flag("closed"),
    _flag("alllocked"),
    _flag("isposting", "T"),
    _flag("isquarter"),
    _flag("isyear"),
    _flag("isadjust"),
)

employee = Table(
    "employee", metadata,
    Column("id", Integer, primary_key=True),
    Column("entityid", Text, nullable=False, unique=True),   # finsync's employee id, e.g. "E1001"
    Column("firstname", Text),
    Column("lastname", Text),
    Column("email", Text),
    Column("subsidiary", Integer, ForeignKey("subsidiary.id"), nullable=False),
    Column("department", Integer, ForeignKey("department.id")),
    Column("supervisor", Integer),
    Column("externalid", Text, unique=True),
    _flag("isinactive"),
    # Custom entity fields holding the reimbursement bank details (sandbox assumption: a real
    # account names its own custentity_ fields).
    Column("custentity_iban", Text),
    Column("custentity_bank_account_number", Text),
    Column("custentity_bic", Text),
)

term = Table(
    "term", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),   # "2% 10 Net 30", "Net 30"
    Column("daysuntilnetdue", Integer, nullable=False),
    Column("discountpercent", Text),                      # "2" (per cent), null without a discount
    Column("daysuntilexpiry", Integer),                   # days the discount is open
    _flag("isinactive"),
)

vendor = Table(
    "vendor", metadata,
    Column("id", Integer, primary_key=True),
    Column("entityid", Text, nullable=False, unique=True),   # the supplier number, e.g. "SUP-100"
    Column("companyname", Text, nullable=False),
    Column("externalid", Text, unique=True),                 # the supplier number too
    Column("subsidiary", Integer, ForeignKey("subsidiary.id"), nullable=False),
    Column("currency", Integer, ForeignKey("currency.id"), nullable=False),
    Column("terms", Integer, ForeignKey("term.id")),
    _flag("isinactive"),
    # Custom entity fields holding the payment bank details, as on employee (sandbox assumption).
    Column("custentity_iban", Text),
    Column("custentity_bank_account_number", Text),
    Column("custentity_routing_number", Text),
    Column("custentity_bic", Text),
)

# Sandbox assumption: one amount per subsidiary, account, department and period, in the
# subsidiary's currency (a NetSuite account keeps budgets by category and year, spread by period).
budgets = Table(
    "budgets", metadata,
    Column("id", Integer, primary_key=True),
    Column("subsidiary", Integer, ForeignKey("subsidiary.id"), nullable=False),
    Column("account", Integer, ForeignKey("account.id"), nullable=False),
    Column("department", Integer, ForeignKey("department.id"), nullable=False),
    Column("accountingperiod", Integer, ForeignKey("accountingperiod.id"), nullable=False),
    Column("amount", Text, nullable=False),
    Column("currency", Integer, ForeignKey("currency.id"), nullable=False),
    UniqueConstraint("subsidiary", "account", "department", "accountingperiod"),
)

# Sandbox simplification: the header keeps ``subsidiary`` too (NetSuite keeps it per line) and
# lines keep their ``account`` (NetSuite keeps it on transactionaccountingline).
# Amounts on documents are in the transaction's currency (NetSuite's ``foreign*`` columns).
transaction = Table(
    "transaction", metadata,
    Column("id", Integer, primary_key=True),
    Column("tranid", Text, nullable=False),           # a bill's: the supplier's invoice number
    Column("externalid", Text),                       # unique per record type, as in NetSuite
    Column("recordtype", Text, nullable=False),       # "journalentry", "purchaseorder", "vendorbill", ...
    Column("type", Text, nullable=False),             # "Journal", "PurchOrd", "VendBill", "VendCred", "VendPymt"
    Column("trandate", Text, nullable=False),
    Column("postingperiod", Integer, ForeignKey("accountingperiod.id")),   # null on a purchase order
    Column("subsidiary", Integer, ForeignKey("subsidiary.id"), nullable=False),
    Column("currency", Integer, ForeignKey("currency.id"), nullable=False),
    Column("memo", Text),
    _flag("approved", "T"),
    _flag("posting", "T"),                            # 'F': a purchase order (a commitment, not in the GL)
    Column("entity", Integer, ForeignKey("vendor.id")),
    Column("status", String(1)),                      # NetSuite's letter: see purchase_order.py, vendor_bill.py
    Column("approvalstatus", Integer),                # 2 approved
    Column("duedate", Text),
    Column("foreigntotal", Text),
    Column("foreignamountremaining", Text),           # a bill's: not yet paid or credited
    Column("foreignamountpaid", Text),                # a bill's: paid (discounts taken included)
    Column("createdfrom", Integer),                   # a credit's or payment's: the bill it applies to
    # Custom body field pointing a reversing entry at the one it reverses (sandbox assumption).
    Column("custbody_finsync_reverses", Integer),
    Column("createddate", Text, nullable=False),
    Column("lastmodifieddate", Text, nullable=False),
    UniqueConstraint("recordtype", "externalid"),
)

transactionline = Table(
    "transactionline", metadata,
    Column("transaction", Integer, ForeignKey("transaction.id"), primary_key=True),
    Column("id", Integer, primary_key=True),
    Column("linesequencenumber", Integer, nullable=False),
    Column("account", Integer, ForeignKey("account.id"), nullable=False),
    Column("debitforeignamount", Text),
    Column("creditforeignamount", Text),
    Column("department", Integer, ForeignKey("department.id")),
    Column("subsidiary", Integer, ForeignKey("subsidiary.id"), nullable=False),
    Column("memo", Text),
    Column("foreignamount", Text),                    # signed: a debit positive; a purchase order's line amount
    _flag("mainline"),                                # a document's main line: a bill's payable, a payment's bank
    _flag("isclosed"),                                # a purchase order line closed: nothing more to bill
    # Sandbox columns (no NetSuite column says this directly): what bills have used of a purchase
    # order line, and what is still committed (0 once the line is closed).
    Column("foreignamountbilled", Text),
    Column("foreignamountopen", Text),
    Column("orderdoc", Integer),                      # a bill line's purchase order ...
    Column("orderline", Integer),                     # ... and the line it bills
)

# Not NetSuite's: a fingerprint of the last accepted body of a transaction upserted by external
# id (journal entry, purchase order, vendor bill), so an identical upsert is a no-op.
journal_request = Table(
    "sandbox_journal_request", metadata,
    Column("transaction", Integer, ForeignKey("transaction.id"), primary_key=True),
    Column("fingerprint", Text, nullable=False),
)

SUITEQL_TABLES = frozenset(t.name for t in metadata.sorted_tables if not t.name.startswith("sandbox_"))


class OutdatedDatabase(RuntimeError):
    """The database was created by an older sandbox: its tables lack columns this one writes."""


def create_tables(engine: Engine) -> None:
    metadata.create_all(engine)
    present = inspect(engine)
    for table in metadata.sorted_tables:
        missing = {c.name for c in table.columns} - {c["name"] for c in present.get_columns(table.name)}
        if missing:
            raise OutdatedDatabase(f"The NetSuite sandbox database {engine.url.database} predates this sandbox "
                                   f"(table {table.name} lacks {', '.join(sorted(missing))}): delete it to start "
                                   "afresh.")


def by_id(conn: Connection, table: Table, key: int) -> dict[str, Any] | None:
    found = conn.execute(select(table).where(table.c.id == key)).mappings().first()
    return dict(found) if found else None
