"""Reading a customer's pain.001.001.09 as a bank does: against the official XSD, and then the
checks the schema cannot express (totals, amounts per currency, repeated ids inside the file).

The file is read as a stream (iterparse, each transaction dropped once read) and validated as
it is read, so a payroll file of 50,000 transactions never stands in memory as a tree. A
schema violation refuses the file before anything else does: the other checks are noted as the
file is read and decided once all of it has passed the schema.

Refusals carry the ISO 20022 status reason code a bank would use (FF01 invalid file format,
AM18 wrong number of transactions, AM10 wrong control sum, ...).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

import iso4217
import sepaxml
from lxml import etree

MESSAGE_NAME = "pain.001.001.09"
NAMESPACE = f"urn:iso:std:iso:20022:tech:xsd:{MESSAGE_NAME}"
SCHEMA_FILE = Path(sepaxml.__file__).resolve().parent / "schemas" / f"{MESSAGE_NAME}.xsd"

_NS = {"p": NAMESPACE}
_GROUP_HEADER, _PAYMENT_INFO, _TRANSACTION = (f"{{{NAMESPACE}}}{tag}" for tag in ("GrpHdr", "PmtInf", "CdtTrfTxInf"))


class Pain001Refused(Exception):
    """The file is refused as a whole; nothing of it is booked."""

    def __init__(self, code: str, title: str, detail: str, errors: list[str] | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = errors or []


@dataclass(frozen=True, slots=True)
class AccountRef:
    id: str
    is_iban: bool


@dataclass(frozen=True, slots=True)
class PaymentInfo:
    """One PmtInf block as declared: its id, whether it asks for batch booking, its totals."""

    pmt_inf_id: str
    batch_booking: bool | None     # BtchBookg; None: not stated
    nb_of_txs: int | None
    ctrl_sum: Decimal | None
    requested_execution_date: date
    debtor_name: str
    debtor_account: AccountRef
    debtor_agent_bic: str


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True)
class CustomerCreditTransfer:
    msg_id: str
    created_at: str
    nb_of_txs: int
    ctrl_sum: Decimal | None
    initiating_party: str
    blocks: list[PaymentInfo]
    transactions: list[CreditTransfer]


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_FILE)))


@lru_cache(maxsize=64)
def _exponent(currency: str) -> int | None:
    try:
        return iso4217.Currency(currency).exponent
    except ValueError:
        return None


def read_pain001(body: bytes) -> CustomerCreditTransfer:
    """The file's blocks and transactions, or ``Pain001Refused`` saying why the whole file is refused."""
    reader = _Reader()
    try:
        # A bank never resolves entities or fetches anything a file points at.
        for _, element in etree.iterparse(io.BytesIO(body), events=("end",),
                                          tag=(_GROUP_HEADER, _PAYMENT_INFO, _TRANSACTION), schema=schema(),
                                          resolve_entities=False, no_network=True, load_dtd=False):
            reader.read(element)
    except etree.XMLSyntaxError as exc:
        if any(error.domain_name == "SCHEMASV" for error in exc.error_log):
            raise Pain001Refused("FF01", "Schema validation failed", f"the document is not a valid {MESSAGE_NAME}",
                                 [exc.msg]) from None
        raise Pain001Refused("FF01", "Malformed XML", f"the body is not well-formed XML: {exc}") from None
    return reader.message()


def _text(node: etree._Element, path: str) -> str | None:
    found = node.find(path, _NS)
    return found.text if found is not None and found.text is not None else None


def _account(node: etree._Element | None) -> AccountRef | None:
    if node is None:
        return None
    iban = _text(node, "p:Id/p:IBAN")
    if iban:
        return AccountRef(iban.upper(), True)
    return AccountRef(_text(node, "p:Id/p:Othr/p:Id") or "", False)


_LOCAL = len(f"{{{NAMESPACE}}}")


