"""vendorBill records: a supplier's invoice, upserted by external id, read back in NetSuite's shape.

GL: Dr each expense line's account (with its department), Cr 2010 Accounts Payable - Trade for the
total (the bill's main line). A line naming a purchase order line (``orderDoc``/``orderLine``) uses
up that line's commitment. The same body upserted again changes nothing (exactly once); another
body changes the bill only while nothing is paid or credited on it and its period is open.

Status: REST ``status`` ``{"id", "refName"}``, SuiteQL ``transaction.status``: open (A) while an
amount remains, paidInFull (B) at 0, whether payments or a vendor credit brought it there
(``amountPaid`` says how much was paid). Refusals beyond validation.py's (sandbox assumptions):

| refusal                                              | o:errorCode        | o:errorPath                 |
|------------------------------------------------------|--------------------|-----------------------------|
| the vendor's reference number (tranId) on another bill of it | DUP_RCRD   | tranId                      |
| orderDoc not a purchase order of this vendor and currency | INVALID_KEY_OR_REF | expense.items[i].orderDoc |
| orderLine not on it / closed                         | INVALID_KEY_OR_REF / INVALID_FLD_VALUE | expense.items[i].orderLine |
| a changed body for a bill paid or credited           | USER_ERROR         |                             |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from sandboxes.netsuite import documents, purchase_order
from sandboxes.netsuite import tables as t
from sandboxes.netsuite.errors import NetSuiteError
from sandboxes.netsuite.records import href, ref_value
from sandboxes.netsuite.validation import (
    VendorParty,
    active_account,
    active_department,
    amount,
    body_object,
    check_amount,
    day,
    ensure_open,
    external_id_of,
    fingerprint,
    posting_period,
    ref,
    required_ref,
    sublist_items,
    text,
    vendor_party,
)

RECORD = "vendorBill"
RECORDTYPE = "vendorbill"
PAYABLE_ACCOUNT = "2010"
OPEN, PAID_IN_FULL = "A", "B"
STATUS_NAMES = {OPEN: ("open", "Open"), PAID_IN_FULL: ("paidInFull", "Paid In Full")}


@dataclass(frozen=True)
class BillLineDraft:
    account: int
    department: int | None
    amount: Decimal
    memo: str | None
    order_doc: int | None
    order_line: int | None


@dataclass(frozen=True)
class BillDraft:
    external_id: str
    entity: int
    subsidiary: int | None
    tran_date: date
    due_date: date | None
    tran_id: str
    currency: int | None
    posting_period: int | None
    memo: str | None
    lines: tuple[BillLineDraft, ...]


def _error(detail: str, code: str, path: str | None) -> NetSuiteError:
    return NetSuiteError(400, detail, code, path)


def parse(body: Any, external_id: str) -> BillDraft:
    body = body_object(body)
    external_id_of(body, external_id)   # the body may repeat the URL's, not contradict it
    tran_date = day(body, "tranDate", "Date", required=True)
    assert tran_date is not None
    tran_id = text(body, "tranId", "tranId")
    if not tran_id:
        raise _error("Please enter value(s) for: Reference No.", "USER_ERROR", "tranId")
    lines = []
    for i, item in enumerate(sublist_items(body, "expense", minimum=1, what="A vendor bill")):
        path = f"expense.items[{i}]"
        value = amount(item, "amount", f"{path}.amount")
        if value is None:
            raise _error("Please enter value(s) for: Amount.", "USER_ERROR", f"{path}.amount")
        order_line = item.get("orderLine")
        if order_line is not None and (isinstance(order_line, bool) or not isinstance(order_line, int)):
            raise _error(f"Invalid value for field orderLine: {order_line}.", "INVALID_FLD_VALUE", f"{path}.orderLine")
        order_doc = ref(item, "orderDoc", f"{path}.orderDoc", "Order", required=False)
        if (order_doc is None) != (order_line is None):
            raise _error("A bill line names a purchase order line with both orderDoc and orderLine.", "USER_ERROR",
                         f"{path}.orderLine" if order_line is None else f"{path}.orderDoc")
        lines.append(BillLineDraft(
            account=required_ref(item, "account", f"{path}.account", "Account"),
            department=ref(item, "department", f"{path}.department", "Department", required=False),
            amount=value, memo=text(item, "memo", f"{path}.memo"), order_doc=order_doc, order_line=order_line))
    return BillDraft(
        external_id=external_id, entity=required_ref(body, "entity", "entity", "Vendor"),
        subsidiary=ref(body, "subsidiary", "subsidiary", "Subsidiary", required=False),
        tran_date=tran_date, due_date=day(body, "dueDate", "Due Date", required=False), tran_id=tran_id,
        currency=ref(body, "currency", "currency", "Currency", required=False),
        posting_period=ref(body, "postingPeriod", "postingPeriod", "Posting Period", required=False),
        memo=text(body, "memo", "memo"), lines=tuple(lines))


def upsert(conn: Connection, external_id: str, body: Any) -> int:
    """``PUT /record/v1/vendorBill/eid:{externalId}``: post the bill once; the same body again is a no-op."""
    draft = parse(body, external_id)
    existing = documents.find(conn, RECORDTYPE, f"eid:{external_id}")
    if existing is not None:
        if documents.stored_fingerprint(conn, existing) == fingerprint(draft):
            return existing
        _ensure_changeable(conn, existing)
    party = vendor_party(conn, draft.entity, draft.subsidiary, draft.currency)
    period = posting_period(conn, draft.tran_date, draft.posting_period)
    _ensure_new_reference(conn, draft, party, existing)
    for i, line in enumerate(draft.lines):
        _check_line(conn, line, f"expense.items[{i}]", party)
    precision = party.currency["currencyprecision"]
    total = sum((line.amount for line in draft.lines), Decimal(0))
    terms = t.by_id(conn, t.term, party.vendor["terms"]) if party.vendor["terms"] is not None else None
    due = draft.due_date or draft.tran_date + timedelta(days=terms["daysuntilnetdue"] if terms else 0)
    values = {"externalid": draft.external_id, "tranid": draft.tran_id, "trandate": draft.tran_date.isoformat(),
              "duedate": due.isoformat(), "postingperiod": period["id"], "subsidiary": party.subsidiary,
              "currency": party.currency["id"], "memo": draft.memo, "entity": party.vendor["id"], "status": OPEN,
              "approvalstatus": 2, "foreigntotal": documents.money(total, precision),
              "foreignamountremaining": documents.money(total, precision),
              "foreignamountpaid": documents.money(Decimal(0), precision)}
    if existing is None:
        bill_id = documents.insert_header(conn, RECORDTYPE, "VendBill", values)
    else:
        bill_id = existing
        relieve_orders(conn, bill_id, reverse=True)
        conn.execute(delete(t.transactionline).where(t.transactionline.c.transaction == bill_id))
        documents.update_header(conn, bill_id, **values)
    documents.write_postings(conn, bill_id, party.subsidiary, precision, [
        documents.Posting(account=documents.account_id(conn, PAYABLE_ACCOUNT), amount=-total, memo=draft.memo,
                          mainline=True),
        *(documents.Posting(account=line.account, amount=line.amount, department=line.department, memo=line.memo,
                            order_doc=line.order_doc, order_line=line.order_line) for line in draft.lines)])
    relieve_orders(conn, bill_id)
    documents.remember_fingerprint(conn, bill_id, fingerprint(draft))
    return bill_id


def _ensure_changeable(conn: Connection, bill_id: int) -> None:
    bill = t.by_id(conn, t.transaction, bill_id)
    assert bill is not None
    if Decimal(bill["foreignamountremaining"]) != Decimal(bill["foreigntotal"]):
        raise _error(f"Bill {bill['tranid']} has a payment or a vendor credit applied: it cannot change.",
                     "USER_ERROR", None)
    period = t.by_id(conn, t.accountingperiod, bill["postingperiod"])
    assert period is not None
    ensure_open(period)


def _ensure_new_reference(conn: Connection, draft: BillDraft, party: VendorParty, existing: int | None) -> None:
    """A vendor's invoice number is on one bill only (the vendor's duplicate-number check)."""
    c = t.transaction.c
    other = conn.execute(select(c.id, c.externalid).where(
        c.recordtype == RECORDTYPE, c.entity == party.vendor["id"], c.tranid == draft.tran_id,
        c.id != (existing or 0))).mappings().first()
    if other is not None:
        raise _error(f"Vendor {party.vendor['entityid']} already has bill {other['id']} (external ID "
                     f"{other['externalid']}) with reference number {draft.tran_id}.", "DUP_RCRD", "tranId")


def _check_line(conn: Connection, line: BillLineDraft, path: str, party: VendorParty) -> None:
    active_account(conn, line.account, f"{path}.account")
    if line.department is not None:
        active_department(conn, line.department, party.subsidiary, f"{path}.department")
    check_amount(line.amount, party.currency, f"{path}.amount", "amount")
    if line.order_doc is None or line.order_line is None:
        return
    order = t.by_id(conn, t.transaction, line.order_doc)
    if (order is None or order["recordtype"] != purchase_order.RECORDTYPE or order["entity"] != party.vendor["id"]
            or order["currency"] != party.currency["id"]):
        raise _error(f"Invalid orderDoc reference key {line.order_doc}: not a purchase order of vendor "
                     f"{party.vendor['entityid']} in {party.currency['symbol']}.", "INVALID_KEY_OR_REF",
                     f"{path}.orderDoc")
    order_line = purchase_order.order_line(conn, order["id"], line.order_line)
    if order_line is None:
        raise _error(f"Purchase order {order['tranid']} has no line {line.order_line}.", "INVALID_KEY_OR_REF",
                     f"{path}.orderLine")
    if order_line["isclosed"] == "T":
        raise _error(f"Line {line.order_line} of purchase order {order['tranid']} is closed.", "INVALID_FLD_VALUE",
                     f"{path}.orderLine")


def expense_lines(conn: Connection, bill_id: int) -> list[dict[str, Any]]:
    return [line for line in documents.lines_of(conn, bill_id) if line["mainline"] == "F"]


def relieve_orders(conn: Connection, bill_id: int, *, reverse: bool = False) -> None:
    """The bill's lines use up the order lines they name (``reverse``: give it back)."""
    for line in expense_lines(conn, bill_id):
        if line["orderdoc"] is not None:
            billed = Decimal(line["foreignamount"])
            purchase_order.bill_against(conn, line["orderdoc"], line["orderline"], -billed if reverse else billed)


