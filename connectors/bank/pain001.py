"""Write the pain.001.001.09 credit transfer initiation: a payment run's file, a single payment's,
and a payroll's net pay of tens of thousands of transfers, all by the one streaming writer here.

GrpHdr and every PmtInf state their NbOfTxs and CtrlSum before their transactions, while a large
file's transfers arrive as an iterator that can be read once. So the writer reads the transfers
once into a spool (a temporary file once it outgrows memory) of the few facts each needs, adding
up the counts and sums as it goes, then writes the document front to back with
``lxml.etree.xmlfile``, one transaction element at a time: memory stays flat whatever the size.

InstrId reuses EndToEndId, so every id the bank may quote back is one finsync already keys on. A
single PaymentInstruction is a file of one (its PmtInfId is its MsgId), byte for byte the file it
always was.
"""

from __future__ import annotations

import io
import os
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, NamedTuple

from lxml import etree

from canonical.parties import BankAccount
from canonical.payment import (
    BulkPaymentFile,
    CreditTransfer,
    PaymentBatch,
    PaymentFileTotals,
    PaymentGroup,
    PaymentInstruction,
)

MESSAGE_NAME = "pain.001.001.09"
NAMESPACE = f"urn:iso:std:iso:20022:tech:xsd:{MESSAGE_NAME}"
NAME_LENGTH = 140  # Max140Text
INDENT = "  "
SPOOL_IN_MEMORY = 4 * 1024 * 1024   # bytes of spooled transfers kept in memory before going to disk


@dataclass(frozen=True)
class _Header:
    """The file's facts besides its blocks: GrpHdr, and the debtor every block pays from."""

    message_id: str
    created_at: datetime
    initiating_party: str
    debtor_name: str
    debtor_account: BankAccount


@dataclass(frozen=True)
class _Block:
    """One PmtInf to write: its facts, and its transfers (read once)."""

    payment_info_id: str
    currency: str
    requested_execution_date: date
    batch_booking: bool | None          # None: BtchBookg left out, the bank's default
    service_level: str | None
    transfers: Iterable[CreditTransfer]


class _Transfer(NamedTuple):
    """What a CdtTrfTxInf needs of a CreditTransfer: the spool holds these, not the models."""

    end_to_end_id: str
    amount: str
    currency: str
    creditor_bic: str
    creditor_name: str
    creditor_iban: str | None
    creditor_account_number: str | None
    remittance_info: str


def _amount_text(value: Decimal) -> str:
    """Money's amounts carry exactly their currency's minor-unit digits (JPY 0, EUR 2, BHD 3):
    written as they are, never with an exponent."""
    return format(value, "f")


# Elements are built without a namespace and written inside the Document, whose default namespace
# they take: built in it, each would declare it again on every transaction. Each is built root
# first (SubElement), lxml's quick way to make a small tree.
def _in(parent: etree._Element | None, path: tuple[str, ...], text: str, **attributes: str) -> etree._Element:
    """``text`` at the end of ``path`` under ``parent`` (None: a new root); the path's first element."""
    first = element = etree.Element(path[0]) if parent is None else etree.SubElement(parent, path[0])
    for tag in path[1:]:
        element = etree.SubElement(element, tag)
    element.text = text
    for name, value in attributes.items():
        element.set(name, value)
    return first


_IBAN, _OTHER_ID = ("Id", "IBAN"), ("Id", "Othr", "Id")


def _account(parent: etree._Element | None, tag: str, iban: str | None, account_number: str | None) -> etree._Element:
    if iban:
        return _in(parent, (tag, *_IBAN), iban)
    return _in(parent, (tag, *_OTHER_ID), account_number or "")


def _transaction(tx: _Transfer) -> etree._Element:
    transaction = etree.Element("CdtTrfTxInf")
    payment_id = etree.SubElement(transaction, "PmtId")
    _in(payment_id, ("InstrId",), tx.end_to_end_id)
    _in(payment_id, ("EndToEndId",), tx.end_to_end_id)
    _in(transaction, ("Amt", "InstdAmt"), tx.amount, Ccy=tx.currency)
    _in(transaction, ("CdtrAgt", "FinInstnId", "BICFI"), tx.creditor_bic)
    _in(transaction, ("Cdtr", "Nm"), tx.creditor_name[:NAME_LENGTH])
    _account(transaction, "CdtrAcct", tx.creditor_iban, tx.creditor_account_number)
    if tx.remittance_info:
        _in(transaction, ("RmtInf", "Ustrd"), tx.remittance_info)
    return transaction


