"""Read a pain.002 CustomerPaymentStatusReport into one PaymentStatusReport per transaction."""

from __future__ import annotations

from canonical.payment import PaymentStatusReport, reason_text
from connectors.bank.status import payment_state
from connectors.bank.xmlread import amount, find, identifier, iso_datetime, parse_document, text

SOURCE = "pain.002"


def parse_status_report(document: bytes | str) -> list[PaymentStatusReport]:
    """Transaction-level statuses; ValueError if the document is not a usable pain.002.

    A transaction without its own TxSts has the status of its payment information block, or
    else of the group. Blocks that report no transactions (a group-level answer only) carry no
    EndToEndId to reconcile on, so they yield nothing.
    """
    report = parse_document(document, "CstmrPmtStsRpt", "pain.002")
    group = find(report, "OrgnlGrpInfAndSts")
    message_id = identifier(group, "OrgnlMsgId", "pain.002") if group is not None else None
    if message_id is None:
        raise ValueError("pain.002 has no OrgnlGrpInfAndSts/OrgnlMsgId")
    created_at = iso_datetime(text(report, "GrpHdr/CreDtTm"), "pain.002 GrpHdr/CreDtTm")
    group_status = text(group, "GrpSts")

    reports = []
    for batch in report.iterfind("{*}OrgnlPmtInfAndSts"):
        batch_status = text(batch, "PmtInfSts") or group_status
        for tx in batch.iterfind("{*}TxInfAndSts"):
            end_to_end_id = identifier(tx, "OrgnlEndToEndId", f"pain.002 for {message_id}")
            code = text(tx, "TxSts") or batch_status
            if end_to_end_id is None or code is None:
                raise ValueError(f"pain.002 for {message_id}: a TxInfAndSts lacks OrgnlEndToEndId or a status")
            reason = text(tx, "StsRsnInf/Rsn/Cd")
            reports.append(PaymentStatusReport(
                message_id=message_id,
                end_to_end_id=end_to_end_id,
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
