"""The sandbox's SQLite schema, named as NetSuite's SuiteQL tables so SuiteQL runs on it as is.

Conventions follow SuiteQL: lower-case column names, internal ids as integers, booleans as
'T'/'F', dates as ISO text (SuiteQL formats them on the way out), amounts and rates as exact
decimal text. The same rows back the REST record API (``records.py``, ``journal.py``).
Own MetaData, so these names cannot clash with another sandbox's tables in one process.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, Text, select
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

# Sandbox simplification: the header keeps ``subsidiary`` too (NetSuite keeps it per line) and
# lines keep their ``account`` (NetSuite keeps it on transactionaccountingline).
transaction = Table(
    "transaction", metadata,
    Column("id", Integer, primary_key=True),
    Column("tranid", Text, nullable=False),
    Column("externalid", Text, unique=True),
    Column("recordtype", Text, nullable=False),       # "journalentry"
    Column("type", Text, nullable=False),             # "Journal"
    Column("trandate", Text, nullable=False),
    Column("postingperiod", Integer, ForeignKey("accountingperiod.id"), nullable=False),
    Column("subsidiary", Integer, ForeignKey("subsidiary.id"), nullable=False),
    Column("currency", Integer, ForeignKey("currency.id"), nullable=False),
    Column("memo", Text),
    _flag("approved", "T"),
    # Custom body field pointing a reversing entry at the one it reverses (sandbox assumption).
    Column("custbody_finsync_reverses", Integer),
    Column("createddate", Text, nullable=False),
    Column("lastmodifieddate", Text, nullable=False),
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
)

# Not NetSuite's: a fingerprint of the last accepted body, so an identical upsert is a no-op.
journal_request = Table(
    "sandbox_journal_request", metadata,
    Column("transaction", Integer, ForeignKey("transaction.id"), primary_key=True),
    Column("fingerprint", Text, nullable=False),
)

SUITEQL_TABLES = frozenset(t.name for t in metadata.sorted_tables if not t.name.startswith("sandbox_"))


def create_tables(engine: Engine) -> None:
    metadata.create_all(engine)


def by_id(conn: Connection, table: Table, key: int) -> dict[str, Any] | None:
    found = conn.execute(select(table).where(table.c.id == key)).mappings().first()
    return dict(found) if found else None
