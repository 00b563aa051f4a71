"""Expense v3 report search: ``GET /api/v3.0/expense/reports``, Concur's company-wide list.

Filters (as v3 names them): ``user`` (a login id, or ALL; without it, the reports the OAuth
consumer owns, which for a company token is none), ``approvalStatusCode``,
``paymentStatusCode``, ``modifiedDateAfter`` / ``modifiedDateBefore``. The answer is
``{"Items": [Report...], "NextPage": url or null}``, ``limit`` items a page (default 25, at most
100), and ``offset`` is the opaque token the previous page's ``NextPage`` carries.

Sandbox choices where v3 is silent: the list is ordered by ``LastModifiedDate`` then report id,
and the offset token names the last report of the page (keyset paging), so a report that
changes while a caller pages reappears later instead of shifting another one off a page. The
date filters take the documented ``YYYY-MM-DD`` (start of that day, UTC) or, as their DateTime
type allows, an ISO 8601 date-time (UTC when it carries no offset); a bound is exclusive.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, time
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from sqlalchemy import false
from sqlmodel import and_, col, or_, select

from sandboxes.concur.auth import require_token
from sandboxes.concur.context import base_url, concur
from sandboxes.concur.errors import ConcurApiError
from sandboxes.concur.jsonio import ConcurJSONResponse
from sandboxes.concur.models import ConcurReport, ConcurUser
from sandboxes.concur.views import v3_report_view
from sandboxes.kit.db import session

router = APIRouter(dependencies=[Depends(require_token)])

V3_REPORTS = "/api/v3.0/expense/reports"
DEFAULT_LIMIT = 25
MAX_LIMIT = 100


def _bad(name: str, message: str) -> ConcurApiError:
    return ConcurApiError(400, f"{name}: {message}.", [{"id": name, "message": message, "source": name}])


def _instant(name: str, value: str) -> str:
    """A date filter as the stored timestamps are written (``...T12:00:00.000Z``), to compare."""
    try:
        if len(value) == 10:
            parsed = datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time(), UTC)
        else:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(name, "use YYYY-MM-DD or an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _token(report: ConcurReport) -> str:
    return base64.urlsafe_b64encode(json.dumps([report.modified_at, report.report_id]).encode()).decode()


def _after_token(offset: str) -> tuple[str, str]:
    try:
        modified_at, report_id = json.loads(base64.urlsafe_b64decode(offset.encode()))
    except (ValueError, TypeError):
        raise _bad("offset", "not an offset this list handed out; follow NextPage") from None
    return str(modified_at), str(report_id)


@router.get(V3_REPORTS)
async def list_reports(request: Request, user: str | None = None, limit: int = DEFAULT_LIMIT,
                       offset: str | None = None, approvalStatusCode: str | None = None,  # noqa: N803
                       paymentStatusCode: str | None = None, modifiedDateAfter: str | None = None,  # noqa: N803
                       modifiedDateBefore: str | None = None) -> ConcurJSONResponse:  # noqa: N803
    if not 1 <= limit <= MAX_LIMIT:
        raise _bad("limit", f"must be 1 to {MAX_LIMIT}")
    root = base_url(request)
    query = select(ConcurReport, ConcurUser).join(ConcurUser, col(ConcurUser.user_id) == col(ConcurReport.user_id))
    if user is None:
        query = query.where(false())   # a company token owns no reports
    elif user != "ALL":
        query = query.where(col(ConcurUser.email) == user)
    if approvalStatusCode:
        query = query.where(col(ConcurReport.approval_status_id) == approvalStatusCode)
    if paymentStatusCode:
        query = query.where(col(ConcurReport.payment_status_id) == paymentStatusCode)
    if modifiedDateAfter:
        query = query.where(col(ConcurReport.modified_at) > _instant("modifiedDateAfter", modifiedDateAfter))
    if modifiedDateBefore:
        query = query.where(col(ConcurReport.modified_at) < _instant("modifiedDateBefore", modifiedDateBefore))
    if offset:
        modified_at, report_id = _after_token(offset)
        query = query.where(or_(col(ConcurReport.modified_at) > modified_at,
                                and_(col(ConcurReport.modified_at) == modified_at,
                                     col(ConcurReport.report_id) > report_id)))
    query = query.order_by(col(ConcurReport.modified_at), col(ConcurReport.report_id)).limit(limit + 1)
    with session(concur(request).engine) as db:
        rows = db.exec(query).all()
        items = [v3_report_view(db, report, owner, root) for report, owner in rows[:limit]]
    next_page = None
    if len(rows) > limit:
        params = {k: v for k, v in request.query_params.items() if k != "offset"}
        next_page = f"{root}{V3_REPORTS}?{urlencode({**params, 'offset': _token(rows[limit - 1][0])})}"
    return ConcurJSONResponse({"Items": items, "NextPage": next_page})
