"""Concur refusals in words finance can act on."""

from __future__ import annotations

from typing import Any

import httpx

from canonical import ApprovalStatus, BusinessProblem, ExpenseReport
from connectors.errors import BusinessRuleError, VendorError, VendorRejectedError

VENDOR = "concur"

# Why a report in this status cannot be validated, sent back, posted or paid.
_STATUS_PROBLEMS: dict[ApprovalStatus, tuple[str, str]] = {
    ApprovalStatus.APPROVED: ("REPORT_ALREADY_APPROVED", "it was already approved in Concur; the employee "
                              "can recall it, or the correction can be made after posting"),
    ApprovalStatus.RETURNED: ("REPORT_SENT_BACK", "it was sent back to the employee, who has to fix and resubmit it"),
    ApprovalStatus.RECALLED: ("REPORT_RECALLED", "the employee recalled it and has to resubmit it"),
    ApprovalStatus.DRAFT: ("REPORT_NOT_SUBMITTED", "the employee has not submitted it"),
    ApprovalStatus.CANCELLED: ("REPORT_CANCELLED", "it was cancelled in Concur"),
    ApprovalStatus.PENDING_VALIDATION: ("REPORT_PENDING_VALIDATION", "it is still waiting for finsync's policy check"),
    ApprovalStatus.PENDING_APPROVAL: ("REPORT_PENDING_APPROVAL", "it is still waiting for its approver"),
}


def report_state_problem(report: ExpenseReport, action: str) -> BusinessRuleError:
    """``action`` is what finsync tried, e.g. "sent back", "posted"."""
    code, why = _STATUS_PROBLEMS[report.approval_status]
    return BusinessRuleError(VENDOR, BusinessProblem(
        code=code, system="expense", field="approvalStatusId",
        reason=f"Expense report {report.report_id} ({report.name}) cannot be {action}: {why}."))


def report_not_found(report_id: str) -> BusinessRuleError:
    return BusinessRuleError(VENDOR, BusinessProblem(
        code="REPORT_NOT_FOUND", system="expense",
        reason=f"Concur has no expense report {report_id}; it may have been deleted."))


def error_message(response: httpx.Response) -> tuple[str, str | None, str | None]:
    """(message, field, vendor code) from a v4, SCIM, OAuth or rate-limit error body."""
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:300] or f"HTTP {response.status_code}", None, None
    if not isinstance(body, dict):
        return str(body)[:300], None, None
    validation = body.get("validationErrors") or []
    first = validation[0] if validation and isinstance(validation[0], dict) else {}
    error = body.get("error")  # OAuth: a code string; rate limit: {id, message}
    message = (body.get("errorMessage") or body.get("detail") or body.get("error_description")
               or (error.get("message") if isinstance(error, dict) else error))
    return str(message or f"HTTP {response.status_code}"), first.get("source"), first.get("id")


def rejection(response: httpx.Response) -> VendorError:
    """A 4xx Concur answered: a state conflict is a business refusal, the rest a request defect."""
    message, field, vendor_code = error_message(response)
    if response.status_code == 409:
        return BusinessRuleError(VENDOR, BusinessProblem(
            code="CONCUR_STATE_CONFLICT", system="expense", field=field, vendor_code=vendor_code,
            reason=f"Concur refused the change: {message}"))
    return VendorRejectedError(VENDOR, BusinessProblem(
        code="CONCUR_REQUEST_REJECTED", system="finsync", field=field, vendor_code=vendor_code,
        reason=f"Concur rejected finsync's request (HTTP {response.status_code}): {message}"))
