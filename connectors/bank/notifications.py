"""The bank's webhook body -> status reports, for the webhook gateway.

Signature checking (Standard Webhooks) happens before this, in the gateway; this only reads a
verified body: ``{"type", "timestamp", "data": {"format", "messageId", "document"}}`` with the
ISO 20022 XML in ``document``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from canonical.payment import PaymentStatusReport
from connectors.bank.camt054 import parse_debit_notification
from connectors.bank.pain002 import parse_status_report

# Event type -> (the ISO message it must carry, its reader).
_READERS: dict[str, tuple[str, Callable[[str], list[PaymentStatusReport]]]] = {
    "payment.status_report": ("pain.002.", parse_status_report),
    "account.debit_notification": ("camt.054.", parse_debit_notification),
}


def parse_notification(body: bytes) -> list[PaymentStatusReport]:
    """Reports in one webhook; ValueError if the body is malformed.

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
    data = envelope.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("document"), str):
        raise ValueError(f"bank notification {envelope['type']} has no data.document")
    expected_format, read = reader
    message_format = data.get("format")
    if not isinstance(message_format, str) or not message_format.startswith(expected_format):
        raise ValueError(f"bank notification {envelope['type']} carries {message_format!r}, "
                         f"expected {expected_format}*")
    return read(data["document"])
