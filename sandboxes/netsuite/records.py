"""REST record types: their JSON shape and the ``q`` filter of a list.

A record type maps NetSuite's camelCase REST fields to the SuiteQL columns behind them. Records
kept in ``transaction`` (journal entries, purchase orders, bills, credits, payments) are listed
and filtered here, and read and written by their own modules (journal.py, purchase_order.py,
vendor_bill.py, vendor_credit.py, vendor_payment.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, and_, false, or_
from sqlalchemy.sql.elements import ColumnElement

from sandboxes.netsuite import tables as t
from sandboxes.netsuite.errors import NetSuiteError

RECORD_PATH = "/services/rest/record/v1"


@dataclass(frozen=True)
class Field:
    name: str                   # REST field, e.g. "acctNumber"
    column: str                 # SuiteQL column, e.g. "acctnumber"
    kind: str = "text"          # text | bool | ref | int | decimal
    ref: str | None = None      # record type a "ref" points at


@dataclass(frozen=True)
class RecordType:
    name: str                   # REST record type, e.g. "accountingPeriod"
    table: Table
    fields: tuple[Field, ...]
    writable: frozenset[str] = frozenset()   # fields PATCH may change
    recordtype: str | None = None            # a transaction's: the value of transaction.recordtype

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name.lower() == name.lower()), None)


def _ref(name: str, record: str) -> Field:
    return Field(name, name.lower(), "ref", record)


_BANK_DETAILS = (Field("custentity_iban", "custentity_iban"),
                 Field("custentity_bank_account_number", "custentity_bank_account_number"),
                 Field("custentity_bic", "custentity_bic"))
_TRANSACTION_FIELDS = (
    Field("tranId", "tranid"), Field("externalId", "externalid"), Field("tranDate", "trandate"),
    _ref("subsidiary", "subsidiary"), _ref("currency", "currency"),
    Field("postingPeriod", "postingperiod", "ref", "accountingPeriod"), Field("memo", "memo"))
_VENDOR_TRANSACTION_FIELDS = (*_TRANSACTION_FIELDS, Field("entity", "entity", "ref", "vendor"))


RECORD_TYPES = {rt.name.lower(): rt for rt in [
    RecordType("subsidiary", t.subsidiary, (
        Field("name", "name"), Field("externalId", "externalid"), _ref("currency", "currency"),
        Field("country", "country"), Field("isInactive", "isinactive", "bool"))),
    RecordType("currency", t.currency, (
        Field("symbol", "symbol"), Field("name", "name"), Field("currencyPrecision", "currencyprecision", "int"),
        Field("isInactive", "isinactive", "bool"))),
    # Sandbox choice: NetSuite's currencyRate record (not consolidatedExchangeRate) holds FX rates.
    RecordType("currencyRate", t.currencyrate, (
        Field("baseCurrency", "basecurrency", "ref", "currency"),
        Field("transactionCurrency", "transactioncurrency", "ref", "currency"),
        Field("exchangeRate", "exchangerate", "decimal"), Field("effectiveDate", "effectivedate"))),
    RecordType("department", t.department, (
        Field("name", "name"), Field("externalId", "externalid"), _ref("subsidiary", "subsidiary"),
        Field("isInactive", "isinactive", "bool"))),
    RecordType("account", t.account, (
        Field("acctNumber", "acctnumber"), Field("acctName", "acctname"), Field("acctType", "accttype"),
        Field("externalId", "externalid"), Field("isInactive", "isinactive", "bool"))),
    RecordType("accountingPeriod", t.accountingperiod, (
        Field("periodName", "periodname"), Field("startDate", "startdate"), Field("endDate", "enddate"),
        Field("closed", "closed", "bool"), Field("allLocked", "alllocked", "bool"),
        Field("isPosting", "isposting", "bool"), Field("isQuarter", "isquarter", "bool"),
        Field("isYear", "isyear", "bool"), Field("isAdjust", "isadjust", "bool"))),
    RecordType("employee", t.employee, (
        Field("entityId", "entityid"), Field("firstName", "firstname"), Field("lastName", "lastname"),
        Field("email", "email"), _ref("subsidiary", "subsidiary"), _ref("department", "department"),
        Field("supervisor", "supervisor", "ref", "employee"), Field("externalId", "externalid"),
        Field("isInactive", "isinactive", "bool"), *_BANK_DETAILS),
        writable=frozenset({"firstname", "lastname", "email", "isinactive", "custentity_iban",
                            "custentity_bank_account_number", "custentity_bic"})),
    RecordType("term", t.term, (
        Field("name", "name"), Field("daysUntilNetDue", "daysuntilnetdue", "int"),
        Field("discountPercent", "discountpercent", "decimal"), Field("daysUntilExpiry", "daysuntilexpiry", "int"),
        Field("isInactive", "isinactive", "bool"))),
    # A supplier; entityId and externalId are its supplier number (SUP-100).
    RecordType("vendor", t.vendor, (
        Field("entityId", "entityid"), Field("companyName", "companyname"), Field("externalId", "externalid"),
        _ref("subsidiary", "subsidiary"), _ref("currency", "currency"), Field("terms", "terms", "ref", "term"),
        Field("isInactive", "isinactive", "bool"), *_BANK_DETAILS,
        Field("custentity_routing_number", "custentity_routing_number")),
        writable=frozenset({"isinactive", "custentity_iban", "custentity_bank_account_number",
                            "custentity_routing_number", "custentity_bic"})),
    RecordType("journalEntry", t.transaction, _TRANSACTION_FIELDS, recordtype="journalentry"),
    RecordType("purchaseOrder", t.transaction, _VENDOR_TRANSACTION_FIELDS, recordtype="purchaseorder"),
    RecordType("vendorBill", t.transaction, _VENDOR_TRANSACTION_FIELDS, recordtype="vendorbill"),
    RecordType("vendorCredit", t.transaction, _VENDOR_TRANSACTION_FIELDS, recordtype="vendorcredit"),
    RecordType("vendorPayment", t.transaction, _VENDOR_TRANSACTION_FIELDS, recordtype="vendorpayment"),
]}


def record_type(name: str) -> RecordType:
    found = RECORD_TYPES.get(name.lower())
    if found is None:
        raise NetSuiteError(404, f"Record type '{name}' does not exist.", "NONEXISTENT_ID")
    return found


def href(base_url: str, record: str, record_id: Any) -> str:
    return f"{base_url}{RECORD_PATH}/{record}/{record_id}"


def ref_value(base_url: str, record: str, record_id: Any) -> dict[str, Any]:
    return {"links": [{"rel": "self", "href": href(base_url, record, record_id)}], "id": str(record_id)}


def render(rt: RecordType, row: dict[str, Any], base_url: str) -> dict[str, Any]:
    """A record as ``GET /record/v1/{type}/{id}`` returns it (null fields left out)."""
    body: dict[str, Any] = {"links": [{"rel": "self", "href": href(base_url, rt.name, row["id"])}],
                            "id": str(row["id"])}
    for f in rt.fields:
        value = row[f.column]
        if value is None:
            continue
        if f.kind == "bool":
            body[f.name] = value == "T"
        elif f.kind == "ref":
            body[f.name] = ref_value(base_url, f.ref or f.name, value)
        elif f.kind == "decimal":
            body[f.name] = Decimal(value)
        else:
            body[f.name] = value
    return body


def patch_values(rt: RecordType, body: Any) -> dict[str, Any]:
    """Column values a PATCH body sets (null clears a field)."""
    if not isinstance(body, dict):
        raise NetSuiteError(400, "The request body must be a JSON object.", "INVALID_CONTENT")
    values: dict[str, Any] = {}
    for name, value in body.items():
        f = rt.field(name)
        if f is None or f.column not in rt.writable:
            raise NetSuiteError(400, f"Invalid field '{name}' for record type {rt.name}, or it cannot be set.",
                                "INVALID_CONTENT", name)
        if f.kind == "bool":
            if not isinstance(value, bool):
                raise NetSuiteError(400, f"Invalid value for field {name}.", "INVALID_FLD_VALUE", name)
            value = "T" if value else "F"
        elif value is not None and not isinstance(value, str):
            raise NetSuiteError(400, f"Invalid value for field {name}.", "INVALID_FLD_VALUE", name)
        values[f.column] = value
    return values


# --- the ``q`` query parameter: `field OP value` conditions joined by AND or OR -------------
_CONDITION = re.compile(
    r'\s*(?P<field>\w+)\s+(?P<op>IS_NOT|IS|START_WITH|CONTAIN|EMPTY_NOT|EMPTY|ANY_OF)'
    r'(?:\s+(?P<value>"(?:[^"\\]|\\.)*"(?:\s*,\s*"(?:[^"\\]|\\.)*")*|[\w.-]+))?\s*', re.IGNORECASE)
_JOIN = re.compile(r"\s*(AND|OR)\s+", re.IGNORECASE)


def where(rt: RecordType, q: str) -> ColumnElement[bool]:
    """The SQL condition for a record query such as ``acctNumber IS "6100" AND isInactive IS false``."""
    conditions, joins, pos = [], set(), 0
    while True:
        match = _CONDITION.match(q, pos)
        if match is None:
            raise _bad_query(q)
        conditions.append(_condition(rt, match))
        pos = match.end()
        if pos == len(q):
            break
        join = _JOIN.match(q, pos)
        if join is None:
            raise _bad_query(q)
        joins.add(join.group(1).upper())
        pos = join.end()
    if len(joins) > 1:
        raise NetSuiteError(400, "The sandbox does not support mixing AND and OR in one query.",
                            "INVALID_PARAMETER", "q")
    return or_(*conditions) if joins == {"OR"} else and_(*conditions)


def _bad_query(q: str) -> NetSuiteError:
    return NetSuiteError(400, f"Invalid query: {q}", "INVALID_PARAMETER", "q")


def _condition(rt: RecordType, match: re.Match[str]) -> ColumnElement[bool]:
    f = rt.field(match["field"])
    if f is None:
        raise NetSuiteError(400, f"Unknown field '{match['field']}' for record type {rt.name}.",
                            "INVALID_PARAMETER", "q")
    column, op, raw = rt.table.c[f.column], match["op"].upper(), match["value"]
    if op == "EMPTY":
        return column.is_(None)
    if op == "EMPTY_NOT":
        return column.is_not(None)
    if raw is None:
        raise NetSuiteError(400, f"Operator {op} needs a value.", "INVALID_PARAMETER", "q")
    values = [_unquote(v) for v in re.findall(r'"(?:[^"\\]|\\.)*"', raw)] or [raw]
    if f.kind == "bool":
        flag = values[0].lower() == "true"
        return (column == ("T" if flag else "F")) if op == "IS" else (column != ("T" if flag else "F"))
    if op == "IS":
        return column == values[0]
    if op == "IS_NOT":
        return column != values[0]
    if op == "START_WITH":
        return column.startswith(values[0], autoescape=True)
    if op == "CONTAIN":
        return column.contains(values[0], autoescape=True)
    return column.in_(values) if values else false()


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])
