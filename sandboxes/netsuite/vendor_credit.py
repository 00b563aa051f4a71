"""vendorCredit records: the reversal of a posted, unpaid bill.

``POST /record/v1/vendorBill/{id}/!transform/vendorCredit`` with ``{"externalId", "tranDate",
"memo"}`` credits the whole bill: GL Dr 2010 Accounts Payable - Trade for its total (the credit's
main line), Cr each of the bill's lines' accounts (with their departments). The bill's amount
remaining becomes 0 and the purchase order lines it billed are committed again. The same external id
again returns the same credit. Refused (USER_ERROR) when the bill has a payment, or nothing left
to credit; sandbox assumptions, as NetSuite's own wording is unverified.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection

from sandboxes.netsuite import documents, vendor_bill
from sandboxes.netsuite import tables as t
from sandboxes.netsuite.errors import NetSuiteError
from sandboxes.netsuite.records import href, ref_value
from sandboxes.netsuite.validation import body_object, day, posting_period, text

RECORD = "vendorCredit"
RECORDTYPE = "vendorcredit"
FULLY_APPLIED = "B"


def reverse_bill(conn: Connection, bill_key: str, body: Any) -> int:
    """The credit reversing the bill: a new one, or the one its external id already names."""
    bill = documents.header(conn, vendor_bill.RECORDTYPE, bill_key)
    body = body_object(body)
    external_id = text(body, "externalId", "externalId")
    tran_date = day(body, "tranDate", "Date", required=True)
    assert tran_date is not None
    if external_id is not None:
        existing = documents.find(conn, RECORDTYPE, f"eid:{external_id}")
        if existing is not None:
            credit = t.by_id(conn, t.transaction, existing) or {}
            if credit.get("createdfrom") == bill["id"]:
                return existing
            raise NetSuiteError(400, f"A vendorCredit record with external ID {external_id} already exists.",
                                "DUP_RCRD", "externalId")
    if Decimal(bill["foreignamountpaid"]) > 0:
        raise NetSuiteError(400, f"Bill {bill['tranid']} has a payment applied: a vendor credit cannot reverse it.",
                            "USER_ERROR")
    total = Decimal(bill["foreignamountremaining"])
    if total != Decimal(bill["foreigntotal"]):
        raise NetSuiteError(400, f"Bill {bill['tranid']} has nothing left to credit: a vendor credit already "
                                 "reverses it.", "USER_ERROR")
    period = posting_period(conn, tran_date, None)
    credit_id = documents.insert_header(conn, RECORDTYPE, "VendCred", {
        "externalid": external_id, "trandate": tran_date.isoformat(), "postingperiod": period["id"],
        "subsidiary": bill["subsidiary"], "currency": bill["currency"], "memo": text(body, "memo", "memo"),
        "entity": bill["entity"], "status": FULLY_APPLIED, "foreigntotal": bill["foreigntotal"],
        "createdfrom": bill["id"]}, number_prefix="VC")
    documents.write_postings(
        conn, credit_id, bill["subsidiary"], documents.precision_of(conn, bill["currency"]), [
            documents.Posting(account=documents.account_id(conn, vendor_bill.PAYABLE_ACCOUNT), amount=total,
                              mainline=True),
            *(documents.Posting(account=line["account"], amount=-Decimal(line["foreignamount"]),
                                department=line["department"], memo=line["memo"])
              for line in vendor_bill.expense_lines(conn, bill["id"]))])
    vendor_bill.apply(conn, bill, total, paid=False)
    vendor_bill.relieve_orders(conn, bill["id"], reverse=True)
    return credit_id


def render(conn: Connection, credit_id: int, base_url: str, *, expand: bool) -> dict[str, Any]:
    """The credit as ``GET /record/v1/vendorCredit/{id}`` returns it; lines only with ``expandSubResources``."""
    row = t.by_id(conn, t.transaction, credit_id)
    assert row is not None
    body = documents.render_header(conn, row, RECORD, base_url)
    bill = ref_value(base_url, vendor_bill.RECORD, row["createdfrom"])
    total = Decimal(row["foreigntotal"])
    self_href = href(base_url, RECORD, credit_id)
    body.update({"status": {"id": "fullyApplied", "refName": "Fully Applied"}, "total": total, "createdFrom": bill})
    applied = [{"links": [], "doc": bill, "apply": True, "amount": total}] if expand else None
    lines = [documents.expense_item(line, base_url, -Decimal(line["foreignamount"]))
             for line in documents.lines_of(conn, credit_id) if line["mainline"] == "F"] if expand else None
    body.update({"apply": documents.sublist(self_href, "apply", applied),
                 "expense": documents.sublist(self_href, "expense", lines)})
    return body
