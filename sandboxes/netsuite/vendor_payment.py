"""vendorPayment records: a bill paid from a bank account, an early-payment discount taken or not.

``POST /record/v1/vendorBill/{id}/!transform/vendorPayment`` with ``{"externalId", "tranDate",
"account": {"id": <bank GL account>}, "amount", "discountAmount"?, "memo"?}``. GL: Dr 2010 Accounts
Payable - Trade for amount + discount, Cr the bank account for the amount (the payment's main line),
Cr 4910 Purchase Discounts Received for the discount. The bill's amount remaining drops by amount +
discount; at 0 it is paid in full. The same external id with the same body returns the same payment.

Refusals (sandbox assumptions): an account that is not a bank account (INVALID_FLD_VALUE,
``account``); more than the bill has remaining (INVALID_FLD_VALUE, ``amount``); the external id of
another payment (DUP_RCRD, ``externalId``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection

from sandboxes.netsuite import documents, vendor_bill
from sandboxes.netsuite import tables as t
from sandboxes.netsuite.errors import NetSuiteError
from sandboxes.netsuite.records import href, ref_value
from sandboxes.netsuite.validation import (
    active_account,
    amount,
    body_object,
    check_amount,
    day,
    fingerprint,
    known_currency,
    posting_period,
    required_ref,
    text,
)

RECORD = "vendorPayment"
RECORDTYPE = "vendorpayment"
DISCOUNT_ACCOUNT = "4910"


@dataclass(frozen=True)
class PaymentDraft:
    bill: int
    external_id: str | None
    tran_date: date
    account: int
    amount: Decimal
    discount: Decimal
    memo: str | None


def _error(detail: str, code: str, path: str) -> NetSuiteError:
    return NetSuiteError(400, detail, code, path)


def parse(bill_id: int, body: Any) -> PaymentDraft:
    body = body_object(body)
    tran_date = day(body, "tranDate", "Date", required=True)
    assert tran_date is not None
    paid = amount(body, "amount", "amount")
    if paid is None:
        raise _error("Please enter value(s) for: Amount.", "USER_ERROR", "amount")
    return PaymentDraft(bill=bill_id, external_id=text(body, "externalId", "externalId"), tran_date=tran_date,
                        account=required_ref(body, "account", "account", "Account"), amount=paid,
                        discount=amount(body, "discountAmount", "discountAmount") or Decimal(0),
                        memo=text(body, "memo", "memo"))


def pay_bill(conn: Connection, bill_key: str, body: Any) -> int:
    """The payment of the bill: a new one, or the one its external id already names for this body."""
    bill = documents.header(conn, vendor_bill.RECORDTYPE, bill_key)
    draft = parse(bill["id"], body)
    if draft.external_id is not None:
        existing = documents.find(conn, RECORDTYPE, f"eid:{draft.external_id}")
        if existing is not None:
            if documents.stored_fingerprint(conn, existing) == fingerprint(draft):
                return existing
            raise _error(f"A vendorPayment record with external ID {draft.external_id} already exists, for another "
                         "bill or amount.", "DUP_RCRD", "externalId")
    bank = active_account(conn, draft.account, "account")
    if bank["accttype"] != "Bank":
        raise _error(f"The account {bank['accountsearchdisplayname']} is not a bank account.", "INVALID_FLD_VALUE",
                     "account")
    period = posting_period(conn, draft.tran_date, None)
    currency = known_currency(conn, bill["currency"])
    check_amount(draft.amount, currency, "amount", "amount")
    if draft.discount:
        check_amount(draft.discount, currency, "discountAmount", "discountAmount")
    precision = currency["currencyprecision"]
    applied, remaining = draft.amount + draft.discount, Decimal(bill["foreignamountremaining"])
    if applied > remaining:
        symbol = currency["symbol"]
        raise _error(f"The payment of {documents.money(draft.amount, precision)} {symbol} with a discount of "
                     f"{documents.money(draft.discount, precision)} {symbol} is more than bill {bill['tranid']} has "
                     f"remaining: {remaining} {symbol}.", "INVALID_FLD_VALUE", "amount")
    payment_id = documents.insert_header(conn, RECORDTYPE, "VendPymt", {
        "externalid": draft.external_id, "trandate": draft.tran_date.isoformat(), "postingperiod": period["id"],
        "subsidiary": bill["subsidiary"], "currency": bill["currency"], "memo": draft.memo, "entity": bill["entity"],
        "foreigntotal": documents.money(draft.amount, precision), "createdfrom": bill["id"]}, number_prefix="PMT")
    postings = [documents.Posting(account=bank["id"], amount=-draft.amount, memo=draft.memo, mainline=True),
                documents.Posting(account=documents.account_id(conn, vendor_bill.PAYABLE_ACCOUNT), amount=applied)]
    if draft.discount:
        postings.append(documents.Posting(account=documents.account_id(conn, DISCOUNT_ACCOUNT), amount=-draft.discount,
                                          memo="Early-payment discount"))
    documents.write_postings(conn, payment_id, bill["subsidiary"], precision, postings)
    vendor_bill.apply(conn, bill, applied, paid=True)
    documents.remember_fingerprint(conn, payment_id, fingerprint(draft))
    return payment_id


def render(conn: Connection, payment_id: int, base_url: str, *, expand: bool) -> dict[str, Any]:
    """The payment as ``GET /record/v1/vendorPayment/{id}`` returns it; ``apply`` only with ``expandSubResources``."""
    row = t.by_id(conn, t.transaction, payment_id)
    assert row is not None
    body = documents.render_header(conn, row, RECORD, base_url)
    lines = documents.lines_of(conn, payment_id)
    bank = next(line for line in lines if line["mainline"] == "T")
    paid = Decimal(row["foreigntotal"])
    # The payable line carries what the payment settled of the bill: the amount and the discount.
    payable_account = documents.account_id(conn, vendor_bill.PAYABLE_ACCOUNT)
    discount = next(Decimal(line["foreignamount"]) for line in lines if line["account"] == payable_account) - paid
    bill = ref_value(base_url, vendor_bill.RECORD, row["createdfrom"])
    body.update({"account": ref_value(base_url, "account", bank["account"]), "total": paid, "createdFrom": bill})
    applied = [{"links": [], "doc": bill, "apply": True, "amount": paid, "disc": discount}] if expand else None
    body["apply"] = documents.sublist(href(base_url, RECORD, payment_id), "apply", applied)
    return body
