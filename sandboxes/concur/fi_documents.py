"""Financial Integration documents: what an approved report looks like on the ready-to-post queue."""

from __future__ import annotations

import json
import uuid

from sqlmodel import Session, select

from sandboxes.concur.amounts import money
from sandboxes.concur.errors import now_iso
from sandboxes.concur.jsonio import dumps
from sandboxes.concur.models import ConcurFiDocument, ConcurReport, ConcurUser
from sandboxes.concur.views import expenses_of, report_total


def create_document(db: Session, report: ConcurReport) -> ConcurFiDocument:
    """Queue an approved report for posting (READY until an ERP integration acknowledges it)."""
    owner = db.get(ConcurUser, report.user_id)
    assert owner is not None
    expenses = expenses_of(db, report.report_id)
    custom = {item["id"]: item.get("value") for item in json.loads(report.custom_data)}
    total = money(report_total(expenses), report.currency_code)
    document = {
        "reportId": report.report_id,
        "reportName": report.name,
        "reportVersion": report.report_version,
        "userId": report.user_id,
        "employeeNumber": owner.employee_number,
        "employeeName": f"{owner.given_name} {owner.family_name}",
        "companyCode": owner.company_code,
        "costCenter": custom.get("costCenter"),
        "currencyCode": report.currency_code,
        "approvalDate": report.approval_date,
        "approvedAmount": total,
        "amountDueEmployee": total,
        "expenses": [{"expenseId": e.expense_id, "expenseTypeCode": e.expense_type_code,
                      "transactionDate": e.transaction_date,
                      "postedAmount": money(e.posted_amount, report.currency_code)} for e in expenses],
    }
    doc = ConcurFiDocument(id=uuid.uuid4().hex, report_id=report.report_id, document=dumps(document),
                           created_at=now_iso())
    db.add(doc)
    return doc


def withdraw_ready_documents(db: Session, report_id: str) -> None:
    """A recalled report leaves the queue, unless an ERP integration already took it."""
    for doc in db.exec(select(ConcurFiDocument).where(ConcurFiDocument.report_id == report_id,
                                                      ConcurFiDocument.doc_status == "READY")).all():
        doc.doc_status = "WITHDRAWN"
        db.add(doc)
