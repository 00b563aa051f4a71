"""Who may see which report: its owner, the owner's manager, or a proxy."""

from __future__ import annotations

from sqlmodel import Session

from sandboxes.concur.errors import ConcurApiError
from sandboxes.concur.models import ConcurReport, ConcurUser

CONTEXTS = ("TRAVELER", "MANAGER", "PROXY")


def check_context(context: str, allowed: tuple[str, ...] = CONTEXTS) -> None:
    if context not in allowed:
        raise ConcurApiError(400, f"Context {context!r} is not allowed here; use one of {', '.join(allowed)}.",
                             [{"id": "contextType", "message": "invalid context", "source": "contextType"}])


def get_user(db: Session, user_id: str) -> ConcurUser:
    user = db.get(ConcurUser, user_id)
    if user is None:
        raise ConcurApiError(404, f"User {user_id} not found.")
    return user


def get_report(db: Session, report_id: str) -> ConcurReport:
    report = db.get(ConcurReport, report_id)
    if report is None:
        raise ConcurApiError(404, f"Report {report_id} not found.")
    return report


def report_for(db: Session, user_id: str, context: str, report_id: str) -> ConcurReport:
    """The report as ``user_id`` may see it: their own (TRAVELER), their report's (MANAGER), any (PROXY)."""
    check_context(context)
    get_user(db, user_id)
    report = get_report(db, report_id)
    owner = db.get(ConcurUser, report.user_id)
    visible = (context == "PROXY" or (context == "TRAVELER" and report.user_id == user_id)
               or (context == "MANAGER" and owner is not None and owner.manager_user_id == user_id))
    if not visible:
        raise ConcurApiError(404, f"Report {report_id} not found for user {user_id} in context {context}.")
    return report