def _block_head(block: _Block, totals: PaymentFileTotals, header: _Header) -> list[etree._Element]:
    """PmtInf's children before its transactions."""
    head = [_in(None, ("PmtInfId",), block.payment_info_id), _in(None, ("PmtMtd",), "TRF")]
    if block.batch_booking is not None:
        head.append(_in(None, ("BtchBookg",), "true" if block.batch_booking else "false"))
    head += [_in(None, ("NbOfTxs",), str(totals.count)), _in(None, ("CtrlSum",), _amount_text(totals.control_sum))]
    if block.service_level:
        head.append(_in(None, ("PmtTpInf", "SvcLvl", "Cd"), block.service_level))
    head += [_in(None, ("ReqdExctnDt", "Dt"), block.requested_execution_date.isoformat()),
             _in(None, ("Dbtr", "Nm"), header.debtor_name[:NAME_LENGTH]),
             _account(None, "DbtrAcct", header.debtor_account.iban, header.debtor_account.account_number),
             _in(None, ("DbtrAgt", "FinInstnId", "BICFI"), header.debtor_account.bic),
             _in(None, ("ChrgBr",), "SLEV")]
    return head


class _Spool:
    """The transfers of every block, read once and kept as ``_Transfer`` in a temporary file,
    with each block's count and sum. Checks what the file's structure cannot show later: one
    currency per block, an IBAN for every SEPA creditor, no EndToEndId twice."""

    def __init__(self, message_id: str) -> None:
        self.message_id = message_id
        self.file = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        self.block_totals: list[PaymentFileTotals] = []
        self._seen: set[str] = set()

    def __enter__(self) -> _Spool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.file.close()

    def add(self, block: _Block) -> None:
        count, control_sum = 0, Decimal(0)
        for tx in block.transfers:
            self._check(block, tx)
            creditor = tx.creditor
            pickle.dump(_Transfer(tx.end_to_end_id, _amount_text(tx.amount.amount), tx.amount.currency,
                                  creditor.bic, creditor.holder_name, creditor.iban, creditor.account_number,
                                  tx.remittance_info), self.file, protocol=pickle.HIGHEST_PROTOCOL)
            count += 1
            control_sum += tx.amount.amount
        if not count:
            raise ValueError(f"payment block {block.payment_info_id} of file {self.message_id} has no transfers")
        self.block_totals.append(PaymentFileTotals(message_id=self.message_id, count=count, control_sum=control_sum))

    def _check(self, block: _Block, tx: CreditTransfer) -> None:
        if tx.amount.currency != block.currency:
            raise ValueError(f"transaction {tx.end_to_end_id} pays {tx.amount.currency} in the "
                             f"{block.currency} block {block.payment_info_id}")
        if block.service_level == "SEPA" and not tx.creditor.iban:
            raise ValueError(f"transaction {tx.end_to_end_id} is in the SEPA block {block.payment_info_id} "
                             "but its creditor has no IBAN")
        if tx.end_to_end_id in self._seen:
            raise ValueError(f"EndToEndId {tx.end_to_end_id} appears more than once in payment file {self.message_id}")
        self._seen.add(tx.end_to_end_id)

    def transfers(self, count: int) -> Iterator[_Transfer]:
        for _ in range(count):
            yield pickle.load(self.file)

    @property
    def file_totals(self) -> PaymentFileTotals:
        return PaymentFileTotals(message_id=self.message_id, count=sum(t.count for t in self.block_totals),
                                 control_sum=sum((t.control_sum for t in self.block_totals), Decimal(0)))


def _put(xf: etree.xmlfile, element: etree._Element, depth: int) -> None:
    """``element`` on a line of its own at ``depth``, its children indented below it."""
    etree.indent(element, INDENT, level=depth)
    xf.write(f"\n{INDENT * depth}", element)


