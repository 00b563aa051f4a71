"""NetSuite's 400 ``o:errorDetails`` as finsync business problems.

NetSuite's codes are broad (INVALID_FLD_VALUE covers a closed period and an inactive account
alike), so a refusal is read from its code and ``o:errorPath`` together, plus the wording where
nothing else tells. A refusal is read against what was sent (``Sent``): for a line the problem's
subject (and its reason) is finsync's account number, cost center code or order line, found from
the line index in the path, never the path; a purchasing document's reason names the document.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from canonical import BusinessProblem, JournalEntry, ProblemCode
from connectors.errors import BusinessRuleError, VendorError, VendorRejectedError
from connectors.http import json_decimal

VENDOR = "netsuite"
# A journal's lines are its ``line`` sublist; a purchase order's or bill's, its ``expense`` sublist.
_LINE_PATH = re.compile(r"^(?:line|expense)\.items\[(\d+)\]\.?(\w*)$")
Problem = Callable[[ProblemCode, str, str | None], BusinessProblem]   # a problem found in the refusal


@dataclass(frozen=True)
class SentLine:
    account: str | None = None       # GL account number
    cost_center: str | None = None
    order_line: str | None = None    # a bill line's: the platform's key of the order line it bills


@dataclass(frozen=True)
class Sent:
    """What finsync sent, in its own codes, line for line as NetSuite will index it."""

    document: str | None = None      # "Vendor bill for invoice INV-9 from SUP-100"; None: a journal's reasons stand alone
    entity: str | None = None
    posting_date: date | None = None
    supplier: str | None = None      # the supplier number (vendor entityId)
    reference: str | None = None     # the bill's tranId (the supplier's invoice number) it is, credits or pays
    lines: tuple[SentLine, ...] = ()

    @classmethod
    def journal(cls, entry: JournalEntry) -> Sent:
        return cls(entity=entry.entity, posting_date=entry.posting_date,
                   lines=tuple(SentLine(account=line.account, cost_center=line.cost_center) for line in entry.lines))

    def line(self, index: int) -> SentLine | None:
        return self.lines[index] if index < len(self.lines) else None


def first_detail(response: httpx.Response) -> dict[str, Any]:
    try:
        details = json_decimal(response).get("o:errorDetails") or [{}]
    except (ValueError, AttributeError):
        details = [{}]
    return details[0] if isinstance(details[0], dict) else {}


def rejection(response: httpx.Response, sent: Sent | None = None) -> VendorError:
    """The error for a 4xx answer; business refusals become BusinessRuleError, the rest VendorRejectedError."""
    item = first_detail(response)
    detail = str(item.get("detail") or response.text[:300]).strip()
    code, path = str(item.get("o:errorCode", "")), str(item.get("o:errorPath", ""))
    problem = _business_problem(detail, code, path, sent or Sent())
    if problem is not None:
        return BusinessRuleError(VENDOR, problem, status=response.status_code)
    kind = "UNBALANCED" if path == "line" and "balance" in detail.lower() else "VENDOR_REJECTED"
    document = f" ({sent.document})" if sent and sent.document else ""
    return VendorRejectedError(VENDOR, BusinessProblem(
        code=kind, system="finsync", field=path or None, vendor_code=code or None,
        reason=f"NetSuite refused what finsync sent{document} ({code or response.status_code}): {detail}"),
        status=response.status_code)


def _business_problem(detail: str, code: str, path: str, sent: Sent) -> BusinessProblem | None:
    def problem(kind: ProblemCode, reason: str, subject: str | None = None) -> BusinessProblem:
        named = f"{sent.document}: {reason}" if sent.document else reason
        return BusinessProblem(code=kind, reason=named, system="erp", subject=subject, field=path or None,
                               vendor_code=code or None)

    said = detail.rstrip(".")
    words = detail.lower()
    posting_date = sent.posting_date.isoformat() if sent.posting_date else None
    if path == "postingPeriod" and "closed" in words:
        return problem(ProblemCode.PERIOD_CLOSED, f"{said} in NetSuite: reopen it, or post with a date in an open period.",
                       posting_date)
    if path == "tranDate" and code == "INVALID_FLD_VALUE":
        return problem(ProblemCode.PERIOD_MISSING, f"{said} in NetSuite: set up the accounting period, or change the date.",
                       posting_date)
    supplier = f"Supplier {sent.supplier}" if sent.supplier else "The supplier"
    if path == "entity" and "inactive" in words:
        return problem(ProblemCode.SUPPLIER_INACTIVE, f"{supplier} is inactive in NetSuite ({said}): reactivate the "
                                                      "vendor there, then retry.", sent.supplier)
    if path == "entity" and code == "INVALID_KEY_OR_REF":
        return problem(ProblemCode.SUPPLIER_UNKNOWN_IN_ERP, f"{supplier} is not a NetSuite vendor ({said}).",
                       sent.supplier)
    if path == "subsidiary":
        entity = sent.entity or "the entity"
        if sent.supplier and "vendor" in words:
            return problem(ProblemCode.SUPPLIER_UNKNOWN_IN_ERP, f"{supplier} is not a vendor of {entity} in NetSuite "
                                                                f"({said}): assign the vendor to the subsidiary.",
                           sent.supplier)
        return problem(ProblemCode.ENTITY_UNKNOWN, f"NetSuite does not accept the subsidiary for {entity}: {said}.",
                       sent.entity)
    if path == "tranId" and code == "DUP_RCRD":
        return problem(ProblemCode.INVOICE_DUPLICATE, f"{supplier} already has a bill with invoice number "
                                                      f"{sent.reference} in NetSuite ({said}): reject this invoice as a "
                                                      "duplicate, or correct its number and retry.", sent.reference)
    if not path and code == "USER_ERROR" and (" applied" in words or "nothing left to credit" in words):
        return problem(ProblemCode.BILL_SETTLED, f"The bill is paid or credited in NetSuite ({said}): it can no longer be "
                                                 "changed or reversed; recovering a payment is a refund of its own.",
                       sent.reference)
    if path == "amount" and "remaining" in words:
        return problem(ProblemCode.BILL_SETTLED, f"The bill has less left to pay in NetSuite than this payment ({said}): "
                                                 "it was paid or credited there meanwhile; check it, then retry.",
                       sent.reference)
    match = _LINE_PATH.match(path)
    return _line_problem(problem, said, code, match[2], sent, sent.line(int(match[1]))) if match else None


def _line_problem(problem: Problem, said: str, code: str, field: str, sent: Sent,
                  line: SentLine | None) -> BusinessProblem | None:
    if field == "account":
        subject = line.account if line else None
        number = f"GL account {subject}" if subject else "A GL account"
        if code == "INVALID_KEY_OR_REF":
            return problem(ProblemCode.ACCOUNT_UNKNOWN, f"{number} does not exist in NetSuite ({said}): "
                                                        "map the line to an existing account.", subject)
        return problem(ProblemCode.ACCOUNT_INACTIVE, f"{number} is inactive in NetSuite ({said}): "
                                                     "reactivate it or map the line to an active account.", subject)
    if field == "department":
        subject = line.cost_center if line else None
        center = f"Cost center {subject}" if subject else "A cost center"
        if "for subsidiary" in said:
            entity = sent.entity or "this entity"
            return problem(ProblemCode.COST_CENTER_WRONG_ENTITY, f"{center} does not belong to {entity} in NetSuite "
                                                                 f"({said}): use one of its own cost centers.", subject)
        if code == "INVALID_KEY_OR_REF":
            return problem(ProblemCode.COST_CENTER_UNKNOWN, f"{center} does not exist in NetSuite ({said}).", subject)
        return problem(ProblemCode.COST_CENTER_INACTIVE, f"{center} is inactive in NetSuite ({said}): reactivate it or "
                                                         "recode the line to an active cost center.", subject)
    if field == "orderLine" and code == "INVALID_FLD_VALUE" and "closed" in said.lower():
        subject = line.order_line if line else None
        order_line = f"order line {subject}" if subject else "an order line"
        return problem(ProblemCode.ORDER_LINE_CLOSED, f"The invoice bills {order_line}, which is closed in NetSuite "
                                                      f"({said}): reopen the line, or reject the invoice.", subject)
    return None
