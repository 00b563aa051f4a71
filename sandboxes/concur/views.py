"""How Concur shows a report and its expenses (Expense v4 field names)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from sandboxes.concur.amounts import money, quantize
from sandboxes.concur.catalog import APPROVAL_STATUS_NAMES, EXPENSE_TYPES, PAYMENT_STATUS_NAMES
from sandboxes.concur.jsonio import loads
from sandboxes.concur.models import ConcurExpense, ConcurReport, ConcurUser


def report_href(root: str, report: ConcurReport, context: str = "TRAVELER") -> str:
    return f"{root}/expensereports/v4/users/{report.user_id}/context/{context}/reports/{report.report_id}"


def expenses_of(db: Session, report_id: str) -> list[ConcurExpense]:
    return list(db.exec(select(ConcurExpense).where(ConcurExpense.report_id == report_id)
                        .order_by(col(ConcurExpense.seq))).all())


def report_total(expenses: list[ConcurExpense]) -> Decimal:
    return sum((Decimal(e.posted_amount) for e in expenses), Decimal(0))


def report_header(db: Session, report: ConcurReport, root: str, context: str = "TRAVELER") -> dict[str, Any]:
    total = report_total(expenses_of(db, report.report_id))
    currency = report.currency_code
    approved = total if report.approval_status_id == "A_APPR" else Decimal(0)
    href = report_href(root, report, context)
    return {
        "reportId": report.report_id,
        "name": report.name,
        "businessPurpose": report.business_purpose,
        "reportDate": report.report_date,
        "creationDate": report.created_at,
        "submitDate": report.submit_date,
        "approvalStatus": APPROVAL_STATUS_NAMES[report.approval_status_id],
        "approvalStatusId": report.approval_status_id,
        "paymentStatus": PAYMENT_STATUS_NAMES[report.payment_status_id],
        "paymentStatusId": report.payment_status_id,
        "currencyCode": currency,
        "reportTotal": money(total, currency),
        "claimedAmount": money(total, currency),
        "approvedAmount": money(approved, currency),
        "amountDueEmployee": money(total, currency),
        "amountDueCompanyCard": money(Decimal(0), currency),
        "personalAmount": money(Decimal(0), currency),
        "policyId": report.policy_id,
        "userId": report.user_id,
        "reportVersion": report.report_version,
        "isSubmitted": report.approval_status_id not in ("A_NOTF", "A_RESU"),
        # Tells a send-back from a recall: both leave the report in A_RESU.
        "isSentBack": report.approval_status_id == "A_RESU" and report.step_code == "SENDBACK",
        "customData": json.loads(report.custom_data),
        "links": [
            {"rel": "self", "href": href, "method": "GET", "isTemplated": False},
            {"rel": "expenses", "href": f"{href}/expenses", "method": "GET", "isTemplated": False},
        ],
    }


def v3_report_view(db: Session, report: ConcurReport, owner: ConcurUser, root: str) -> dict[str, Any]:
    """Expense v3's Report, trimmed to the fields finsync reads (PascalCase names).
    ``LastModifiedDate`` moves with every change of status: the v3 list filters on it."""
    total = quantize(report_total(expenses_of(db, report.report_id)), report.currency_code)
    return {
        "ID": report.report_id, "Name": report.name, "OwnerLoginID": owner.email,
        "OwnerName": f"{owner.given_name} {owner.family_name}", "CurrencyCode": report.currency_code,
        "Total": total, "AmountDueEmployee": total,
        "ApprovalStatusCode": report.approval_status_id,
        "ApprovalStatusName": APPROVAL_STATUS_NAMES[report.approval_status_id],
        "PaymentStatusCode": report.payment_status_id, "PaymentStatusName": PAYMENT_STATUS_NAMES[report.payment_status_id],
        "CreateDate": report.created_at, "SubmitDate": report.submit_date, "PaidDate": report.paid_date,
        "LastModifiedDate": report.modified_at,
        "URI": f"{root}/api/v3.0/expense/reports/{report.report_id}",
    }


def expense_view(expense: ConcurExpense, report: ConcurReport, root: str, context: str = "TRAVELER") -> dict[str, Any]:
    report_currency = report.currency_code
    tax_details = []
    if expense.tax_code is not None and expense.reclaimable_tax is not None:
        # Sandbox assumption: Concur's tax fields vary by configuration; this is the shape here.
        tax_details.append({"taxCode": expense.tax_code,
                            "reclaimableAmount": money(expense.reclaimable_tax, expense.transaction_currency)})
    href = f"{report_href(root, report, context)}/expenses/{expense.expense_id}"
    return {
        "expenseId": expense.expense_id,
        "expenseType": {"id": expense.expense_type_code, "code": expense.expense_type_code,
                        "name": EXPENSE_TYPES[expense.expense_type_code], "isDeleted": False},
        "transactionDate": expense.transaction_date,
        "transactionAmount": money(expense.transaction_amount, expense.transaction_currency),
        "exchangeRate": {"value": loads(expense.exchange_rate), "operation": "MULTIPLY"},
        "postedAmount": money(expense.posted_amount, report_currency),
        "claimedAmount": money(expense.posted_amount, report_currency),
        "approvedAmount": money(expense.posted_amount, report_currency),
        "vendor": {"name": expense.vendor_name},
        "businessPurpose": expense.business_purpose,
        "receiptImageId": expense.receipt_image_id,
        "isPersonalExpense": False,
        "customData": json.loads(expense.custom_data),
        "taxDetails": tax_details,
        "links": [{"rel": "self", "href": href, "method": "GET", "isTemplated": False}],
    }
