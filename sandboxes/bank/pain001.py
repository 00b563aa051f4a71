"""Reading a customer's pain.001.001.09 as a bank does: the official XSD first, then the checks
the schema cannot express (totals, amounts per currency, repeated ids inside the file).

Refusals carry the ISO 20022 status reason code a bank would use (FF01 invalid file format,
AM18 wrong number of transactions, AM10 wrong control sum, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import iso4217
import sepaxml
from lxml import etree

MESSAGE_NAME = "pain.001.001.09"
NAMESPACE = f"urn:iso:std:iso:20022:tech:xsd:{MESSAGE_NAME}"
SCHEMA_FILE = Path(sepaxml.__file__).resolve().parent / "schemas" / f"{MESSAGE_NAME}.xsd"
MAX_ERRORS_LISTED = 20

_NS = {"p": NAMESPACE}


class Pain001Refused(Exception):
    """The file is refused as a whole; nothing of it is booked."""

    def __init__(self, code: str, title: str, detail: str, errors: list[str] | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = errors or []


@dataclass(frozen=True)
class AccountRef:
    id: str
    is_iban: bool


@dataclass(frozen=True)
class CreditTransfer:
    pmt_inf_id: str
    instr_id: str | None
    end_to_end_id: str
    requested_execution_date: date
    debtor_name: str
    debtor_account: AccountRef
    debtor_agent_bic: str
    creditor_name: str
    creditor_account: AccountRef
    creditor_agent_bic: str | None
    amount: Decimal
    currency: str
    remittance_info: str | None
    batch_booking: bool = False    # its PmtInf's BtchBookg; absent counts as false (one entry per transaction)


@dataclass(frozen=True)
class CustomerCreditTransfer:
    msg_id: str
    created_at: str
    nb_of_txs: int
    ctrl_sum: Decimal | None
    initiating_party: str
    transactions: list[CreditTransfer]


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_FILE)))


def _parser() -> etree.XMLParser:
    # A bank never resolves entities or fetches anything a file points at.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def read_pain001(body: bytes) -> CustomerCreditTransfer:
    """The file's transactions, or ``Pain001Refused`` saying why the whole file is refused."""
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise Pain001Refused("FF01", "Malformed XML", f"the body is not well-formed XML: {exc}") from None
    xsd = schema()
    if not xsd.validate(root):
        errors = [f"line {e.line}: {e.message}" for e in list(xsd.error_log)[:MAX_ERRORS_LISTED]]
        raise Pain001Refused("FF01", "Schema validation failed",
                             f"the document is not a valid {MESSAGE_NAME} ({len(xsd.error_log)} errors)", errors)
    message = _extract(root)
    _check_totals(root, message)
    _check_amounts(message.transactions)
    _check_unique_end_to_end_ids(message.transactions)
    return message


def _text(node: etree._Element, path: str) -> str | None:
    found = node.find(path, _NS)
    return found.text if found is not None and found.text is not None else None


def _required(node: etree._Element, path: str) -> str:
    """A field the XSD makes mandatory (the file was validated before it is read)."""
    text = _text(node, path)
    if text is None:
        raise Pain001Refused("FF01", "Invalid file format", f"{path} is missing")
    return text


def _account(node: etree._Element | None) -> AccountRef | None:
    if node is None:
        return None
    iban = _text(node, "p:Id/p:IBAN")
    if iban:
        return AccountRef(iban.upper(), True)
    return AccountRef(_text(node, "p:Id/p:Othr/p:Id") or "", False)


