"""Build the pain.001.001.09 credit transfer initiation for one canonical PaymentInstruction.

One file, one payment: GrpHdr, one PmtInf, one CdtTrfTxInf. PmtInfId reuses MsgId and InstrId
reuses EndToEndId, so every id the bank may quote back is one finsync already keys on.
"""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree
from lxml.builder import ElementMaker

from canonical.money import Money
from canonical.parties import BankAccount
from canonical.payment import PaymentInstruction

MESSAGE_NAME = "pain.001.001.09"
NAMESPACE = f"urn:iso:std:iso:20022:tech:xsd:{MESSAGE_NAME}"
NAME_LENGTH = 140  # Max140Text

E = ElementMaker(namespace=NAMESPACE, nsmap={None: NAMESPACE})


def amount_text(money: Money) -> str:
    """The amount with exactly the currency's minor-unit digits (JPY 0, EUR 2, BHD 3), no exponent."""
    return format(money.amount, "f")


def _account(account: BankAccount) -> etree._Element:
    if account.iban:
        return E.Id(E.IBAN(account.iban))
    return E.Id(E.Othr(E.Id(account.account_number)))


def _agent(account: BankAccount) -> etree._Element:
    return E.FinInstnId(E.BICFI(account.bic))


def _is_sepa(instruction: PaymentInstruction) -> bool:
    return (instruction.amount.currency == "EUR" and bool(instruction.creditor.iban)
            and bool(instruction.debtor_account.iban))


def build_pain001(instruction: PaymentInstruction, *, created_at: datetime | None = None) -> bytes:
    """The XML document, UTF-8 with declaration, as a bank expects it in a request body."""
    created_at = (created_at or datetime.now(UTC)).astimezone(UTC)
    amount = amount_text(instruction.amount)
    debtor_name = instruction.debtor_name[:NAME_LENGTH]

    transaction = E.CdtTrfTxInf(
        E.PmtId(E.InstrId(instruction.end_to_end_id), E.EndToEndId(instruction.end_to_end_id)),
        E.Amt(E.InstdAmt(amount, Ccy=instruction.amount.currency)),
        E.CdtrAgt(_agent(instruction.creditor)),
        E.Cdtr(E.Nm(instruction.creditor.holder_name[:NAME_LENGTH])),
        E.CdtrAcct(_account(instruction.creditor)),
    )
    if instruction.remittance_info:
        transaction.append(E.RmtInf(E.Ustrd(instruction.remittance_info)))

    payment_info = E.PmtInf(
        E.PmtInfId(instruction.message_id),
        E.PmtMtd("TRF"),
        E.NbOfTxs("1"),
        E.CtrlSum(amount),
    )
    if _is_sepa(instruction):  # SEPA credit transfer: the bank must be told the service level
        payment_info.append(E.PmtTpInf(E.SvcLvl(E.Cd("SEPA"))))
    payment_info.extend([
        E.ReqdExctnDt(E.Dt(instruction.requested_execution_date.isoformat())),
        E.Dbtr(E.Nm(debtor_name)),
        E.DbtrAcct(_account(instruction.debtor_account)),
        E.DbtrAgt(_agent(instruction.debtor_account)),
        E.ChrgBr("SLEV"),
        transaction,
    ])

    document = E.Document(E.CstmrCdtTrfInitn(
        E.GrpHdr(
            E.MsgId(instruction.message_id),
            E.CreDtTm(created_at.isoformat(timespec="seconds")),
            E.NbOfTxs("1"),
            E.CtrlSum(amount),
            E.InitgPty(E.Nm(debtor_name)),
        ),
        payment_info,
    ))
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)
