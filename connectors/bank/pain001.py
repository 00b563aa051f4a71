"""Build the pain.001.001.09 credit transfer initiation for a canonical PaymentBatch.

One file per batch: GrpHdr with the file's NbOfTxs and CtrlSum, one PmtInf per block with its
own, one CdtTrfTxInf per transfer. InstrId reuses EndToEndId, so every id the bank may quote
back is one finsync already keys on. A single PaymentInstruction is a file of one (its PmtInfId
is its MsgId), byte for byte the file it always was.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from lxml import etree
from lxml.builder import ElementMaker

from canonical.parties import BankAccount
from canonical.payment import CreditTransfer, PaymentBatch, PaymentGroup, PaymentInstruction

MESSAGE_NAME = "pain.001.001.09"
NAMESPACE = f"urn:iso:std:iso:20022:tech:xsd:{MESSAGE_NAME}"
NAME_LENGTH = 140  # Max140Text

E = ElementMaker(namespace=NAMESPACE, nsmap={None: NAMESPACE})


def _amount_text(value: Decimal) -> str:
    """Money's amounts carry exactly their currency's minor-unit digits (JPY 0, EUR 2, BHD 3):
    written as they are, never with an exponent."""
    return format(value, "f")


def _account(account: BankAccount) -> etree._Element:
    if account.iban:
        return E.Id(E.IBAN(account.iban))
    return E.Id(E.Othr(E.Id(account.account_number)))


def _agent(account: BankAccount) -> etree._Element:
    return E.FinInstnId(E.BICFI(account.bic))


def _is_sepa(batch: PaymentBatch, group: PaymentGroup) -> bool:
    """A SEPA credit transfer block: euros, from an IBAN, and every creditor by IBAN."""
    return (group.currency == "EUR" and bool(batch.debtor_account.iban)
            and all(tx.creditor.iban for tx in group.transactions))


def _transaction(tx: CreditTransfer) -> etree._Element:
    transaction = E.CdtTrfTxInf(
        E.PmtId(E.InstrId(tx.end_to_end_id), E.EndToEndId(tx.end_to_end_id)),
        E.Amt(E.InstdAmt(_amount_text(tx.amount.amount), Ccy=tx.amount.currency)),
        E.CdtrAgt(_agent(tx.creditor)),
        E.Cdtr(E.Nm(tx.creditor.holder_name[:NAME_LENGTH])),
        E.CdtrAcct(_account(tx.creditor)),
    )
    if tx.remittance_info:
        transaction.append(E.RmtInf(E.Ustrd(tx.remittance_info)))
    return transaction


def _payment_info(batch: PaymentBatch, group: PaymentGroup) -> etree._Element:
    payment_info = E.PmtInf(E.PmtInfId(group.payment_info_id), E.PmtMtd("TRF"))
    if group.count > 1:
        # One debit per transfer, so each camt.054 entry is one payment; a block of one books
        # one debit either way and leaves it out, as single payments' files always have.
        payment_info.append(E.BtchBookg("false"))
    payment_info.extend([E.NbOfTxs(str(group.count)), E.CtrlSum(_amount_text(group.control_sum))])
    if _is_sepa(batch, group):  # SEPA credit transfer: the bank must be told the service level
        payment_info.append(E.PmtTpInf(E.SvcLvl(E.Cd("SEPA"))))
    payment_info.extend([
        E.ReqdExctnDt(E.Dt(group.requested_execution_date.isoformat())),
        E.Dbtr(E.Nm(batch.debtor_name[:NAME_LENGTH])),
        E.DbtrAcct(_account(batch.debtor_account)),
        E.DbtrAgt(_agent(batch.debtor_account)),
        E.ChrgBr("SLEV"),
    ])
    payment_info.extend(_transaction(tx) for tx in group.transactions)
    return payment_info


def build_batch_pain001(batch: PaymentBatch, *, created_at: datetime | None = None) -> bytes:
    """The XML document, UTF-8 with declaration, as a bank expects it in a request body."""
    created_at = (created_at or datetime.now(UTC)).astimezone(UTC)
    document = E.Document(E.CstmrCdtTrfInitn(
        E.GrpHdr(
            E.MsgId(batch.message_id),
            E.CreDtTm(created_at.isoformat(timespec="seconds")),
            E.NbOfTxs(str(batch.count)),
            E.CtrlSum(_amount_text(batch.control_sum)),
            E.InitgPty(E.Nm(batch.debtor_name[:NAME_LENGTH])),
        ),
        *(_payment_info(batch, group) for group in batch.groups),
    ))
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def build_pain001(instruction: PaymentInstruction, *, created_at: datetime | None = None) -> bytes:
    """One payment's file."""
    return build_batch_pain001(PaymentBatch.of_instruction(instruction), created_at=created_at)
