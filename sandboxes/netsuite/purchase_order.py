"""purchaseOrder records: commitments. Upserted by external id, closed by PATCH, used up by bills.

A purchase order does not post (``transaction.posting = 'F'``): its lines commit budget. A line's
open amount (``transactionline.foreignamountopen``) is what it orders and bills have not yet used,
never below 0, and 0 once the line is closed. A vendor bill line naming the order line
(``orderDoc``/``orderLine``) uses it up; a vendor credit reversing that bill gives it back.

Status: REST ``status`` ``{"id", "refName"}``, SuiteQL ``transaction.status`` NetSuite's letter.

| REST id        | SuiteQL | when                                                              |
|----------------|---------|-------------------------------------------------------------------|
| pendingReceipt | B       | something open, nothing billed                                    |
| pendingBilling | E       | something open, something billed ("Pending Billing/Partially Received") |
| fullyBilled    | G       | nothing open, no line closed                                      |
| closed         | H       | nothing open, a line closed                                       |

Sandbox simplifications: there are no item receipts (receipts are the procurement platform's), so
partiallyReceived (D) never shows. The caller numbers the lines (``line``, NetSuite assigns them)
and bills name them by ``orderLine``. An order changes by upsert only while nothing is billed
against it and no line is closed. Closing by PATCH: ``{"status": "closed"}`` closes every line,
``{"expense": {"items": [{"line": 2, "isClosed": true}]}}`` the lines named (false reopens one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from sandboxes.netsuite import documents
from sandboxes.netsuite import tables as t
from sandboxes.netsuite.errors import NetSuiteError
from sandboxes.netsuite.records import href
from sandboxes.netsuite.validation import (
    active_account,
    active_department,
    amount,
    body_object,
    check_amount,
    day,
    external_id_of,
    fingerprint,
    ref,
    required_ref,
    sublist_items,
    text,
    vendor_party,
)

RECORD = "purchaseOrder"
RECORDTYPE = "purchaseorder"
PENDING_RECEIPT, PENDING_BILLING, FULLY_BILLED, CLOSED = "B", "E", "G", "H"
STATUS_NAMES = {PENDING_RECEIPT: ("pendingReceipt", "Pending Receipt"),
                PENDING_BILLING: ("pendingBilling", "Pending Billing/Partially Received"),
                FULLY_BILLED: ("fullyBilled", "Fully Billed"), CLOSED: ("closed", "Closed")}


@dataclass(frozen=True)
class OrderLineDraft:
    line: int
    account: int
    department: int | None
    amount: Decimal
    memo: str | None


@dataclass(frozen=True)
class OrderDraft:
    external_id: str
    entity: int
    subsidiary: int | None
    tran_date: date
    currency: int | None
    memo: str | None
    lines: tuple[OrderLineDraft, ...]


def _error(detail: str, code: str, path: str | None) -> NetSuiteError:
    return NetSuiteError(400, detail, code, path)


def _line_number(item: dict[str, Any], path: str) -> int:
    value = item.get("line")
    if value is None:
        raise _error("Please enter value(s) for: Line.", "USER_ERROR", path)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _error(f"Invalid line {value}: a purchase order line is numbered 1 or more.", "INVALID_FLD_VALUE", path)
    return value


def parse(body: Any, external_id: str) -> OrderDraft:
    body = body_object(body)
    external_id_of(body, external_id)   # the body may repeat the URL's, not contradict it
    tran_date = day(body, "tranDate", "Date", required=True)
    assert tran_date is not None
    lines = []
    for i, item in enumerate(sublist_items(body, "expense", minimum=1, what="A purchase order")):
        path = f"expense.items[{i}]"
        value = amount(item, "amount", f"{path}.amount")
        if value is None:
            raise _error("Please enter value(s) for: Amount.", "USER_ERROR", f"{path}.amount")
        lines.append(OrderLineDraft(
            line=_line_number(item, f"{path}.line"), account=required_ref(item, "account", f"{path}.account", "Account"),
            department=ref(item, "department", f"{path}.department", "Department", required=False),
            amount=value, memo=text(item, "memo", f"{path}.memo")))
    numbers = [line.line for line in lines]
    for i, number in enumerate(numbers):
        if number in numbers[:i]:
            raise _error(f"Line {number} appears more than once.", "USER_ERROR", f"expense.items[{i}].line")
    return OrderDraft(
        external_id=external_id,
        entity=required_ref(body, "entity", "entity", "Vendor"),
        subsidiary=ref(body, "subsidiary", "subsidiary", "Subsidiary", required=False),
        tran_date=tran_date, currency=ref(body, "currency", "currency", "Currency", required=False),
        memo=text(body, "memo", "memo"), lines=tuple(lines))


def upsert(conn: Connection, external_id: str, body: Any) -> int:
    """``PUT /record/v1/purchaseOrder/eid:{externalId}``: commit; the same body again changes nothing."""
    draft = parse(body, external_id)
    existing = documents.find(conn, RECORDTYPE, f"eid:{external_id}")
    if existing is not None and documents.stored_fingerprint(conn, existing) == fingerprint(draft):
        return existing
    if existing is not None:
        lines = documents.lines_of(conn, existing)
        if any(documents.decimal(line["foreignamountbilled"]) or line["isclosed"] == "T" for line in lines):
            header = t.by_id(conn, t.transaction, existing) or {}
            raise _error(f"Purchase order {header.get('tranid')} has bills against it or closed lines: it cannot "
                         "change. Close it and raise another.", "USER_ERROR", None)
    party = vendor_party(conn, draft.entity, draft.subsidiary, draft.currency)
    for i, line in enumerate(draft.lines):
        path = f"expense.items[{i}]"
        active_account(conn, line.account, f"{path}.account")
        if line.department is not None:
            active_department(conn, line.department, party.subsidiary, f"{path}.department")
        check_amount(line.amount, party.currency, f"{path}.amount", "amount")
    precision = party.currency["currencyprecision"]
    values = {"externalid": draft.external_id, "trandate": draft.tran_date.isoformat(), "subsidiary": party.subsidiary,
              "currency": party.currency["id"], "memo": draft.memo, "entity": party.vendor["id"], "posting": "F",
              "status": PENDING_RECEIPT, "approvalstatus": 2,
              "foreigntotal": documents.money(sum((line.amount for line in draft.lines), Decimal(0)), precision)}
    if existing is None:
        order_id = documents.insert_header(conn, RECORDTYPE, "PurchOrd", values, number_prefix="PO")
    else:
        order_id = existing
        documents.update_header(conn, order_id, **values)
        conn.execute(delete(t.transactionline).where(t.transactionline.c.transaction == order_id))
    conn.execute(t.transactionline.insert(), [
        {"transaction": order_id, "id": line.line, "linesequencenumber": i, "account": line.account,
         "department": line.department, "subsidiary": party.subsidiary, "memo": line.memo,
         "foreignamount": documents.money(line.amount, precision), "foreignamountbilled": documents.money(
             Decimal(0), precision), "foreignamountopen": documents.money(line.amount, precision)}
        for i, line in enumerate(draft.lines)])
    documents.remember_fingerprint(conn, order_id, fingerprint(draft))
    return order_id


def patch(conn: Connection, key: str, body: Any) -> None:
    """``PATCH /record/v1/purchaseOrder/{id}``: close the order or some of its lines."""
    order = documents.header(conn, RECORDTYPE, key)
    body = body_object(body)
    for name in body:
        if name not in ("status", "expense"):
            raise _error(f"Invalid field '{name}' for record type {RECORD}, or it cannot be set.", "INVALID_CONTENT",
                         name)
    numbers = {line["id"] for line in documents.lines_of(conn, order["id"])}
    closing: dict[int, bool] = {}
    if "status" in body:
        status = body["status"]
        if (status.get("id") if isinstance(status, dict) else status) != "closed":
            raise _error("The sandbox sets a purchase order's status to closed only.", "INVALID_FLD_VALUE", "status")
        closing = dict.fromkeys(numbers, True)
    if "expense" in body:
        for i, item in enumerate(sublist_items(body, "expense", minimum=1, what="Closing lines")):
            path = f"expense.items[{i}]"
            number = _line_number(item, f"{path}.line")
            if number not in numbers or set(item) - {"line", "isClosed"}:
                raise _error(f"Line {number} is not on purchase order {order['tranid']}, or only isClosed can be set.",
                             "INVALID_KEY_OR_REF", f"{path}.line")
            if not isinstance(item.get("isClosed"), bool):
                raise _error("Invalid value for field isClosed: true or false.", "INVALID_FLD_VALUE", f"{path}.isClosed")
            closing[number] = closing.get(number, False) or item["isClosed"]
    for number, closed in closing.items():
        line = _line(conn, order["id"], number)
        _set_line(conn, order["id"], line, billed=documents.decimal(line["foreignamountbilled"]), closed=closed)
    _refresh_status(conn, order["id"])


def order_line(conn: Connection, order_id: int, number: int) -> dict[str, Any] | None:
    found = conn.execute(select(t.transactionline).where(
        t.transactionline.c.transaction == order_id, t.transactionline.c.id == number)).mappings().first()
    return dict(found) if found else None


def bill_against(conn: Connection, order_id: int, number: int, billed: Decimal) -> None:
    """A bill used ``billed`` of the order line (a credit reversing it: a negative amount)."""
    line = _line(conn, order_id, number)
    _set_line(conn, order_id, line, billed=documents.decimal(line["foreignamountbilled"]) + billed,
              closed=line["isclosed"] == "T")
    _refresh_status(conn, order_id)


def _line(conn: Connection, order_id: int, number: int) -> dict[str, Any]:
    line = order_line(conn, order_id, number)
    assert line is not None, f"line {number} of purchase order {order_id}"
    return line


def _set_line(conn: Connection, order_id: int, line: dict[str, Any], *, billed: Decimal, closed: bool) -> None:
    precision = documents.precision_of(conn, (t.by_id(conn, t.transaction, order_id) or {})["currency"])
    still_open = Decimal(0) if closed else max(Decimal(0), Decimal(line["foreignamount"]) - billed)
    conn.execute(update(t.transactionline).where(
        t.transactionline.c.transaction == order_id, t.transactionline.c.id == line["id"]).values(
        foreignamountbilled=documents.money(billed, precision), foreignamountopen=documents.money(still_open, precision),
        isclosed="T" if closed else "F"))


def _refresh_status(conn: Connection, order_id: int) -> None:
    lines = documents.lines_of(conn, order_id)
    if any(documents.decimal(line["foreignamountopen"]) > 0 for line in lines):
        billed = any(documents.decimal(line["foreignamountbilled"]) > 0 for line in lines)
        status = PENDING_BILLING if billed else PENDING_RECEIPT
    else:
        status = CLOSED if any(line["isclosed"] == "T" for line in lines) else FULLY_BILLED
    documents.update_header(conn, order_id, status=status)


def render(conn: Connection, order_id: int, base_url: str, *, expand: bool) -> dict[str, Any]:
    """The order as ``GET /record/v1/purchaseOrder/{id}`` returns it; lines only with ``expandSubResources``."""
    row = t.by_id(conn, t.transaction, order_id)
    assert row is not None
    body = documents.render_header(conn, row, RECORD, base_url)
    status_id, status_name = STATUS_NAMES[row["status"]]
    body.update({"status": {"id": status_id, "refName": status_name}, "total": Decimal(row["foreigntotal"])})
    items = [_render_line(line, base_url) for line in documents.lines_of(conn, order_id)] if expand else None
    body["expense"] = documents.sublist(href(base_url, RECORD, order_id), "expense", items)
    return body


def _render_line(line: dict[str, Any], base_url: str) -> dict[str, Any]:
    return {**documents.expense_item(line, base_url, Decimal(line["foreignamount"])), "isClosed": line["isclosed"] == "T",
            # Sandbox fields: what bills have used of the line, and what it still commits.
            "amountBilled": Decimal(line["foreignamountbilled"]), "amountOpen": Decimal(line["foreignamountopen"])}
