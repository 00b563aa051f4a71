"""Concur Event Subscription Service ``statusChanged`` deliveries -> canonical ReportStatusChanged.

The models below are the delivery as finsync reads it: the ids it uses are checked against
Concur's formats here, before anything (a workflow id, a vendor path) is built from them. The
gateway publishes the same models in its OpenAPI document.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Final, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, Field, StringConstraints, ValidationError

from canonical import ReportStatusChanged
from connectors.concur.mapping import SOURCE_SYSTEM, approval_status, parse_timestamp, payment_status
from connectors.payloads import one_line

EXPENSE_REPORT_TOPIC: Final = "public.concur.expense.report"

# Concur's report ids are 20 uppercase hex digits (the API reference's samples; the sandbox makes
# the same). A little wider, so a tenant's variant is not refused; narrow enough that an id
# never leaves its path segment and always fits a Temporal workflow id.
ReportId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,32}$")]
# Users (Identity v4) are UUIDs.
UserId = Annotated[str, StringConstraints(
    pattern=r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")]
StatusCode = Annotated[str, StringConstraints(min_length=1, max_length=32)]

_CORRELATION_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


def _usable_correlation_id(value: object) -> object:
    """Concur's correlationId travels on in headers and logs: one of another shape is dropped (the
    delivery's id stands in), never a reason to lose the event."""
    return value if isinstance(value, str) and _CORRELATION_ID.fullmatch(value) else None


class StatusChangedFacts(BaseModel):
    reportId: ReportId = Field(description="the expense report's id, e.g. 764428DD6A664AF0BFCB")
    userId: UserId | None = Field(None, description="the report owner's Concur user id (a UUID)")
    stepCode: StatusCode | None = Field(None, description="SENDBACK, RECALL, EXTVAL, PAIDREPORT or an admin's code")
    previousApprovalStatus: StatusCode | None = None
    currentApprovalStatus: StatusCode = Field(description="A_NOTF, A_EXTV, A_PEND, A_APPR, A_RESU, ...")
    currentPaymentStatus: StatusCode | None = Field(None, description="P_NOTP, P_PROC, P_PAID, ...")


class StatusChangedEvent(BaseModel):
    """A Concur ESS ``statusChanged`` delivery on the expense report topic (other fields are ignored)."""

    eventType: Literal["statusChanged"]
    topic: Literal["public.concur.expense.report"] = EXPENSE_REPORT_TOPIC
    correlationId: Annotated[str | None, BeforeValidator(_usable_correlation_id)] = None
    timeStamp: str = Field(description="ISO 8601, e.g. 2021-03-18T23:11:51.034Z")
    # The schema table says Facts, the samples facts.
    facts: StatusChangedFacts = Field(validation_alias=AliasChoices("facts", "Facts"))

    def occurred_at(self) -> datetime:
        try:
            return parse_timestamp(self.timeStamp)
        except ValueError:
            raise ValueError(f"Concur statusChanged timeStamp {self.timeStamp[:40]!r} is not an ISO timestamp") from None


def parse_status_changed(body: bytes, event_id: str, correlation_id: str | None) -> ReportStatusChanged:
    """Read a ``statusChanged`` delivery; ValueError says in one line what is wrong with a malformed one.

    ``event_id`` is the delivery's id (duplicates carry the same); ``correlation_id`` the one the
    gateway assigned, else the event's own ``correlationId``. The employee is left unresolved:
    the event carries Concur's userId only (kept as ``owner_ref``, which spares the connector
    its owner lookup), and finding the employee number takes an API call.
    """
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"Concur event body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ValueError("Concur event body is not a JSON object")
    try:
        event = StatusChangedEvent.model_validate(document)
    except ValidationError as error:
        raise ValueError(f"Concur statusChanged event: {one_line(error.errors())}") from None
    facts = event.facts
    return ReportStatusChanged(
        event_id=event_id,
        source_system=SOURCE_SYSTEM,
        report_id=facts.reportId,
        owner_ref=facts.userId,
        approval_status=approval_status(facts.currentApprovalStatus, step_code=facts.stepCode),
        previous_approval_status=approval_status(facts.previousApprovalStatus) if facts.previousApprovalStatus else None,
        payment_status=payment_status(facts.currentPaymentStatus) if facts.currentPaymentStatus else None,
        occurred_at=event.occurred_at(),
        correlation_id=correlation_id or event.correlationId or event_id,
    )
