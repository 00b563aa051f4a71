"""Concur shapes -> canonical: status codes, expense types, expenses and report headers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from canonical import ApprovalStatus, ExpenseLine, ExpenseReport, Money, PaymentStatus

SOURCE_SYSTEM = "concur"

# Approval codes that mean "somewhere in the approval chain" (reviews, budget, cost object,
# receipts, fraud check ...). Concur also lets admins add their own codes; an unknown code is
# such a step, so it maps to PENDING_APPROVAL too.
_PENDING = {"A_PEND", "A_FILE", "A_ACCO", "A_PBDG", "A_PECO", "A_PVAL", "A_RHLD", "A_AAFH"}
# Submitted and not yet decided: external validation (finsync's check), then the approval chain.
IN_APPROVAL = ("A_EXTV", *sorted(_PENDING))

_PAYMENT = {
    "P_NOTP": PaymentStatus.NOT_PAID,
    "P_PROC": PaymentStatus.PROCESSING,
    "P_PAID": PaymentStatus.PAID,
    "P_PAYC": PaymentStatus.PAID,
    "P_HOLD": PaymentStatus.ON_HOLD,
}

# Expense type code -> finsync category (anything else is OTHER).
_CATEGORIES = {
    "AIRFR": "AIRFARE",
    "LODNG": "LODGING",
    "BRKFT": "MEALS", "LUNCH": "MEALS", "DINNR": "MEALS",
    "TAXIX": "GROUND_TRANSPORT", "CARRT": "GROUND_TRANSPORT", "TRAIN": "GROUND_TRANSPORT",
    "PARKG": "GROUND_TRANSPORT",
    "OFCSP": "OFFICE_SUPPLIES",
    "ENTER": "ENTERTAINMENT",
    "MILEG": "MILEAGE",
}


def approval_status(code: str, *, step_code: str | None = None, sent_back: bool | None = None) -> ApprovalStatus:
    """Concur approval code -> canonical. A_RESU is a recall when the step says so (event
    ``stepCode: RECALL``) or the report header says it was not sent back (``isSentBack: false``)."""
    if code == "A_NOTF":
        return ApprovalStatus.DRAFT
    if code == "A_EXTV":
        return ApprovalStatus.PENDING_VALIDATION
    if code == "A_APPR":
        return ApprovalStatus.APPROVED
    if code == "A_RESU":
        recalled = step_code == "RECALL" or (step_code is None and sent_back is False)
        return ApprovalStatus.RECALLED if recalled else ApprovalStatus.RETURNED
    if code == "A_TEXP":
        return ApprovalStatus.CANCELLED
    if not code.startswith("A_"):
        raise ValueError(f"{code!r} is not a Concur approval status code")
    return ApprovalStatus.PENDING_APPROVAL  # the A_* codes in _PENDING, and admin-defined steps


def payment_status(code: str) -> PaymentStatus:
    try:
        return _PAYMENT[code]
    except KeyError:
        raise ValueError(f"{code!r} is not a Concur payment status code") from None


def category(expense_type_code: str) -> str:
    return _CATEGORIES.get(expense_type_code, "OTHER")


def money(amount: dict[str, Any]) -> Money:
    """A Concur ``{value, currencyCode}`` parsed with Decimal numbers."""
    return Money.of(amount["value"], amount["currencyCode"])


def custom_value(custom_data: list[dict[str, Any]] | None, field_id: str) -> str | None:
    for item in custom_data or []:
        if item.get("id") == field_id and item.get("value"):
            return str(item["value"])
    return None


def parse_timestamp(value: str) -> datetime:
    """Concur's ISO timestamps (``...Z``); a timestamp without an offset is UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def reclaimable_tax(expense: dict[str, Any], currency: str) -> Money | None:
    """Sum of the reclaimable VAT in the line's own currency (``taxDetails``, a sandbox shape)."""
    amounts = [d["reclaimableAmount"] for d in expense.get("taxDetails") or [] if d.get("reclaimableAmount")]
    amounts = [a for a in amounts if a.get("currencyCode") == currency]
    if not amounts:
        return None
    return Money.of(sum((Decimal(a["value"]) for a in amounts), Decimal(0)), currency)


def expense_line(expense: dict[str, Any]) -> ExpenseLine:
    amount = money(expense["transactionAmount"])
    return ExpenseLine(
        line_id=expense["expenseId"],
        category=category((expense.get("expenseType") or {}).get("code") or (expense.get("expenseType") or {}).get("id", "")),
        transaction_date=date.fromisoformat(expense["transactionDate"][:10]),
        merchant=(expense.get("vendor") or {}).get("name") or "",
        amount=amount,
        posted_amount=money(expense["postedAmount"]) if expense.get("postedAmount") else None,
        reclaimable_tax=reclaimable_tax(expense, amount.currency),
        receipt_present=bool(expense.get("receiptImageId") or expense.get("ereceiptImageId")),
        description=expense.get("businessPurpose") or "",
        cost_center=custom_value(expense.get("customData"), "costCenter"),
    )


def expense_report(header: dict[str, Any], expenses: list[dict[str, Any]], *, employee_id: str,
                   approver_id: str | None, owner_user_id: str | None = None) -> ExpenseReport:
    return ExpenseReport(
        report_id=header["reportId"],
        source_system=SOURCE_SYSTEM,
        name=header.get("name") or "",
        employee_id=employee_id,
        cost_center=custom_value(header.get("customData"), "costCenter"),
        currency=header["currencyCode"],
        lines=[expense_line(e) for e in expenses],
        approval_status=approval_status(header["approvalStatusId"], sent_back=header.get("isSentBack")),
        payment_status=payment_status(header.get("paymentStatusId") or "P_NOTP"),
        report_date=date.fromisoformat(header["reportDate"][:10]) if header.get("reportDate") else None,
        submitted_at=parse_timestamp(header["submitDate"]) if header.get("submitDate") else None,
        approver_id=approver_id,
        owner_ref=owner_user_id or header.get("userId"),
        version=int(header.get("reportVersion") or 0),
    )
