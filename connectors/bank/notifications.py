"""The bank's webhook body -> status reports, for the webhook gateway.

Signature checking (Standard Webhooks) happens before this, in the gateway; this only reads a
verified body: ``{"type", "timestamp", "data": {"format", "messageId", "document"}}`` with the
ISO 20022 XML in ``document``. The models are the body as finsync reads it; the gateway
publishes them in its OpenAPI document.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from pydantic import BaseModel, Field, ValidationError

from canonical.payment import GroupStatusReport, PaymentStatusReport
from connectors.bank.camt054 import parse_debit_credit_notification
from connectors.bank.pain002 import parse_status_report
from connectors.payloads import one_line

# Event type -> (the ISO message it must carry, its reader).
_READERS: dict[str, tuple[str, Callable[[str], Sequence[PaymentStatusReport | GroupStatusReport]]]] = {
    "payment.status_report": ("pain.002.", parse_status_report),
    "account.debit_notification": ("camt.054.", parse_debit_credit_notification),
    "account.credit_notification": ("camt.054.", parse_debit_credit_notification),   # a payment's return
}


class NotificationData(BaseModel):
    format: str = Field(description="the ISO 20022 message in document, e.g. pain.002.001.10 or camt.054.001.08")
    messageId: str | None = Field(None, description="MsgId of the payment file the document is about")
    document: str = Field(description="the ISO 20022 XML document")


class BankNotification(BaseModel):
    """A bank notification: a pain.002 status report, or a camt.054 notification of a booking on
    the company's account (a payment's debit, or the credit of its return). Other event types
    are acknowledged and ignored."""

    type: str = Field(description="payment.status_report, account.debit_notification or "
                                  "account.credit_notification")
    timestamp: str | None = None
    data: NotificationData


def parse_notification(body: bytes) -> list[PaymentStatusReport | GroupStatusReport]:
    """Reports in one webhook (a GroupStatusReport for a file or block rejected as a whole);
    ValueError if the body is malformed.

    An event type finsync does not know yields no reports (the bank may add events; they are
    acknowledged, not retried forever).
    """
    try:
        envelope = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"bank notification is not JSON: {exc}") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("type"), str):
        raise ValueError("bank notification must be a JSON object with a string 'type'")
    reader = _READERS.get(envelope["type"])
    if reader is None:
        return []
    try:
        notification = BankNotification.model_validate(envelope)
    except ValidationError as error:
        raise ValueError(f"bank notification {envelope['type']}: {one_line(error.errors())}") from None
    expected_format, read = reader
    if not notification.data.format.startswith(expected_format):
        raise ValueError(f"bank notification {notification.type} carries {notification.data.format[:40]!r}, "
                         f"expected {expected_format}*")
    return list(read(notification.data.document))
