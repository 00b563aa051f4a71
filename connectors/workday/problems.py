"""Workday refusals in words finance can act on.

Workday answers a refusal with ``{"error": "...", "errors": [{"error": "..."}]}``; finsync adds
what it was doing.
"""

from __future__ import annotations

from typing import Any

import httpx

from canonical import BusinessProblem
from connectors.errors import BusinessRuleError
from connectors.payloads import why

VENDOR = "workday"
REFUSED = "WORKDAY_REFUSED"                   # Workday would not do it (a run's state, a rule)
NOT_FOUND = "WORKDAY_NOT_FOUND"               # the run or worker is not in Workday
UNREADABLE = "WORKDAY_ANSWER_UNREADABLE"      # Workday sent something finsync cannot take as it is
OTHER_ENTITY = "WORKDAY_OTHER_ENTITY"         # the worker is in Workday, but in another legal entity
SHOWN = 300                                   # characters of Workday's own words kept in a reason


def message(response: httpx.Response) -> str:
    """Workday's error message in one line, else the start of the body."""
    try:
        body: Any = response.json()
        said = str(body["error"])
    except (ValueError, KeyError, TypeError):
        said = response.text
    return " ".join(said.split())[:SHOWN] or f"HTTP {response.status_code}"


def refused(doing: str, response: httpx.Response) -> BusinessRuleError:
    """``doing``: what finsync asked ("add pay input concur:RPT-1 for worker W000123")."""
    return BusinessRuleError(VENDOR, BusinessProblem(
        code=REFUSED, system="payroll", vendor_code=str(response.status_code),
        reason=f"Workday refused to {doing}: {message(response).rstrip('.')}."), status=response.status_code)


def not_found(what: str) -> BusinessRuleError:
    return BusinessRuleError(VENDOR, BusinessProblem(
        code=NOT_FOUND, system="payroll", subject=what,
        reason=f"Workday has no {what}; finsync may hold a wrong id."))


def unreadable(what: str, error: Exception | str) -> BusinessRuleError:
    return BusinessRuleError(VENDOR, BusinessProblem(
        code=UNREADABLE, system="payroll", subject=what,
        reason=f"Workday's {what} cannot be taken as it is ({why(error)[:SHOWN]})."))


def other_entity(worker_id: str, employer: str, asked: str) -> BusinessRuleError:
    return BusinessRuleError(VENDOR, BusinessProblem(
        code=OTHER_ENTITY, system="payroll", subject=f"worker {worker_id[:60]}",
        reason=f"Workday has worker {worker_id[:60]} in legal entity {employer[:60]}, not {asked[:60]}; "
               "finsync pays an employee only for their own entity."))