def _extract(root: etree._Element) -> CustomerCreditTransfer:
    initiation = root.find("p:CstmrCdtTrfInitn", _NS)
    header = initiation.find("p:GrpHdr", _NS)
    ctrl_sum = _text(header, "p:CtrlSum")
    transactions = []
    for info in initiation.findall("p:PmtInf", _NS):
        execution = _text(info, "p:ReqdExctnDt/p:Dt") or (_text(info, "p:ReqdExctnDt/p:DtTm") or "")[:10]
        debtor_account = _account(info.find("p:DbtrAcct", _NS))
        batch_booking = _text(info, "p:BtchBookg") in ("true", "1")
        if debtor_account is None:
            raise Pain001Refused("AC02", "Debtor account missing", "a payment information block has no DbtrAcct")
        # Read once per block: a lookup in a block scans all its transactions (50,000 in a payroll).
        pmt_inf_id = _text(info, "p:PmtInfId") or ""
        debtor_name = _text(info, "p:Dbtr/p:Nm") or ""
        debtor_agent_bic = _text(info, "p:DbtrAgt/p:FinInstnId/p:BICFI") or ""
        for tx in info.findall("p:CdtTrfTxInf", _NS):
            amount = tx.find("p:Amt/p:InstdAmt", _NS)
            if amount is None:
                raise Pain001Refused("AM12", "Amount not supported",
                                     "this bank takes InstdAmt only; EqvtAmt is not supported")
            creditor_account = _account(tx.find("p:CdtrAcct", _NS))
            end_to_end_id = _text(tx, "p:PmtId/p:EndToEndId") or ""
            if creditor_account is None:
                raise Pain001Refused("AC01", "Creditor account missing",
                                     f"transaction {end_to_end_id} has no CdtrAcct")
            transactions.append(CreditTransfer(
                pmt_inf_id=pmt_inf_id,
                instr_id=_text(tx, "p:PmtId/p:InstrId"),
                end_to_end_id=end_to_end_id,
                requested_execution_date=date.fromisoformat(execution),
                debtor_name=debtor_name,
                debtor_account=debtor_account,
                debtor_agent_bic=debtor_agent_bic,
                creditor_name=_text(tx, "p:Cdtr/p:Nm") or "",
                creditor_account=creditor_account,
                creditor_agent_bic=_text(tx, "p:CdtrAgt/p:FinInstnId/p:BICFI"),
                amount=Decimal(amount.text.strip()),
                currency=amount.get("Ccy"),
                remittance_info=_text(tx, "p:RmtInf/p:Ustrd"),
                batch_booking=batch_booking,
            ))
    return CustomerCreditTransfer(
        msg_id=_required(header, "p:MsgId"),
        created_at=_required(header, "p:CreDtTm"),
        nb_of_txs=int(_required(header, "p:NbOfTxs")),
        ctrl_sum=Decimal(ctrl_sum) if ctrl_sum is not None else None,
        initiating_party=_text(header, "p:InitgPty/p:Nm") or "",
        transactions=transactions,
    )


def _check_count_and_sum(where: str, declared_count: str | None, declared_sum: str | None,
                         amounts: list[Decimal]) -> None:
    if declared_count is not None and int(declared_count) != len(amounts):
        raise Pain001Refused("AM18", "Number of transactions mismatch",
                             f"{where} NbOfTxs is {declared_count} but the file holds {len(amounts)} transactions")
    if declared_sum is not None and Decimal(declared_sum) != sum(amounts, Decimal(0)):
        raise Pain001Refused("AM10", "Control sum mismatch",
                             f"{where} CtrlSum is {declared_sum} but the transactions add up to "
                             f"{sum(amounts, Decimal(0))}")


def _check_totals(root: etree._Element, message: CustomerCreditTransfer) -> None:
    initiation = root.find("p:CstmrCdtTrfInitn", _NS)
    header = initiation.find("p:GrpHdr", _NS)
    _check_count_and_sum("GrpHdr", _text(header, "p:NbOfTxs"), _text(header, "p:CtrlSum"),
                         [tx.amount for tx in message.transactions])
    for info in initiation.findall("p:PmtInf", _NS):
        pmt_inf_id = _text(info, "p:PmtInfId")
        _check_count_and_sum(f"PmtInf {pmt_inf_id}", _text(info, "p:NbOfTxs"), _text(info, "p:CtrlSum"),
                             [tx.amount for tx in message.transactions if tx.pmt_inf_id == pmt_inf_id])


def _check_amounts(transactions: list[CreditTransfer]) -> None:
    for tx in transactions:
        try:
            exponent = iso4217.Currency(tx.currency).exponent
        except ValueError:
            exponent = None
        if exponent is None:
            raise Pain001Refused("AM11", "Invalid currency",
                                 f"transaction {tx.end_to_end_id}: {tx.currency} is not a payable currency")
        if tx.amount == 0:
            raise Pain001Refused("AM01", "Zero amount", f"transaction {tx.end_to_end_id} has a zero amount")
        places = tx.amount.as_tuple().exponent
        if not isinstance(places, int) or -places > exponent:
            raise Pain001Refused("AM12", "Invalid amount",
                                 f"transaction {tx.end_to_end_id}: {tx.amount} {tx.currency} has more than "
                                 f"{exponent} decimals")


def _check_unique_end_to_end_ids(transactions: list[CreditTransfer]) -> None:
    seen: set[tuple[str, str]] = set()
    for tx in transactions:
        key = (tx.debtor_account.id, tx.end_to_end_id)
        if key in seen:
            raise Pain001Refused("DU04", "Duplicate EndToEndId in file",
                                 f"EndToEndId {tx.end_to_end_id} appears more than once for one debtor account")
        seen.add(key)
