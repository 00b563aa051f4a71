"""Expense v4 reports: created and submitted by employees, approved or sent back by managers and
integrations, recalled by employees; plus the Expense v3 read that finds a report's owner."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from sandboxes.concur import workflow
from sandboxes.concur.access import check_context, get_report, get_user, report_for
from sandboxes.concur.auth import require_token
from sandboxes.concur.bodies import NewReport, WorkflowAction, parse
from sandboxes.concur.context import base_url, concur
from sandboxes.concur.errors import ConcurApiError, now_iso
from sandboxes.concur.events import publish
from sandboxes.concur.jsonio import ConcurJSONResponse, read_json
from sandboxes.concur.models import ConcurReport, ConcurReportComment, ConcurUser
from sandboxes.concur.views import report_header, v3_report_view
from sandboxes.kit.db import session

router = APIRouter(dependencies=[Depends(require_token)])

V4 = "/expensereports/v4"


@router.post(V4 + "/users/{user_id}/context/{context}/reports")
async def create_report(user_id: str, context: str, request: Request) -> ConcurJSONResponse:
    check_context(context, ("TRAVELER", "PROXY"))
    body = parse(NewReport, await read_json(request))
    now = now_iso()
    with session(concur(request).engine) as db:
        user = get_user(db, user_id)
        custom = [c.model_dump() for c in body.customData]
        if not any(c["id"] == "costCenter" for c in custom) and user.cost_center:
            custom.append({"id": "costCenter", "value": user.cost_center})  # the employee's default
        report = ConcurReport(
            report_id=uuid.uuid4().hex[:20].upper(), user_id=user_id, name=body.name,
            business_purpose=body.businessPurpose, report_date=(body.reportDate or date.today()).isoformat(),
            currency_code=body.currencyCode, policy_id=body.policyId or "STANDARD", custom_data=json.dumps(custom),
            created_at=now, modified_at=now)
        db.add(report)
        db.commit()
    uri = f"{base_url(request)}{V4}/users/{user_id}/context/{context}/reports/{report.report_id}"
    return ConcurJSONResponse({"uri": uri}, status_code=201)


@router.get(V4 + "/users/{user_id}/context/{context}/reports/{report_id}")
async def read_report(user_id: str, context: str, report_id: str, request: Request) -> ConcurJSONResponse:
    with session(concur(request).engine) as db:
        report = report_for(db, user_id, context, report_id)
        return ConcurJSONResponse(report_header(db, report, base_url(request), context))


@router.get(V4 + "/users/{user_id}/context/MANAGER/reportsToApprove")
async def reports_to_approve(user_id: str, request: Request) -> ConcurJSONResponse:
    with session(concur(request).engine) as db:
        get_user(db, user_id)
        reports = db.exec(select(ConcurReport).join(ConcurUser, col(ConcurUser.user_id) == col(ConcurReport.user_id)).where(
            ConcurUser.manager_user_id == user_id, ConcurReport.approval_status_id == "A_PEND")
            .order_by(col(ConcurReport.submit_date))).all()
        return ConcurJSONResponse([report_header(db, r, base_url(request), "MANAGER") for r in reports])


@router.get(V4 + "/users/{user_id}/context/{context}/reports/{report_id}/comments")
async def report_comments(user_id: str, context: str, report_id: str, request: Request) -> ConcurJSONResponse:
    """The comments left with workflow actions, oldest first: how an employee reads why a
    report was sent back."""
    with session(concur(request).engine) as db:
        report_for(db, user_id, context, report_id)
        comments = db.exec(select(ConcurReportComment).where(ConcurReportComment.report_id == report_id)
                           .order_by(col(ConcurReportComment.id))).all()
        authors = {c.author_user_id: db.get(ConcurUser, c.author_user_id) for c in comments if c.author_user_id}

    def author(user_id: str | None) -> dict[str, str] | None:
        user = authors.get(user_id) if user_id else None
        return None if user is None else {"userId": user.user_id, "firstName": user.given_name,
                                          "lastName": user.family_name}

    return ConcurJSONResponse([{
        "comment": c.comment,
        "author": author(c.author_user_id),
        "creationDate": c.created_at,
        "stepCode": c.step_code,
        "isLatest": i == len(comments) - 1,
    } for i, c in enumerate(comments)])


# --- workflow actions ---------------------------------------------------------------------

async def _act(request: Request, report_id: str,
               action: Callable[[Session, ConcurReport], workflow.StatusChange]) -> Response:
    """Run one workflow move, commit it, then announce it."""
    with session(concur(request).engine) as db:
        change = action(db, get_report(db, report_id))
        db.commit()
    publish(request, [change])
    return Response(status_code=204)


@router.patch(V4 + "/users/{user_id}/reports/{report_id}/submit")
async def submit(user_id: str, report_id: str, request: Request) -> Response:
    with session(concur(request).engine) as db:
        report_for(db, user_id, "TRAVELER", report_id)
    external = concur(request).external_validation
    return await _act(request, report_id, lambda db, r: workflow.submit(db, r, external_validation=external))


@router.patch(V4 + "/reports/{report_id}/approve")
async def approve(report_id: str, request: Request) -> Response:
    body = parse(WorkflowAction, await read_json(request))
    return await _act(request, report_id,
                      lambda db, r: workflow.approve(db, r, comment=body.comment, manager_user_id=None,
                                                     expected_status=body.statusId))


@router.patch(V4 + "/reports/{report_id}/sendBack")
async def send_back(report_id: str, request: Request) -> Response:
    body = parse(WorkflowAction, await read_json(request))
    return await _act(request, report_id,
                      lambda db, r: workflow.send_back(db, r, comment=body.comment, acting_user_id=None))


@router.patch(V4 + "/users/{user_id}/context/{context}/reports/{report_id}/approve")
async def approve_as(user_id: str, context: str, report_id: str, request: Request) -> Response:
    check_context(context, ("MANAGER",))
    body = parse(WorkflowAction, await read_json(request))
    with session(concur(request).engine) as db:
        report_for(db, user_id, context, report_id)
    return await _act(request, report_id,
                      lambda db, r: workflow.approve(db, r, comment=body.comment, manager_user_id=user_id,
                                                     expected_status=body.statusId))


@router.patch(V4 + "/users/{user_id}/context/{context}/reports/{report_id}/sendBack")
async def send_back_as(user_id: str, context: str, report_id: str, request: Request) -> Response:
    check_context(context, ("MANAGER",))
    body = parse(WorkflowAction, await read_json(request))
    with session(concur(request).engine) as db:
        report_for(db, user_id, context, report_id)
    return await _act(request, report_id,
                      lambda db, r: workflow.send_back(db, r, comment=body.comment, acting_user_id=user_id))


@router.patch(V4 + "/users/{user_id}/context/{context}/reports/{report_id}/recall")
async def recall(user_id: str, context: str, report_id: str, request: Request) -> Response:
    check_context(context, ("TRAVELER",))
    body = parse(WorkflowAction, await read_json(request))
    with session(concur(request).engine) as db:
        report_for(db, user_id, context, report_id)
    return await _act(request, report_id, lambda db, r: workflow.recall(db, r, comment=body.comment))


# --- v3 lookup -------------------------------------------------------------------------------

@router.get("/api/v3.0/expense/reports/{report_id}")
async def v3_report(report_id: str, request: Request, user: str | None = None) -> ConcurJSONResponse:
    """Expense v3 report read, the one company-level way to learn a report's owner from its id
    alone (v4 reads need the owner's userId in the path). Trimmed to the fields finsync reads;
    ``user=ALL`` (or the owner's login id) reads another user's report, as in v3."""
    with session(concur(request).engine) as db:
        report = get_report(db, report_id)
        owner = get_user(db, report.user_id)
        if user not in ("ALL", owner.email):
            raise ConcurApiError(404, f"Report {report_id} not found for the token's user; pass user=ALL.")
        return ConcurJSONResponse(v3_report_view(db, report, owner, base_url(request)))
