"""Read a pain.002 CustomerPaymentStatusReport: one PaymentStatusReport per transaction it
reports, and a GroupStatusReport for a rejection that names no transaction; or, for a file the
bank reports on as a whole, its counts per status (FileAcknowledgement)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from lxml import etree

from canonical.payment import (
    FileAcknowledgement,
    GroupStatusReport,
    PaymentState,
    PaymentStatusReport,
    StatusCount,
    reason_text,
)
from connectors.bank.status import payment_state
from connectors.bank.xmlread import amount, find, identifier, iso_datetime, parse_document, text

SOURCE = "pain.002"


def _original_group(document: bytes | str) -> tuple[etree._Element, etree._Element, str, datetime | None]:
    """The report, its OrgnlGrpInfAndSts, the file's MsgId and when the report was made."""
    report = parse_document(document, "CstmrPmtStsRpt", "pain.002")
    group = find(report, "OrgnlGrpInfAndSts")
    message_id = identifier(group, "OrgnlMsgId", "pain.002") if group is not None else None
    if group is None or message_id is None:
        raise ValueError("pain.002 has no OrgnlGrpInfAndSts/OrgnlMsgId")
    return report, group, message_id, iso_datetime(text(report, "GrpHdr/CreDtTm"), "pain.002 GrpHdr/CreDtTm")


def parse_status_report(document: bytes | str) -> list[PaymentStatusReport | GroupStatusReport]:
    """The reports in it; ValueError if the document is not a usable pain.002.

    A transaction without its own TxSts has the status of its payment information block, or
    else of the group. A rejection that lists no transaction (a whole file: GrpSts RJCT and no
    block; or a block: PmtInfSts RJCT and no TxInfAndSts) speaks for every transaction in it: a
    GroupStatusReport. Any other status without transactions (a file received, or accepted)
    tells a process nothing the transactions' own reports will not, and yields nothing.
    """
    report, group, message_id, created_at = _original_group(document)
    group_status = text(group, "GrpSts")

    def rejection(node: etree._Element, code: str | None, payment_info_id: str | None) -> list[GroupStatusReport]:
        if code is None or payment_state(code) is not PaymentState.REJECTED:
            return []
        reason = text(node, "StsRsnInf/Rsn/Cd") or text(group, "StsRsnInf/Rsn/Cd")
        return [GroupStatusReport(message_id=message_id, payment_info_id=payment_info_id, state=PaymentState.REJECTED,
                                  bank_status_code=code, reason_code=reason,
                                  reason_text=reason_text(reason) if reason else None, source=SOURCE,
                                  received_at=created_at)]

    blocks = report.findall("{*}OrgnlPmtInfAndSts")
    if not blocks:
        return [*rejection(group, group_status, None)]
    reports: list[PaymentStatusReport | GroupStatusReport] = []
    for batch in blocks:
        payment_info_id = identifier(batch, "OrgnlPmtInfId", f"pain.002 for {message_id}")
        batch_status = text(batch, "PmtInfSts") or group_status
        transactions = batch.findall("{*}TxInfAndSts")
        if not transactions:
            rejected = rejection(batch, batch_status, payment_info_id)
            if rejected and payment_info_id is None:   # it would read as the whole file rejected
                raise ValueError(f"pain.002 for {message_id}: a rejected OrgnlPmtInfAndSts lacks OrgnlPmtInfId")
            reports += rejected
        for tx in transactions:
            end_to_end_id = identifier(tx, "OrgnlEndToEndId", f"pain.002 for {message_id}")
            code = text(tx, "TxSts") or batch_status
            if end_to_end_id is None or code is None:
                raise ValueError(f"pain.002 for {message_id}: a TxInfAndSts lacks OrgnlEndToEndId or a status")
            reason = text(tx, "StsRsnInf/Rsn/Cd")
            reports.append(PaymentStatusReport(
                message_id=message_id,
                end_to_end_id=end_to_end_id,
                payment_info_id=payment_info_id,
                state=payment_state(code),
                bank_status_code=code,
                reason_code=reason,
                reason_text=reason_text(reason) if reason else None,
                amount=amount(find(tx, "OrgnlTxRef/Amt/InstdAmt"), f"pain.002 {end_to_end_id}"),
                bank_reference=text(tx, "AcctSvcrRef"),
                source=SOURCE,
                received_at=created_at,
            ))
    return reports


def _decimal(node: etree._Element, path: str, what: str) -> Decimal | None:
    value = text(node, path)
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{what}: {path} {value[:40]!r} is not a number") from None


def _count(node: etree._Element, path: str, what: str) -> int:
    value = text(node, path)
    if value is None or not value.isdigit():
        raise ValueError(f"{what}: {path} must be a number of transactions")
    return int(value)


def parse_file_status(document: bytes | str) -> FileAcknowledgement:
    """The file in numbers: OrgnlNbOfTxs and OrgnlCtrlSum, and per status (NbOfTxsPerSts) how many
    transactions and for how much, each status counted as the state it means. A report without
    counts per status puts the whole file at the group's status. Transactions it lists are not
    read: ``parse_status_report`` reads those. ValueError if it is not a usable pain.002."""
    _report, group, message_id, created_at = _original_group(document)
    what = f"pain.002 for {message_id}"
    group_status = text(group, "GrpSts") or "RCVD"
    count = _count(group, "OrgnlNbOfTxs", what)
    control_sum = _decimal(group, "OrgnlCtrlSum", what)
    by_state: dict[PaymentState, StatusCount] = {}
    per_status = group.findall("{*}NbOfTxsPerSts")
    for detail in per_status:
        status = text(detail, "DtldSts")
        if status is None:
            raise ValueError(f"{what}: NbOfTxsPerSts lacks DtldSts")
        state = payment_state(status)
        by_state[state] = by_state.get(state, StatusCount()) + StatusCount(
            count=_count(detail, "DtldNbOfTxs", what), control_sum=_decimal(detail, "DtldCtrlSum", what) or Decimal(0))
    if not per_status:
        by_state[payment_state(group_status)] = StatusCount(count=count, control_sum=control_sum or Decimal(0))
    reason = text(group, "StsRsnInf/Rsn/Cd")
    return FileAcknowledgement.counted(
        by_state, message_id=message_id, group_status=group_status, count=count, control_sum=control_sum,
        reason_code=reason, reason_text=reason_text(reason) if reason else None, source=SOURCE, received_at=created_at)