def apply(conn: Connection, bill: dict[str, Any], applied: Decimal, *, paid: bool) -> None:
    """A vendor credit or a payment (``paid``, its discount included) settles ``applied`` of the bill."""
    precision = documents.precision_of(conn, bill["currency"])
    remaining = Decimal(bill["foreignamountremaining"]) - applied
    documents.update_header(
        conn, bill["id"], foreignamountremaining=documents.money(remaining, precision),
        foreignamountpaid=documents.money(Decimal(bill["foreignamountpaid"]) + (applied if paid else 0), precision),
        status=PAID_IN_FULL if remaining == 0 else OPEN)


def render(conn: Connection, bill_id: int, base_url: str, *, expand: bool) -> dict[str, Any]:
    """The bill as ``GET /record/v1/vendorBill/{id}`` returns it; lines only with ``expandSubResources``."""
    row = t.by_id(conn, t.transaction, bill_id)
    assert row is not None
    body = documents.render_header(conn, row, RECORD, base_url)
    status_id, status_name = STATUS_NAMES[row["status"]]
    payable = next(line for line in documents.lines_of(conn, bill_id) if line["mainline"] == "T")
    body.update({"account": ref_value(base_url, "account", payable["account"]),
                 "status": {"id": status_id, "refName": status_name}, "total": Decimal(row["foreigntotal"]),
                 "amountRemaining": Decimal(row["foreignamountremaining"]),
                 "amountPaid": Decimal(row["foreignamountpaid"])})
    items = [_render_line(line, base_url) for line in expense_lines(conn, bill_id)] if expand else None
    body["expense"] = documents.sublist(href(base_url, RECORD, bill_id), "expense", items)
    return body


def _render_line(line: dict[str, Any], base_url: str) -> dict[str, Any]:
    item = documents.expense_item(line, base_url, Decimal(line["foreignamount"]))
    if line["orderdoc"] is not None:
        item["orderDoc"] = ref_value(base_url, purchase_order.RECORD, line["orderdoc"])
        item["orderLine"] = line["orderline"]
    return item
