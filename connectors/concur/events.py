"""Concur Event Subscription Service ``statusChanged`` deliveries -> canonical ReportStatusChanged."""

from __future__ import annotations

import json
from typing import Any

from canonical import ReportStatusChanged
from connectors.concur.mapping import SOURCE_SYSTEM, approval_status, parse_timestamp, payment_status

EXPENSE_REPORT_TOPIC = "public.concur.expense.report"


def _text(facts: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = facts.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"Concur statusChanged event has no valid facts.{key}")
    return value


def parse_status_changed(body: bytes, event_id: str, correlation_id: str | None) -> ReportStatusChanged:
    """Read a ``statusChanged`` delivery; ValueError says what is wrong with a malformed one.

    ``event_id`` is the delivery's id (duplicates carry the same); ``correlation_id`` the one the
    gateway assigned, else the event's own ``correlationId``. The employee is left unresolved:
    the event carries Concur's userId only (kept as ``owner_ref``, which spares the connector
    its owner lookup), and finding the employee number takes an API call.
    """
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"Concur event body is not valid JSON: {exc}") from None
    if not isinstance(event, dict):
        raise ValueError("Concur event body is not a JSON object")
    if event.get("eventType") != "statusChanged":
        raise ValueError(f"expected a Concur statusChanged event, got eventType {event.get('eventType')!r}")
    if event.get("topic", EXPENSE_REPORT_TOPIC) != EXPENSE_REPORT_TOPIC:
        raise ValueError(f"expected topic {EXPENSE_REPORT_TOPIC}, got {event.get('topic')!r}")
    facts = event.get("facts", event.get("Facts"))  # the schema table says Facts, the samples facts
    if not isinstance(facts, dict):
        raise ValueError("Concur statusChanged event has no facts object")
    step_code = _text(facts, "stepCode", required=False)
    previous = _text(facts, "previousApprovalStatus", required=False)
    current_payment = _text(facts, "currentPaymentStatus", required=False)
    timestamp = event.get("timeStamp")
    if not isinstance(timestamp, str):
        raise ValueError("Concur statusChanged event has no timeStamp")
    try:
        occurred_at = parse_timestamp(timestamp)
    except ValueError:
        raise ValueError(f"Concur statusChanged timeStamp {timestamp!r} is not an ISO timestamp") from None
    correlation = correlation_id or event.get("correlationId") or event_id
    return ReportStatusChanged(
        event_id=event_id,
        source_system=SOURCE_SYSTEM,
        report_id=_text(facts, "reportId"),
        owner_ref=_text(facts, "userId", required=False),
        approval_status=approval_status(_text(facts, "currentApprovalStatus"), step_code=step_code),
        previous_approval_status=approval_status(previous) if previous else None,
        payment_status=payment_status(current_payment) if current_payment else None,
        occurred_at=occurred_at,
        correlation_id=str(correlation),
    )
