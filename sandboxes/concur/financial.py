"""Financial Integration v4: the ready-to-post queue an ERP integration pulls and confirms.

Per-item result codes (Concur documents 0 and 101; the others are sandbox assumptions):
0 done, 101 previously acknowledged, 102 unknown document, 103 not acknowledged yet,
104 a different ERP document was already confirmed, 105 the report is no longer approved.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from sqlmodel import Session, col, func, select

from sandboxes.concur import workflow
from sandboxes.concur.auth import require_token
from sandboxes.concur.catalog import FI_TRANSACTION_TYPES, PROCESSING_STATUS_CODES
from sandboxes.concur.context import base_url, concur
from sandboxes.concur.errors import ConcurApiError, now_iso
from sandboxes.concur.events import publish
from sandboxes.concur.jsonio import ConcurJSONResponse, dumps, read_json
from sandboxes.concur.models import ConcurFiDocument, ConcurReport
from sandboxes.concur.workflow import StatusChange
from sandboxes.kit.db import session

FI = "/financialintegration/fi/v4/companies/transactiontypes/{transaction_type}/transactions"
MAX_PAGE_SIZE = 1000
# Sandbox extension: Concur lists READY documents only; ``docStatus=ACKNOWLEDGED`` lets a
# retried claim find a document it acknowledged before its answer was lost.
LISTABLE_STATUSES = ("READY", "ACKNOWLEDGED")

router = APIRouter(dependencies=[Depends(require_token)])


def check_type(transaction_type: str) -> None:
    if transaction_type not in FI_TRANSACTION_TYPES:
        raise ConcurApiError(400, f"Unknown transaction type {transaction_type!r}.",
                             [{"id": "transactionType", "message": f"use one of {', '.join(sorted(FI_TRANSACTION_TYPES))}",
                               "source": "transactionType"}])


def fi_item(ctx_company: str, doc: ConcurFiDocument) -> dict[str, Any]:
    return {"id": doc.id, "docType": doc.doc_type, "companyId": ctx_company,
            "entityId": "p" + ctx_company.replace("-", "")[:10], "companyUuid": ctx_company,
            "erpSystemId": "ERP01", "document": doc.document, "docStatus": doc.doc_status}


@router.get(FI)
async def list_transactions(transaction_type: str, request: Request, limit: int = 25, page: int = 0,
                            docStatus: str = "READY") -> ConcurJSONResponse:  # noqa: N803
    check_type(transaction_type)
    if not 1 <= limit <= MAX_PAGE_SIZE or page < 0:
        raise ConcurApiError(400, f"limit must be 1..{MAX_PAGE_SIZE} and page 0 or more.",
                             [{"id": "limit", "message": "out of range", "source": "limit"}])
    if docStatus not in LISTABLE_STATUSES:
        raise ConcurApiError(400, f"docStatus must be one of {', '.join(LISTABLE_STATUSES)}.",
                             [{"id": "docStatus", "message": "unsupported", "source": "docStatus"}])
    ctx = concur(request)
    doc_type = "EXPENSE" if transaction_type == "expense" else transaction_type.upper()
    where = (ConcurFiDocument.doc_status == docStatus, ConcurFiDocument.doc_type == doc_type)
    with session(ctx.engine) as db:
        total = db.exec(select(func.count()).select_from(ConcurFiDocument).where(*where)).one()
        docs = db.exec(select(ConcurFiDocument).where(*where).order_by(col(ConcurFiDocument.seq))
                       .offset(page * limit).limit(limit)).all()
    pages = (total + limit - 1) // limit
    href = f"{base_url(request)}{request.url.path}"

    def link(rel: str, number: int) -> dict[str, str]:
        query: dict[str, int | str] = {"limit": limit, "page": number}
        if docStatus != "READY":
            query["docStatus"] = docStatus
        return {"rel": rel, "href": f"{href}?{urlencode(query)}"}

    links = [link("first", 0), link("self", page)]
    if page + 1 < pages:
        links.append(link("next", page + 1))
    links.append(link("last", max(pages - 1, 0)))
    return ConcurJSONResponse({
        "links": links,
        "content": [fi_item(ctx.company_id, d) for d in docs],
        "page": {"size": limit, "totalElements": total, "totalPages": pages, "number": page},
    })


def _doc(db: Session, doc_id: str) -> ConcurFiDocument | None:
    return db.exec(select(ConcurFiDocument).where(ConcurFiDocument.id == doc_id)).first()


def _items(body: Any, key: str) -> list[dict[str, Any]]:
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) and i.get("docId") for i in items):
        raise ConcurApiError(400, f"{key} must be a non-empty list of items with a docId.",
                             [{"id": key, "message": "missing or malformed", "source": key}])
    return items


@router.post(FI + "/acknowledgements")
async def acknowledge(transaction_type: str, request: Request) -> ConcurJSONResponse:
    check_type(transaction_type)
    body = await read_json(request)
    ids = body.get("ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ConcurApiError(400, "ids must be a non-empty list of document ids.",
                             [{"id": "ids", "message": "missing or malformed", "source": "ids"}])
    results = []
    with session(concur(request).engine) as db:
        for doc_id in ids:
            doc = _doc(db, doc_id)
            if doc is None or doc.doc_status == "WITHDRAWN":
                results.append({"id": doc_id, "code": 102, "message": "Document not found",
                                "acknowledgeResult": "FAILURE"})
            elif doc.doc_status == "ACKNOWLEDGED":
                results.append({"id": doc_id, "code": 101, "message": "Document was previously acknowledged",
                                "acknowledgeResult": "FAILURE"})
            else:
                doc.doc_status, doc.acknowledged_at = "ACKNOWLEDGED", now_iso()
                db.add(doc)
                results.append({"id": doc_id, "code": 0, "message": "Acknowledged", "acknowledgeResult": "SUCCESS"})
        db.commit()
    return ConcurJSONResponse(results)


def _result(doc_id: str, code: int, message: str, field: str) -> dict[str, Any]:
    return {"docId": doc_id, "code": code, "message": message, field: "SUCCESS" if code == 0 else "FAILURE"}


def _confirmable(db: Session, doc_id: str, field: str) -> tuple[ConcurFiDocument, ConcurReport] | dict[str, Any]:
    """The document and its report, or the per-item failure saying why it cannot be confirmed."""
    doc = _doc(db, doc_id)
    if doc is None:
        return _result(doc_id, 102, "Document not found", field)
    if doc.doc_status != "ACKNOWLEDGED":
        return _result(doc_id, 103, "Document has not been acknowledged", field)
    report = db.get(ConcurReport, doc.report_id)
    if report is None or report.approval_status_id != "A_APPR":
        return _result(doc_id, 105, "The report is no longer approved (it was recalled)", field)
    return doc, report


@router.post(FI + "/postingconfirmations")
async def posting_confirmations(transaction_type: str, request: Request) -> ConcurJSONResponse:
    """The ERP posted these documents. Idempotent: the same confirmation again is a success."""
    check_type(transaction_type)
    items = _items(await read_json(request), "postingConfirmations")
    field, results, changes = "postingConfirmationResult", [], []
    with session(concur(request).engine) as db:
        for item in items:
            found = _confirmable(db, item["docId"], field)
            if isinstance(found, dict):
                results.append(found)
                continue
            doc, report = found
            new_docs = [d.get("documentNumber") for d in item.get("postingDocs") or []]
            if doc.posting_confirmation is not None:
                old_docs = [d.get("documentNumber") for d in json.loads(doc.posting_confirmation).get("postingDocs") or []]
                same = old_docs == new_docs
                results.append(_result(doc.id, 0 if same else 104, "Posting previously confirmed" if same else
                                       f"A different ERP document ({', '.join(map(str, old_docs))}) was confirmed",
                                       field))
                continue
            doc.posting_confirmation = dumps(item)
            db.add(doc)
            if str(item.get("overallPostingStatusCode", "success")).lower() == "success":
                changes.append(workflow.mark_posted(db, report))
            results.append(_result(doc.id, 0, "Posting confirmation recorded", field))
        db.commit()
    publish(request, changes)
    return ConcurJSONResponse(results)


def _apply_payment(db: Session, report: ConcurReport, code: str) -> StatusChange | None:
    if code == "CP":
        return workflow.mark_paid(db, report)
    if code == "RE":
        return workflow.reverse_payment(db, report)
    if code == "PP":
        return workflow.mark_posted(db, report)  # partly paid: still processing
    return None  # OB: the document is obsolete; nothing changes on the report


@router.post(FI + "/paymentconfirmations")
async def payment_confirmations(transaction_type: str, request: Request) -> ConcurJSONResponse:
    """The employee was paid (CP), partly paid (PP), the payment reversed (RE) or obsolete (OB)."""
    check_type(transaction_type)
    items = _items(await read_json(request), "processingConfirmation")
    bad = [i["docId"] for i in items if i.get("processingStatusCode") not in PROCESSING_STATUS_CODES]
    if bad:
        raise ConcurApiError(400, f"processingStatusCode must be one of {', '.join(sorted(PROCESSING_STATUS_CODES))}.",
                             [{"id": "processingStatusCode", "message": f"invalid for {d}", "source": "processingStatusCode"}
                              for d in bad])
    field, results, changes = "paymentConfirmationResult", [], []
    with session(concur(request).engine) as db:
        for item in items:
            found = _confirmable(db, item["docId"], field)
            if isinstance(found, dict):
                results.append(found)
                continue
            doc, report = found
            change = _apply_payment(db, report, item["processingStatusCode"])
            doc.payment_confirmation = dumps(item)
            db.add(doc)
            changes.append(change)
            results.append(_result(doc.id, 0, "Payment confirmation recorded" if change else
                                   "Payment status unchanged (previously confirmed)", field))
        db.commit()
    publish(request, changes)
    return ConcurJSONResponse(results)
