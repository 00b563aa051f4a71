"""What the bank says back: pain.002.001.10 status reports, and camt.054.001.08 notifications of
what it booked on the debtor's account (a payment's debit, a return's credit)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from lxml import etree
from lxml.builder import ElementMaker

from sandboxes.bank.tables import CREDIT, REJECTED, AccountEntry, FileRejection, PaymentMessage, PaymentTransaction

PAIN002 = "pain.002.001.10"
CAMT054 = "camt.054.001.08"

# Words for the reason codes this bank gives (StsRsnInf/AddtlInf, RtrInf/AddtlInf): its own
# rejections (AC04, AM11) and the return reasons creditor banks give most.
REASON_INFO = {
    "AC01": "Incorrect creditor account number",
    "AC04": "Creditor account closed",
    "AC06": "Creditor account blocked",
    "AM11": "No conversion from the payment currency into the account currency",
    "MD07": "Creditor deceased",
    "MS03": "Reason not specified",
}


def _maker(message_name: str) -> ElementMaker:
    namespace = f"urn:iso:std:iso:20022:tech:xsd:{message_name}"
    return ElementMaker(namespace=namespace, nsmap={None: namespace})


def new_message_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(12).upper()}"


def iso_datetime(moment: datetime | float) -> str:
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _serialize(document: etree._Element) -> bytes:
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _account_id(E: ElementMaker, account: str, is_iban: bool) -> etree._Element:
    return E.Id(E.IBAN(account)) if is_iban else E.Id(E.Othr(E.Id(account)))


def _party(E: ElementMaker, name: str) -> etree._Element:
    return E.Pty(E.Nm(name))


def _group_status(statuses: list[str]) -> str:
    distinct = set(statuses)
    if len(distinct) == 1:
        return distinct.pop()
    return "PART" if REJECTED in distinct else "ACTC"


@dataclass
class Tally:
    """A file's transactions in numbers: count and sum per status, and the statuses in each block
    (blocks in file order): all a status report says of the transactions it does not list."""

    by_status: dict[str, tuple[int, Decimal]] = field(default_factory=dict)
    block_statuses: dict[str, list[str]] = field(default_factory=dict)

    def add(self, pmt_inf_id: str, status: str, amount: str) -> None:
        count, total = self.by_status.get(status, (0, Decimal(0)))
        self.by_status[status] = (count + 1, total + Decimal(amount))
        statuses = self.block_statuses.setdefault(pmt_inf_id, [])
        if status not in statuses:
            statuses.append(status)

    @classmethod
    def of(cls, transactions: Iterable[PaymentTransaction]) -> Tally:
        tally = cls()
        for tx in transactions:
            tally.add(tx.pmt_inf_id, tx.status, tx.amount)
        return tally


def _per_status(E: ElementMaker, tally: Tally) -> list[etree._Element]:
    return [E.NbOfTxsPerSts(E.DtldNbOfTxs(str(count)), E.DtldSts(status), E.DtldCtrlSum(format(total, "f")))
            for status, (count, total) in sorted(tally.by_status.items())]


def _transaction_status(E: ElementMaker, tx: PaymentTransaction) -> etree._Element:
    element = E.TxInfAndSts(E.StsId(f"{tx.id}-{tx.status}"))
    if tx.instr_id:
        element.append(E.OrgnlInstrId(tx.instr_id))
    element.extend([E.OrgnlEndToEndId(tx.end_to_end_id), E.TxSts(tx.status)])
    if tx.reason_code:
        reason = E.StsRsnInf(E.Rsn(E.Cd(tx.reason_code)))
        if tx.reason_code in REASON_INFO:
            reason.append(E.AddtlInf(REASON_INFO[tx.reason_code]))
        element.append(reason)
    element.append(E.AccptncDtTm(iso_datetime(tx.accepted_at)))
    if tx.bank_reference:
        element.append(E.AcctSvcrRef(tx.bank_reference))
    reference = E.OrgnlTxRef(E.Amt(E.InstdAmt(tx.amount, Ccy=tx.currency)),
                             E.ReqdExctnDt(E.Dt(tx.requested_execution_date)))
    if tx.remittance_info:
        reference.append(E.RmtInf(E.Ustrd(tx.remittance_info)))
    if tx.debtor_name:
        reference.append(E.Dbtr(_party(E, tx.debtor_name)))
    reference.append(E.DbtrAcct(_account_id(E, tx.debtor_account, tx.debtor_account_is_iban)))
    if tx.debtor_agent_bic:
        reference.append(E.DbtrAgt(E.FinInstnId(E.BICFI(tx.debtor_agent_bic))))
    if tx.creditor_agent_bic:
        reference.append(E.CdtrAgt(E.FinInstnId(E.BICFI(tx.creditor_agent_bic))))
    if tx.creditor_name:
        reference.append(E.Cdtr(_party(E, tx.creditor_name)))
    reference.append(E.CdtrAcct(_account_id(E, tx.creditor_account, tx.creditor_account_is_iban)))
    element.append(reference)
    return element


def _original_group(E: ElementMaker, message: PaymentMessage) -> etree._Element:
    group = E.OrgnlGrpInfAndSts(
        E.OrgnlMsgId(message.msg_id), E.OrgnlMsgNmId(message.message_name),
        E.OrgnlCreDtTm(message.created_at), E.OrgnlNbOfTxs(str(message.nb_of_txs)))
    if message.ctrl_sum is not None:
        group.append(E.OrgnlCtrlSum(message.ctrl_sum))
    return group


def _status_header(E: ElementMaker, now: datetime) -> etree._Element:
    return E.GrpHdr(E.MsgId(new_message_id("STS")), E.CreDtTm(iso_datetime(now)))


def status_report(message: PaymentMessage, transactions: list[PaymentTransaction], *, tally: Tally, now: datetime,
                  every_block: bool = False) -> bytes:
    """A CstmrPmtStsRpt on ``transactions`` of ``message``; the group status and the counts per
    status are the whole file's (``tally``). A block appears with its status if one of
    ``transactions`` is in it, or always with ``every_block``."""
    E = _maker(PAIN002)
    group = _original_group(E, message)
    group.append(E.GrpSts(_group_status(list(tally.by_status))))
    group.extend(_per_status(E, tally))
    report = E.CstmrPmtStsRpt(_status_header(E, now), group)
    blocks = tally.block_statuses if every_block else dict.fromkeys(tx.pmt_inf_id for tx in transactions)
    for pmt_inf_id in blocks:
        reported = [tx for tx in transactions if tx.pmt_inf_id == pmt_inf_id]
        batch = E.OrgnlPmtInfAndSts(E.OrgnlPmtInfId(pmt_inf_id),
                                    E.PmtInfSts(_group_status(tally.block_statuses.get(pmt_inf_id, []))))
        batch.extend(_transaction_status(E, tx) for tx in reported)
        report.append(batch)
    return _serialize(E.Document(report))


def file_rejection_report(message: PaymentMessage, rejection: FileRejection, *, now: datetime) -> bytes:
    """A CstmrPmtStsRpt rejecting the whole file: GrpSts RJCT and its reason, no word per block or
    transaction (every one of them is rejected)."""
    E = _maker(PAIN002)
    group = _original_group(E, message)
    group.extend([E.GrpSts(REJECTED),
                  E.StsRsnInf(E.Rsn(E.Cd(rejection.reason_code)), E.AddtlInf(rejection.reason_info))])
    return _serialize(E.Document(E.CstmrPmtStsRpt(_status_header(E, now), group)))


def _bank_transaction_code(E: ElementMaker, tx: PaymentTransaction, entry: AccountEntry) -> etree._Element:
    # ESCT: SEPA credit transfer; DMCT: any other domestic credit transfer; RRTN: a return of either.
    if entry.direction == CREDIT:
        sub_family = "RRTN"
    else:
        sub_family = "ESCT" if tx.currency == "EUR" and tx.creditor_account_is_iban else "DMCT"
    return E.BkTxCd(E.Domn(E.Cd("PMNT"), E.Fmly(E.Cd("ICDT"), E.SubFmlyCd(sub_family))))


def _amount_details(E: ElementMaker, tx: PaymentTransaction, entry: AccountEntry) -> etree._Element:
    """The instructed amount, and what was booked for it; CcyXchg when the bank converted
    (InstdAmt x XchgRate = TxAmt, the rate quoted per one unit of the instructed currency)."""
    instructed = E.InstdAmt(E.Amt(tx.amount, Ccy=tx.currency))
    if entry.exchange_rate is not None:
        instructed.append(E.CcyXchg(E.SrcCcy(tx.currency), E.TrgtCcy(entry.currency), E.UnitCcy(tx.currency),
                                    E.XchgRate(entry.exchange_rate)))
    return E.AmtDtls(instructed, E.TxAmt(E.Amt(entry.amount, Ccy=entry.currency)))


def _return_information(E: ElementMaker, reason_code: str) -> etree._Element:
    information = E.RtrInf(E.Rsn(E.Cd(reason_code)))
    if reason_code in REASON_INFO:
        information.append(E.AddtlInf(REASON_INFO[reason_code]))
    return information


def entry_notification(tx: PaymentTransaction, entry: AccountEntry, *, now: datetime) -> bytes:
    """A BkToCstmrDbtCdtNtfctn for one booking on the debtor's account, in the account's currency:
    the debit of a settled payment, or the credit of its return (RtrInf, the original EndToEndId)."""
    E = _maker(CAMT054)
    parties = E.RltdPties()
    if tx.debtor_name:
        parties.append(E.Dbtr(_party(E, tx.debtor_name)))
    parties.append(E.DbtrAcct(_account_id(E, tx.debtor_account, tx.debtor_account_is_iban)))
    if tx.creditor_name:
        parties.append(E.Cdtr(_party(E, tx.creditor_name)))
    parties.append(E.CdtrAcct(_account_id(E, tx.creditor_account, tx.creditor_account_is_iban)))
    references = E.Refs(E.MsgId(tx.msg_id), E.AcctSvcrRef(entry.bank_reference), E.PmtInfId(tx.pmt_inf_id))
    if tx.instr_id:
        references.append(E.InstrId(tx.instr_id))
    references.append(E.EndToEndId(tx.end_to_end_id))
    details = E.TxDtls(references, E.Amt(entry.amount, Ccy=entry.currency), E.CdtDbtInd(entry.direction),
                       _amount_details(E, tx, entry), parties)
    if tx.remittance_info:
        details.append(E.RmtInf(E.Ustrd(tx.remittance_info)))
    if entry.return_reason:
        details.append(_return_information(E, entry.return_reason))
    booked = E.Ntry(
        E.NtryRef(entry.bank_reference), E.Amt(entry.amount, Ccy=entry.currency), E.CdtDbtInd(entry.direction),
        E.Sts(E.Cd("BOOK")), E.BookgDt(E.Dt(entry.booking_date)), E.ValDt(E.Dt(entry.booking_date)),
        E.AcctSvcrRef(entry.bank_reference), _bank_transaction_code(E, tx, entry), E.NtryDtls(details))
    notification = E.Ntfctn(
        E.Id(new_message_id("NTF")), E.CreDtTm(iso_datetime(now)),
        E.Acct(_account_id(E, tx.debtor_account, tx.debtor_account_is_iban), E.Ccy(entry.currency)), booked)
    header = E.GrpHdr(E.MsgId(new_message_id("NTF")), E.CreDtTm(iso_datetime(now)))
    return _serialize(E.Document(E.BkToCstmrDbtCdtNtfctn(header, notification)))
