"""Read a camt.054 notification, keyed by EndToEndId: a booked debit is a settled payment, and a
booked credit with return information (RtrInf) is a payment the creditor's bank sent back.

``TxDtls/Amt`` is what was booked on the account, in the account's currency (``debited``: for a
return, what came back). ``AmtDtls/InstdAmt`` is what was instructed (``amount``), with the
bank's rate in ``CcyXchg`` when it converted; a bank that gives no ``AmtDtls`` converted nothing.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from lxml import etree

from canonical.money import Money
from canonical.payment import PaymentState, PaymentStatusReport, reason_text
from connectors.bank.xmlread import amount, find, identifier, iso_date, iso_datetime, parse_document, text

SOURCE = "camt.054"

# Entry status -> state; other statuses (INFO, FUTR) say nothing about a payment having happened.
_ENTRY_STATES = {"BOOK": PaymentState.SETTLED, "PDNG": PaymentState.PENDING}
# Placeholder some banks send when the customer gave no EndToEndId: nothing to reconcile on.
_NO_REFERENCE = "NOTPROVIDED"
# ISO 20022 BaseOneRate has at most 10 decimals.
_RATE_PLACES = Decimal("1e-10")


def _transaction_state(direction: str | None, entry_state: PaymentState, tx: etree._Element) -> PaymentState | None:
    """A debit is our payment; a credit is one only when it is the booked return of one."""
    if direction == "DBIT":
        return entry_state
    if direction == "CRDT" and entry_state is PaymentState.SETTLED and find(tx, "RtrInf") is not None:
        return PaymentState.RETURNED
    return None


def _exchange_rate(tx: etree._Element, instructed: Money | None, booked: Money | None, what: str) -> Decimal | None:
    """Units of the booked currency per instructed unit, from the CcyXchg given with the instructed
    or the transaction amount. ISO quotes XchgRate per one UnitCcy: a rate per unit of the booked
    currency is turned round."""
    exchange = find(tx, "AmtDtls/InstdAmt/CcyXchg")
    if exchange is None:
        exchange = find(tx, "AmtDtls/TxAmt/CcyXchg")
    if exchange is None or instructed is None or booked is None:
        return None
    try:
        rate = Decimal(text(exchange, "XchgRate") or "")
    except InvalidOperation:
        rate = Decimal("NaN")
    if not rate.is_finite() or rate <= 0:
        raise ValueError(f"{what}: XchgRate {text(exchange, 'XchgRate')!r} is not a positive rate")
    if text(exchange, "UnitCcy") == booked.currency != instructed.currency:
        return (1 / rate).quantize(_RATE_PLACES)
    return rate


def parse_debit_credit_notification(document: bytes | str) -> list[PaymentStatusReport]:
    """One report per debit, and per returned credit, with an EndToEndId; other credits are not
    our payments."""
    notification = parse_document(document, "BkToCstmrDbtCdtNtfctn", "camt.054")
    created_at = iso_datetime(text(notification, "GrpHdr/CreDtTm"), "camt.054 GrpHdr/CreDtTm")
    reports = []
    for entry in notification.iterfind("{*}Ntfctn/{*}Ntry"):
        status = text(entry, "Sts/Cd") or text(entry, "Sts")  # v08+ wraps the code; v02-v07 do not
        entry_state = _ENTRY_STATES.get(status or "")
        if entry_state is None:
            continue
        booking_date = iso_date(text(entry, "BookgDt/Dt") or text(entry, "BookgDt/DtTm"), "camt.054 BookgDt")
        details = entry.findall("{*}NtryDtls/{*}TxDtls")
        for tx in details:
            state = _transaction_state(text(entry, "CdtDbtInd"), entry_state, tx)
            end_to_end_id = identifier(tx, "Refs/EndToEndId", "camt.054")
            if state is None or end_to_end_id is None or end_to_end_id == _NO_REFERENCE:
                continue
            what = f"camt.054 {end_to_end_id}"
            booked_node = find(tx, "Amt")
            if booked_node is None and len(details) == 1:  # a one-transaction entry may state it once
                booked_node = find(entry, "Amt")
            booked = amount(booked_node, what)
            instructed = amount(find(tx, "AmtDtls/InstdAmt/Amt"), what) or booked
            reason = text(tx, "RtrInf/Rsn/Cd")
            reports.append(PaymentStatusReport(
                message_id=identifier(tx, "Refs/MsgId", what) or "",
                end_to_end_id=end_to_end_id,
                payment_info_id=identifier(tx, "Refs/PmtInfId", what),
                state=state,
                bank_status_code=status,
                reason_code=reason,
                reason_text=reason_text(reason) if reason else None,
                amount=instructed,
                debited=booked if state is not PaymentState.PENDING else None,
                exchange_rate=_exchange_rate(tx, instructed, booked, what),
                booking_date=booking_date if state is not PaymentState.PENDING else None,
                bank_reference=text(entry, "AcctSvcrRef") or text(tx, "Refs/AcctSvcrRef"),
                source=SOURCE,
                received_at=created_at,
            ))
    return reports
