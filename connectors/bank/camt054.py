"""Read a camt.054 debit notification: a booked debit is a settled payment, keyed by EndToEndId."""

from __future__ import annotations

from canonical.payment import PaymentState, PaymentStatusReport
from connectors.bank.xmlread import amount, find, identifier, iso_date, iso_datetime, parse_document, text

SOURCE = "camt.054"

# Entry status -> state; other statuses (INFO, FUTR) say nothing about a payment having happened.
_ENTRY_STATES = {"BOOK": PaymentState.SETTLED, "PDNG": PaymentState.PENDING}
# Placeholder some banks send when the customer gave no EndToEndId: nothing to reconcile on.
_NO_REFERENCE = "NOTPROVIDED"


def parse_debit_notification(document: bytes | str) -> list[PaymentStatusReport]:
    """One report per debit transaction with an EndToEndId; credits are not our payments."""
    notification = parse_document(document, "BkToCstmrDbtCdtNtfctn", "camt.054")
    created_at = iso_datetime(text(notification, "GrpHdr/CreDtTm"), "camt.054 GrpHdr/CreDtTm")
    reports = []
    for entry in notification.iterfind("{*}Ntfctn/{*}Ntry"):
        if text(entry, "CdtDbtInd") != "DBIT":
            continue
        status = text(entry, "Sts/Cd") or text(entry, "Sts")  # v08+ wraps the code; v02-v07 do not
        state = _ENTRY_STATES.get(status or "")
        if state is None:
            continue
        booking_date = iso_date(text(entry, "BookgDt/Dt") or text(entry, "BookgDt/DtTm"), "camt.054 BookgDt")
        details = entry.findall("{*}NtryDtls/{*}TxDtls")
        for tx in details:
            end_to_end_id = identifier(tx, "Refs/EndToEndId", "camt.054")
            if end_to_end_id is None or end_to_end_id == _NO_REFERENCE:
                continue
            money_node = find(tx, "Amt")
            if money_node is None and len(details) == 1:  # a one-transaction entry may state it once
                money_node = find(entry, "Amt")
            reports.append(PaymentStatusReport(
                message_id=identifier(tx, "Refs/MsgId", f"camt.054 {end_to_end_id}") or "",
                end_to_end_id=end_to_end_id,
                state=state,
                bank_status_code=status,
                amount=amount(money_node, f"camt.054 {end_to_end_id}"),
                booking_date=booking_date if state is PaymentState.SETTLED else None,
                bank_reference=text(entry, "AcctSvcrRef") or text(tx, "Refs/AcctSvcrRef"),
                source=SOURCE,
                received_at=created_at,
            ))
    return reports