def _write(sink: IO[bytes], header: _Header, blocks: list[_Block]) -> PaymentFileTotals:
    """The document, UTF-8 with declaration, indented two spaces a level, into ``sink``."""
    with _Spool(header.message_id) as spool:
        for block in blocks:
            spool.add(block)
        spool.file.seek(0)
        totals = spool.file_totals
        group_header = etree.Element("GrpHdr")
        _in(group_header, ("MsgId",), header.message_id)
        _in(group_header, ("CreDtTm",), header.created_at.astimezone(UTC).isoformat(timespec="seconds"))
        _in(group_header, ("NbOfTxs",), str(totals.count))
        _in(group_header, ("CtrlSum",), _amount_text(totals.control_sum))
        _in(group_header, ("InitgPty", "Nm"), header.initiating_party[:NAME_LENGTH])
        with etree.xmlfile(sink, encoding="UTF-8") as xf:
            xf.write_declaration()
            with xf.element(f"{{{NAMESPACE}}}Document", nsmap={None: NAMESPACE}):
                xf.write(f"\n{INDENT}")
                with xf.element(f"{{{NAMESPACE}}}CstmrCdtTrfInitn"):
                    _put(xf, group_header, 2)
                    for block, block_totals in zip(blocks, spool.block_totals, strict=True):
                        xf.write(f"\n{INDENT * 2}")
                        with xf.element(f"{{{NAMESPACE}}}PmtInf"):
                            for element in _block_head(block, block_totals, header):
                                _put(xf, element, 3)
                            for tx in spool.transfers(block_totals.count):
                                _put(xf, _transaction(tx), 3)
                            xf.write(f"\n{INDENT * 2}")
                    xf.write(f"\n{INDENT}")
                xf.write("\n")
        sink.write(b"\n")
    return totals


def _is_sepa(batch: PaymentBatch, group: PaymentGroup) -> bool:
    """A SEPA credit transfer block: euros, from an IBAN, and every creditor by IBAN."""
    return (group.currency == "EUR" and bool(batch.debtor_account.iban)
            and all(tx.creditor.iban for tx in group.transactions))


def build_batch_pain001(batch: PaymentBatch, *, created_at: datetime | None = None) -> bytes:
    """The XML document, UTF-8 with declaration, as a bank expects it in a request body."""
    blocks = [_Block(
        payment_info_id=group.payment_info_id, currency=group.currency,
        requested_execution_date=group.requested_execution_date,
        # One debit per transfer, so each camt.054 entry is one payment; a block of one books
        # one debit either way and leaves it out, as single payments' files always have.
        batch_booking=False if group.count > 1 else None,
        # SEPA credit transfer: the bank must be told the service level.
        service_level="SEPA" if _is_sepa(batch, group) else None,
        transfers=group.transactions) for group in batch.groups]
    document = io.BytesIO()
    _write(document, _Header(message_id=batch.message_id, created_at=created_at or datetime.now(UTC),
                             initiating_party=batch.debtor_name, debtor_name=batch.debtor_name,
                             debtor_account=batch.debtor_account), blocks)
    return document.getvalue()


def build_pain001(instruction: PaymentInstruction, *, created_at: datetime | None = None) -> bytes:
    """One payment's file."""
    return build_batch_pain001(PaymentBatch.of_instruction(instruction), created_at=created_at)


def write_bulk_pain001(target: str | os.PathLike[str] | IO[bytes], payment_file: BulkPaymentFile,
                       transfers: Iterable[CreditTransfer], *, created_at: datetime | None = None) -> PaymentFileTotals:
    """Write ``payment_file`` with ``transfers`` (read once, in order) to ``target``: a path, or a
    binary file open for writing. Returns its count and control sum; ValueError if a transfer
    does not fit the block (another currency, no IBAN in a SEPA block, an EndToEndId twice) or
    there are none.

    A path is written whole or not at all: into a temporary file beside it, renamed on success,
    so an interrupted write never leaves half a file to be sent.
    """
    block = _Block(payment_info_id=payment_file.payment_info_id, currency=payment_file.currency,
                   requested_execution_date=payment_file.requested_execution_date,
                   batch_booking=payment_file.batch_booking, service_level=payment_file.service_level,
                   transfers=transfers)
    header = _Header(message_id=payment_file.message_id, created_at=created_at or datetime.now(UTC),
                     initiating_party=payment_file.initiating_party or payment_file.debtor_name,
                     debtor_name=payment_file.debtor_name, debtor_account=payment_file.debtor_account)
    if not isinstance(target, (str, os.PathLike)):
        return _write(target, header, [block])
    path = Path(target)
    partial = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False)  # noqa: SIM115
    try:
        with partial:
            totals = _write(partial, header, [block])
        os.replace(partial.name, path)
    except BaseException:
        Path(partial.name).unlink(missing_ok=True)
        raise
    return totals
