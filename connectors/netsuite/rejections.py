"""NetSuite's 400 ``o:errorDetails`` as finsync business problems.

NetSuite's codes are broad (INVALID_FLD_VALUE covers a closed period and an inactive account
alike), so a refusal is read from its code and ``o:errorPath`` together, plus the wording where
nothing else tells. For a journal line the problem's subject (and its reason) is finsync's
account number or cost center code, found from the line index in the path: never the path.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from canonical import BusinessProblem, JournalEntry, ProblemCode
from connectors.errors import BusinessRuleError, VendorError, VendorRejectedError
from connectors.http import json_decimal

VENDOR = "netsuite"
_LINE_PATH = re.compile(r"^line\.items\[(\d+)\]\.?(\w*)$")


def first_detail(response: httpx.Response) -> dict[str, Any]:
    try:
        details = json_decimal(response).get("o:errorDetails") or [{}]
    except (ValueError, AttributeError):
        details = [{}]
    return details[0] if isinstance(details[0], dict) else {}


def rejection(response: httpx.Response, entry: JournalEntry | None = None) -> VendorError:
    """The error for a 4xx answer; business refusals become BusinessRuleError, the rest VendorRejectedError."""
    item = first_detail(response)
    detail = str(item.get("detail") or response.text[:300]).strip()
    code, path = str(item.get("o:errorCode", "")), str(item.get("o:errorPath", ""))
    problem = _business_problem(detail, code, path, entry)
    if problem is not None:
        return BusinessRuleError(VENDOR, problem, status=response.status_code)
    kind = "UNBALANCED" if path == "line" and "balance" in detail.lower() else "VENDOR_REJECTED"
    return VendorRejectedError(VENDOR, BusinessProblem(
        code=kind, system="finsync", field=path or None, vendor_code=code or None,
        reason=f"NetSuite refused what finsync sent ({code or response.status_code}): {detail}"),
        status=response.status_code)


def _business_problem(detail: str, code: str, path: str, entry: JournalEntry | None) -> BusinessProblem | None:
    def problem(kind: ProblemCode, reason: str, subject: str | None = None) -> BusinessProblem:
        return BusinessProblem(code=kind, reason=reason, system="erp", subject=subject, field=path or None,
                               vendor_code=code or None)

    said = detail.rstrip(".")
    if path == "postingPeriod" and "closed" in detail.lower():
        return problem(ProblemCode.PERIOD_CLOSED, f"{said} in NetSuite: reopen it, or post with a date in an open period.",
                       entry.posting_date.isoformat() if entry else None)
    if path == "tranDate" and code == "INVALID_FLD_VALUE":
        return problem(ProblemCode.PERIOD_MISSING, f"{said} in NetSuite: set up the accounting period, or change the date.",
                       entry.posting_date.isoformat() if entry else None)
    if path == "subsidiary":
        entity = entry.entity if entry else "the entity"
        return problem(ProblemCode.ENTITY_UNKNOWN, f"NetSuite does not accept the subsidiary for {entity}: {said}.",
                       entry.entity if entry else None)
    match = _LINE_PATH.match(path)
    if match is None:
        return None
    line = entry.lines[int(match[1])] if entry and int(match[1]) < len(entry.lines) else None
    field = match[2]
    if field == "account":
        number = f"GL account {line.account}" if line else "A GL account"
        if code == "INVALID_KEY_OR_REF":
            return problem(ProblemCode.ACCOUNT_UNKNOWN, f"{number} does not exist in NetSuite ({said}): "
                                                        "map the line to an existing account.", line.account if line else None)
        return problem(ProblemCode.ACCOUNT_INACTIVE, f"{number} is inactive in NetSuite ({said}): "
                                                     "reactivate it or map the line to an active account.",
                       line.account if line else None)
    if field == "department":
        subject = line.cost_center if line else None
        center = f"Cost center {subject}" if subject else "A cost center"
        if "for subsidiary" in detail:
            entity = entry.entity if entry else "this entity"
            return problem(ProblemCode.COST_CENTER_WRONG_ENTITY, f"{center} does not belong to {entity} in NetSuite "
                                                                 f"({said}): use one of its own cost centers.", subject)
        if code == "INVALID_KEY_OR_REF":
            return problem(ProblemCode.COST_CENTER_UNKNOWN, f"{center} does not exist in NetSuite ({said}).", subject)
        return problem(ProblemCode.COST_CENTER_INACTIVE, f"{center} is inactive in NetSuite ({said}): reactivate it or "
                                                         "recode the line to an active cost center.", subject)
    return None
