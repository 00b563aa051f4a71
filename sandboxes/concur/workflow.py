"""A report's approval and payment workflow: which moves are allowed from which status.

Each move returns a ``StatusChange`` for the Event Subscription Service to announce once the
change is committed. A move that is not allowed raises a 409 in Concur's v4 shape.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from sandboxes.concur.catalog import APPROVAL_STATUS_NAMES
from sandboxes.concur.errors import ConcurApiError, now_iso
from sandboxes.concur.fi_documents import create_document, withdraw_ready_documents
from sandboxes.concur.models import ConcurReport, ConcurReportComment, ConcurUser
from sandboxes.concur.views import expenses_of

EDITABLE = ("A_NOTF", "A_RESU")
PAID = ("P_PAID", "P_PAYC")


@dataclass(frozen=True)
class StatusChange:
    report_id: str
    user_id: str
    previous_approval: str
    current_approval: str
    previous_payment: str
    current_payment: str
    step_code: str | None
    acting_user_id: str | None


def _move(db: Session, report: ConcurReport, *, approval: str | None = None, payment: str | None = None,
          step_code: str | None = None, comment: str | None = None, acting_user_id: str | None = None) -> StatusChange:
    change = StatusChange(report.report_id, report.user_id, report.approval_status_id,
                          approval or report.approval_status_id, report.payment_status_id,
                          payment or report.payment_status_id, step_code, acting_user_id)
    report.approval_status_id = change.current_approval
    report.payment_status_id = change.current_payment
    report.step_code = step_code
    report.modified_at = now_iso()
    db.add(report)
    if comment and comment.strip():
        db.add(ConcurReportComment(report_id=report.report_id, comment=comment.strip(), author_user_id=acting_user_id,
                                   step_code=step_code, created_at=report.modified_at))
    return change


def _refuse(report: ConcurReport, action: str, reason: str | None = None) -> ConcurApiError:
    status = report.approval_status_id
    why = reason or f"its approval status is {APPROVAL_STATUS_NAMES[status]} ({status})"
    return ConcurApiError(409, f"Report {report.report_id} cannot be {action}: {why}.",
                          [{"id": "approvalStatusId", "message": why, "source": "approvalStatusId"}])


def submit(db: Session, report: ConcurReport, *, external_validation: bool) -> StatusChange:
    if report.approval_status_id not in EDITABLE:
        raise _refuse(report, "submitted")
    if not expenses_of(db, report.report_id):
        raise ConcurApiError(400, f"Report {report.report_id} has no expenses and cannot be submitted.",
                             [{"id": "expenses", "message": "at least one expense is required", "source": "expenses"}])
    report.submit_date = now_iso()
    report.report_version += 1
    return _move(db, report, approval="A_EXTV" if external_validation else "A_PEND",
                 acting_user_id=report.user_id)


def approve(db: Session, report: ConcurReport, *, comment: str | None, manager_user_id: str | None,
            expected_status: str | None = None) -> StatusChange:
    """Pass external validation (A_EXTV -> A_PEND), or approve as the manager (A_PEND -> A_APPR).

    ``manager_user_id`` is set when a manager acts (user-scoped call); such a call may only
    approve a report that is waiting for that manager. ``expected_status`` (the body's
    ``statusId``) guards the step: sandbox assumption that Concur refuses an approval sent for
    a step the report has already left, so a repeated validation cannot approve for the manager.
    """
    status = report.approval_status_id
    if expected_status and expected_status != status:
        raise _refuse(report, "approved", f"its approval status is {APPROVAL_STATUS_NAMES[status]} ({status}), "
                                          f"not {expected_status}")
    if status == "A_EXTV" and manager_user_id is None:
        return _move(db, report, approval="A_PEND", step_code="EXTVAL", comment=comment)
    if status == "A_PEND":
        owner = db.get(ConcurUser, report.user_id)
        report.approval_date = now_iso()
        change = _move(db, report, approval="A_APPR", comment=comment,
                       acting_user_id=manager_user_id or (owner.manager_user_id if owner else None))
        create_document(db, report)
        return change
    if status == "A_EXTV":
        raise _refuse(report, "approved", "it is still pending external validation")
    raise _refuse(report, "approved")


def send_back(db: Session, report: ConcurReport, *, comment: str | None,
              acting_user_id: str | None) -> StatusChange:
    if report.approval_status_id not in ("A_EXTV", "A_PEND"):
        raise _refuse(report, "sent back")
    if not (comment or "").strip():
        raise ConcurApiError(400, "A comment is required to send a report back.",
                             [{"id": "comment", "message": "must not be blank", "source": "comment"}])
    return _move(db, report, approval="A_RESU", step_code="SENDBACK", comment=comment,
                 acting_user_id=acting_user_id)


def recall(db: Session, report: ConcurReport, *, comment: str | None) -> StatusChange:
    """The employee takes the report back. Sandbox assumption: allowed until the report is
    paid, even after approval (real Concur stops recalls at approval), so finsync's handling
    of a report recalled after it was posted can be exercised."""
    if report.approval_status_id in EDITABLE:
        raise _refuse(report, "recalled")
    if report.payment_status_id in PAID:
        raise _refuse(report, "recalled", "it has already been paid")
    if report.approval_status_id == "A_APPR":
        withdraw_ready_documents(db, report.report_id)
    return _move(db, report, approval="A_RESU", payment="P_NOTP", step_code="RECALL", comment=comment,
                 acting_user_id=report.user_id)


def mark_posted(db: Session, report: ConcurReport) -> StatusChange | None:
    """The ERP posted the report: payment is now being processed."""
    if report.payment_status_id != "P_NOTP":
        return None
    return _move(db, report, payment="P_PROC", step_code=None)


def mark_paid(db: Session, report: ConcurReport) -> StatusChange | None:
    if report.payment_status_id in PAID:
        return None
    report.paid_date = now_iso()
    return _move(db, report, payment="P_PAID", step_code="PAIDREPORT")


def reverse_payment(db: Session, report: ConcurReport) -> StatusChange | None:
    if report.payment_status_id not in PAID:
        return None
    report.paid_date = None
    return _move(db, report, payment="P_PROC", step_code=None)