def _leaves(tx: etree._Element) -> dict[tuple[str, str], str]:
    """A transaction's texts by (its child holding them, the element's own name): ("PmtId",
    "EndToEndId"), ("CdtrAcct", "IBAN"), ... and ("Amt", "Ccy") for the currency. One walk over
    the transaction, far quicker than a path search per field. The first of a repeated one counts."""
    leaves: dict[tuple[str, str], str] = {}
    for child in tx.iterchildren(etree.Element):   # elements only: no comments
        part = child.tag[_LOCAL:]
        for element in child.iter(etree.Element):
            name = element.tag[_LOCAL:]
            if element.text is not None and not len(element):
                leaves.setdefault((part, name), element.text)
            if name == "InstdAmt":
                leaves.setdefault(("Amt", "Ccy"), element.get("Ccy") or "")
    return leaves


def _number(text: str | None) -> Decimal | None:
    try:
        return Decimal(text) if text is not None else None
    except InvalidOperation:
        return None


class _Reader:
    """Takes the file's elements as the parser finishes them: the group header, each block's
    transactions (the block's own facts read at its first one), each block's end. It notes the
    first refusal of each kind; ``message`` raises the one that matters most."""

    # What a refusal is about, most important first: a file is refused for the first of these.
    EXTRACTION, FILE_TOTALS, BLOCK_TOTALS, AMOUNTS, DUPLICATES = range(5)

    def __init__(self) -> None:
        self.header: etree._Element | None = None
        self.blocks: list[PaymentInfo] = []
        self.transactions: list[CreditTransfer] = []
        self.block: PaymentInfo | None = None
        self.block_count, self.block_sum = 0, Decimal(0)
        self.end_to_end_ids: set[tuple[str, str]] = set()
        self.refusals: dict[int, Pain001Refused] = {}

    def refuse(self, kind: int, refusal: Pain001Refused) -> None:
        self.refusals.setdefault(kind, refusal)

    def read(self, element: etree._Element) -> None:
        if element.tag == _GROUP_HEADER:
            self.header = element
            return
        if element.tag == _TRANSACTION:
            self.block = self.block or self._block(element.getparent())
            self._transaction(self.block, element)
        elif self.block is not None:   # the end of a block that had transactions
            self._check_totals(self.BLOCK_TOTALS, f"PmtInf {self.block.pmt_inf_id}", self.block.nb_of_txs,
                               self.block.ctrl_sum, self.block_count, self.block_sum)
            self.block, self.block_count, self.block_sum = None, 0, Decimal(0)
        # Read: gone from the tree, so memory holds only what was taken from it.
        parent = element.getparent()
        element.clear(keep_tail=True)
        if parent is not None:
            parent.remove(element)

    def _block(self, info: etree._Element) -> PaymentInfo:
        execution = _text(info, "p:ReqdExctnDt/p:Dt") or (_text(info, "p:ReqdExctnDt/p:DtTm") or "")[:10]
        debtor_account = _account(info.find("p:DbtrAcct", _NS))
        if debtor_account is None:
            self.refuse(self.EXTRACTION, Pain001Refused("AC02", "Debtor account missing",
                                                        "a payment information block has no DbtrAcct"))
            debtor_account = AccountRef("", False)
        batch_booking = _text(info, "p:BtchBookg")
        nb_of_txs = _text(info, "p:NbOfTxs")
        block = PaymentInfo(
            pmt_inf_id=_text(info, "p:PmtInfId") or "",
            batch_booking=batch_booking.strip() in ("true", "1") if batch_booking is not None else None,
            nb_of_txs=int(nb_of_txs) if nb_of_txs is not None else None,
            ctrl_sum=_number(_text(info, "p:CtrlSum")),
            requested_execution_date=date.fromisoformat(execution),
            debtor_name=_text(info, "p:Dbtr/p:Nm") or "",
            debtor_account=debtor_account,
            debtor_agent_bic=_text(info, "p:DbtrAgt/p:FinInstnId/p:BICFI") or "")
        self.blocks.append(block)
        return block

    def _transaction(self, block: PaymentInfo, tx: etree._Element) -> None:
        leaves = _leaves(tx)
        end_to_end_id = leaves.get(("PmtId", "EndToEndId"), "")
        amount = leaves.get(("Amt", "InstdAmt"))
        iban, other_id = leaves.get(("CdtrAcct", "IBAN")), leaves.get(("CdtrAcct", "Id"))
        if amount is None or not (iban or other_id):
            self.refuse(self.EXTRACTION, Pain001Refused(
                "AM12", "Amount not supported", "this bank takes InstdAmt only; EqvtAmt is not supported")
                if amount is None else Pain001Refused("AC01", "Creditor account missing",
                                                      f"transaction {end_to_end_id} has no CdtrAcct"))
            return
        transfer = CreditTransfer(
            pmt_inf_id=block.pmt_inf_id,
            instr_id=leaves.get(("PmtId", "InstrId")),
            end_to_end_id=end_to_end_id,
            requested_execution_date=block.requested_execution_date,
            debtor_name=block.debtor_name,
            debtor_account=block.debtor_account,
            debtor_agent_bic=block.debtor_agent_bic,
            creditor_name=leaves.get(("Cdtr", "Nm"), ""),
            creditor_account=AccountRef(iban.upper(), True) if iban else AccountRef(other_id or "", False),
            creditor_agent_bic=leaves.get(("CdtrAgt", "BICFI")),
            amount=Decimal(amount.strip()),
            currency=leaves.get(("Amt", "Ccy"), ""),
            remittance_info=leaves.get(("RmtInf", "Ustrd")),
        )
        self._check_amount(transfer)
        self._check_unique(transfer)
        self.transactions.append(transfer)
        self.block_count += 1
        self.block_sum += transfer.amount

    def _check_totals(self, kind: int, where: str, declared_count: int | None, declared_sum: Decimal | None,
                      count: int, total: Decimal) -> None:
        if declared_count is not None and declared_count != count:
            self.refuse(kind, Pain001Refused("AM18", "Number of transactions mismatch",
                                             f"{where} NbOfTxs is {declared_count} but the file holds {count} "
                                             "transactions"))
        elif declared_sum is not None and declared_sum != total:
            self.refuse(kind, Pain001Refused("AM10", "Control sum mismatch",
                                             f"{where} CtrlSum is {declared_sum} but the transactions add up to {total}"))

    def _check_amount(self, tx: CreditTransfer) -> None:
        exponent = _exponent(tx.currency)
        places = tx.amount.as_tuple().exponent
        if exponent is None:
            self.refuse(self.AMOUNTS, Pain001Refused(
                "AM11", "Invalid currency", f"transaction {tx.end_to_end_id}: {tx.currency} is not a payable currency"))
        elif tx.amount == 0:
            self.refuse(self.AMOUNTS, Pain001Refused(
                "AM01", "Zero amount", f"transaction {tx.end_to_end_id} has a zero amount"))
        elif not isinstance(places, int) or -places > exponent:
            self.refuse(self.AMOUNTS, Pain001Refused(
                "AM12", "Invalid amount", f"transaction {tx.end_to_end_id}: {tx.amount} {tx.currency} has more than "
                                          f"{exponent} decimals"))

    def _check_unique(self, tx: CreditTransfer) -> None:
        key = (tx.debtor_account.id, tx.end_to_end_id)
        if key in self.end_to_end_ids:
            self.refuse(self.DUPLICATES, Pain001Refused(
                "DU04", "Duplicate EndToEndId in file",
                f"EndToEndId {tx.end_to_end_id} appears more than once for one debtor account"))
        self.end_to_end_ids.add(key)

    def message(self) -> CustomerCreditTransfer:
        """The file read whole, or its most important refusal."""
        header = self.header
        if header is None:   # the schema makes it mandatory: never without one once validated
            raise Pain001Refused("FF01", "Invalid file format", "GrpHdr is missing")
        nb_of_txs, ctrl_sum = int(_text(header, "p:NbOfTxs") or 0), _number(_text(header, "p:CtrlSum"))
        self._check_totals(self.FILE_TOTALS, "GrpHdr", nb_of_txs, ctrl_sum, len(self.transactions),
                           sum((tx.amount for tx in self.transactions), Decimal(0)))
        if self.refusals:
            raise self.refusals[min(self.refusals)]
        return CustomerCreditTransfer(
            msg_id=_text(header, "p:MsgId") or "",
            created_at=_text(header, "p:CreDtTm") or "",
            nb_of_txs=nb_of_txs,
            ctrl_sum=ctrl_sum,
            initiating_party=_text(header, "p:InitgPty/p:Nm") or "",
            blocks=self.blocks,
            transactions=self.transactions,
        )
