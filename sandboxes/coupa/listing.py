"""Coupa's list queries: ``offset`` + ``limit`` paging and ``attr[op]=value`` filters.

- Paging: ``limit`` 1 to 50 (default 50), ``offset`` from 0; records in id order. The answer is
  a bare JSON array; fewer than ``limit`` records means the last page. A ``limit`` above 50 is
  refused (400) rather than quietly capped, so a client cannot mistake a capped page for the last.
- Filters: ``attr=value`` (equals) or ``attr[op]=value`` with ``op`` one of gt, lt, gt_or_eq,
  lt_or_eq, not_eq, in, not_in (comma-separated values), contains, starts_with, ends_with, blank
  (true/false). Nested records filter by their own attributes: ``supplier[name]=Northwind``,
  ``supplier[name][starts_with]=North``. Several filters all apply. ``updated_at`` reads as
  ``updated-at``.
- An unknown attribute, an operator that does not fit the attribute, or a value that does not
  parse is one 400 naming it. Values only ever reach SQL as bound parameters.
- ``fields``, ``order_by``, ``dir`` and ``return_object`` (Coupa has them) are refused as not
  supported by the sandbox.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, Table, not_, or_, select
from sqlalchemy.engine import Connection

from sandboxes.coupa import tables as t
from sandboxes.coupa.clock import instant
from sandboxes.coupa.errors import CoupaError

MAX_LIMIT = 50
MAX_LIST = 100                       # values of one in/not_in filter
UNSUPPORTED = ("fields", "order_by", "dir", "return_object")
RANGE_OPS = {"gt": "__gt__", "lt": "__lt__", "gt_or_eq": "__ge__", "lt_or_eq": "__le__"}
TEXT_OPS = ("contains", "starts_with", "ends_with")
OPERATORS = ("eq", *RANGE_OPS, "not_eq", "in", "not_in", *TEXT_OPS, "blank")
_INTEGER = re.compile(r"-?[0-9]{1,18}")
_KEY = re.compile(r"(?P<attr>[A-Za-z0-9_-]+)(?P<path>(?:\[[A-Za-z0-9_-]+\])*)")

Kind = Literal["int", "text", "enum", "bool", "datetime", "date"]


@dataclass(frozen=True)
class Field:
    column: str
    kind: Kind
    choices: tuple[str, ...] = ()       # for an enum


@dataclass(frozen=True)
class Ref:
    """A nested record filtered by its own attributes: ``supplier[name]=...``."""
    column: str                         # the foreign key here
    target: str                         # the resource it points at


@dataclass(frozen=True)
class Inline:
    """A nested object whose fields live on this record: ``currency[code]=EUR``."""
    fields: dict[str, Field]


Attribute = Field | Ref | Inline


@dataclass(frozen=True)
class Resource:
    name: str                           # as in messages: "invoices"
    table: Table
    attributes: dict[str, Attribute]


def _stamps() -> dict[str, Attribute]:
    return {"id": Field("id", "int"), "created-at": Field("created_at", "datetime"),
            "updated-at": Field("updated_at", "datetime")}


REQUISITION_STATUSES = ("draft", "cart", "pending_buyer_action", "pending_approval", "approved", "ordered",
                        "partially_received", "received", "abandoned", "withdrawn")
APPROVAL_STATUSES = ("pending", "on_hold", "approved", "rejected")
PO_STATUSES = ("draft", "buyer_hold", "supplier_hold", "issued", "closed", "cancelled", "currency_hold", "error")
RECEIPT_STATUSES = ("created", "voided")
INVOICE_STATUSES = ("new", "draft", "pending_approval", "pending_receipt", "approved", "on_hold", "ap_hold",
                    "disputed", "voided", "abandoned")
CURRENCY = Inline({"code": Field("currency", "text")})

RESOURCES: dict[str, Resource] = {r.name: r for r in [
    Resource("users", t.user, {
        "id": Field("id", "int"), "login": Field("login", "text"), "email": Field("email", "text"),
        "employee-number": Field("employee_number", "text")}),
    Resource("addresses", t.address, {
        "id": Field("id", "int"), "name": Field("name", "text"), "location-code": Field("location_code", "text")}),
    Resource("suppliers", t.supplier, {
        **_stamps(), "number": Field("number", "text"), "name": Field("name", "text"),
        "status": Field("status", "enum", ("active", "inactive")), "on-hold": Field("on_hold", "bool"),
        "currency": CURRENCY, "content-groups": Inline({"name": Field("entity", "text")})}),
    Resource("requisitions", t.requisition, {
        **_stamps(), "status": Field("status", "enum", REQUISITION_STATUSES), "exported": Field("exported", "bool"),
        "submitted-at": Field("submitted_at", "datetime"), "currency": CURRENCY,
        "requested-by": Ref("requested_by_id", "users"), "ship-to-address": Ref("ship_to_id", "addresses")}),
    Resource("approvals", t.approval, {
        **_stamps(), "status": Field("status", "enum", APPROVAL_STATUSES),
        "approvable-type": Field("approvable_type", "text"), "approvable-id": Field("approvable_id", "int"),
        "approver": Ref("approver_id", "users")}),
    Resource("purchase_orders", t.purchase_order, {
        **_stamps(), "status": Field("status", "enum", PO_STATUSES), "exported": Field("exported", "bool"),
        "po-number": Field("po_number", "text"), "currency": CURRENCY, "supplier": Ref("supplier_id", "suppliers"),
        "requisition-header": Ref("requisition_id", "requisitions")}),
    Resource("order_lines", t.order_line, {
        "id": Field("id", "int"), "line-num": Field("line_num", "int"),
        "order-header-id": Field("order_header_id", "int"), "order-header": Ref("order_header_id", "purchase_orders")}),
    Resource("inventory_transactions", t.inventory_transaction, {
        **_stamps(), "status": Field("status", "enum", RECEIPT_STATUSES), "exported": Field("exported", "bool"),
        "type": Field("type", "text"), "transaction-date": Field("transaction_date", "date"),
        "order-line": Ref("order_line_id", "order_lines")}),
    Resource("invoices", t.invoice, {
        **_stamps(), "status": Field("status", "enum", INVOICE_STATUSES), "exported": Field("exported", "bool"),
        "invoice-number": Field("invoice_number", "text"), "invoice-date": Field("invoice_date", "date"),
        "paid": Field("paid", "bool"), "payment-date": Field("payment_date", "date"), "currency": CURRENCY,
        "supplier": Ref("supplier_id", "suppliers")}),
]}


def _bad(message: str) -> CoupaError:
    return CoupaError(400, message)


def page(params: Sequence[tuple[str, str]]) -> tuple[int, int]:
    """``(offset, limit)`` from the query string."""
    values = dict(params)
    return _count(values.get("offset"), "offset", 0, None), _count(values.get("limit"), "limit", MAX_LIMIT, MAX_LIMIT)


def _count(raw: str | None, name: str, default: int, most: int | None) -> int:
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"[0-9]{1,9}", raw):
        raise _bad(f"{name} must be a whole number" + (f" from 1 to {most}." if most else " of 0 or more."))
    value = int(raw)
    if most is not None and not 1 <= value <= most:
        raise _bad(f"{name} must be from 1 to {most}; page with offset.")
    return value


def query(resource: Resource, params: Sequence[tuple[str, str]]) -> Select:
    """The ids of the records the filters in ``params`` select (paging applied), in id order."""
    offset, limit = page(params)
    conditions = [condition(resource, key, value) for key, value in params if key not in ("offset", "limit")]
    table = resource.table
    return select(table.c.id).where(*conditions).order_by(table.c.id).offset(offset).limit(limit)


def listed(conn: Connection, resource: Resource, params: Sequence[tuple[str, str]],
           render: Callable[[Connection, dict[str, Any]], dict[str, Any]]) -> list[dict[str, Any]]:
    ids = conn.execute(query(resource, params)).scalars().all()
    rows = {row["id"]: dict(row) for row in conn.execute(
        select(resource.table).where(resource.table.c.id.in_(ids))).mappings()}
    return [render(conn, rows[i]) for i in ids]


def condition(resource: Resource, key: str, value: str) -> ColumnElement[bool]:
    """The SQL condition of one query parameter ``key=value``."""
    if key in UNSUPPORTED:
        raise _bad(f"The sandbox does not support the {key} parameter; it lists whole records in id order.")
    match = _KEY.fullmatch(key)
    if match is None:
        raise _bad(f"{_shown(key)} is not a filter: use attribute=value or attribute[operator]=value.")
    parts = [match["attr"], *re.findall(r"\[([^\]]+)\]", match["path"])]
    return _resolve(resource, parts, value, key)


def _resolve(resource: Resource, parts: list[str], value: str, key: str) -> ColumnElement[bool]:
    name = parts[0].replace("_", "-")
    attribute = resource.attributes.get(name)
    if attribute is None:
        raise _bad(f"Unknown attribute {name} for {resource.name} (in {key}); "
                   f"filter by one of: {', '.join(sorted(resource.attributes))}.")
    rest = parts[1:]
    if isinstance(attribute, Ref):
        target = RESOURCES[attribute.target]
        if not rest or rest[0] in OPERATORS:
            raise _bad(f"{name} is a nested record: filter by one of its attributes, e.g. {name}[id]=1.")
        matching = select(target.table.c.id).where(_resolve(target, rest, value, key))
        return resource.table.c[attribute.column].in_(matching)
    if isinstance(attribute, Inline):
        if not rest or rest[0] not in attribute.fields:
            raise _bad(f"{name} is a nested object: filter by {' or '.join(f'{name}[{f}]' for f in attribute.fields)}.")
        field, rest = attribute.fields[rest[0]], rest[1:]
    else:
        field = attribute
    if len(rest) > 1:
        raise _bad(f"{key} is not a filter: one operator at most.")
    op = rest[0] if rest else "eq"
    if op not in OPERATORS:
        raise _bad(f"Unknown operator {op} in {key}; use one of: {', '.join(OPERATORS[1:])}.")
    return _compare(resource.table, field, op, value, key)


def _compare(table: Table, field: Field, op: str, raw: str, key: str) -> ColumnElement[bool]:
    column = table.c[field.column]
    if op == "blank":
        flag = _parse(Field(field.column, "bool"), raw, key)
        empty = or_(column.is_(None), column == "") if field.kind in ("text", "enum") else column.is_(None)
        return empty if flag else not_(empty)
    if op in ("in", "not_in"):
        parts = raw.split(",")
        if len(parts) > MAX_LIST:
            raise _bad(f"{key} takes at most {MAX_LIST} values.")
        values = [_parse(field, part, key) for part in parts]
        return column.in_(values) if op == "in" else column.not_in(values)
    if op in TEXT_OPS:
        if field.kind not in ("text", "enum"):
            raise _bad(f"{op} applies to text attributes, not to {key.split('[')[0]}.")
        if op == "contains":
            return column.contains(raw, autoescape=True)
        if op == "starts_with":
            return column.startswith(raw, autoescape=True)
        return column.endswith(raw, autoescape=True)
    if op in RANGE_OPS:
        if field.kind not in ("int", "datetime", "date"):
            raise _bad(f"{op} applies to numbers, dates and times, not to {key.split('[')[0]}.")
        return getattr(column, RANGE_OPS[op])(_parse(field, raw, key))
    value = _parse(field, raw, key)
    return column == value if op == "eq" else column != value


def _parse(field: Field, raw: str, key: str) -> Any:
    """A filter value as the column holds it, or a 400 saying what was expected."""
    if field.kind == "int":
        if not _INTEGER.fullmatch(raw):
            raise _bad(f"{key} takes a whole number, not {_shown(raw)}.")
        return int(raw)
    if field.kind == "bool":
        if raw.lower() not in ("true", "false"):
            raise _bad(f"{key} takes true or false, not {_shown(raw)}.")
        return raw.lower() == "true"
    if field.kind == "enum":
        if raw not in field.choices:
            raise _bad(f"{key} takes one of {', '.join(field.choices)}, not {_shown(raw)}.")
        return raw
    if field.kind == "datetime":
        try:
            return instant(raw)
        except ValueError:
            raise _bad(f"{key} takes an ISO 8601 date-time such as 2026-03-15T10:00:00+00:00, not {_shown(raw)}.") from None
    if field.kind == "date":
        try:
            return date.fromisoformat(raw).isoformat()
        except ValueError:
            raise _bad(f"{key} takes a date such as 2026-03-15, not {_shown(raw)}.") from None
    return raw


def _shown(raw: str) -> str:
    """A value quoted back in a message, cut short: the caller sent it, it need not come back whole."""
    return repr(raw if len(raw) <= 40 else raw[:40] + "...")
