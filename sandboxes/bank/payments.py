"""Taking in a checked pain.001 exactly once, and finding what the bank holds."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sandboxes.bank.pain001 import MESSAGE_NAME, CreditTransfer, CustomerCreditTransfer
from sandboxes.bank.tables import FileRejection, PaymentBlock, PaymentMessage, PaymentTransaction
from sandboxes.kit.db import session


class DuplicatePayment(Exception):
    """The file repeats a MsgId, or an EndToEndId already used from the same debtor account."""

    def __init__(self, original_msg_id: str, detail: str) -> None:
        super().__init__(detail)
        self.original_msg_id = original_msg_id
        self.detail = detail


def _duplicate_of(db: Session, message: CustomerCreditTransfer) -> DuplicatePayment | None:
    if db.get(PaymentMessage, message.msg_id) is not None:
        return DuplicatePayment(message.msg_id, f"MsgId {message.msg_id} was already received")
    for tx in message.transactions:
        earlier = db.exec(select(PaymentTransaction).where(
            PaymentTransaction.debtor_account == tx.debtor_account.id,
            PaymentTransaction.end_to_end_id == tx.end_to_end_id)).first()
        if earlier is not None:
            return DuplicatePayment(earlier.msg_id, f"EndToEndId {tx.end_to_end_id} was already used from "
                                                    f"account {tx.debtor_account.id} in message {earlier.msg_id}")
    return None


def _transaction_row(msg_id: str, tx: CreditTransfer, now: float) -> PaymentTransaction:
    return PaymentTransaction(
        msg_id=msg_id, pmt_inf_id=tx.pmt_inf_id, instr_id=tx.instr_id, end_to_end_id=tx.end_to_end_id,
        requested_execution_date=tx.requested_execution_date.isoformat(),
        debtor_name=tx.debtor_name, debtor_account=tx.debtor_account.id,
        debtor_account_is_iban=tx.debtor_account.is_iban, debtor_agent_bic=tx.debtor_agent_bic,
        creditor_name=tx.creditor_name, creditor_account=tx.creditor_account.id,
        creditor_account_is_iban=tx.creditor_account.is_iban, creditor_agent_bic=tx.creditor_agent_bic,
        amount=format(tx.amount, "f"), currency=tx.currency, remittance_info=tx.remittance_info, accepted_at=now)


def accept(engine: Engine, message: CustomerCreditTransfer, document: bytes, now: float) -> PaymentMessage:
    """Store the file and its transactions, or raise ``DuplicatePayment`` and store nothing."""
    with session(engine) as db:
        duplicate = _duplicate_of(db, message)
        if duplicate:
            raise duplicate
        ctrl_sum = format(message.ctrl_sum, "f") if message.ctrl_sum is not None else None
        stored = PaymentMessage(
            msg_id=message.msg_id, message_name=MESSAGE_NAME, created_at=message.created_at,
            nb_of_txs=message.nb_of_txs, ctrl_sum=ctrl_sum,
            initiating_party=message.initiating_party, received_at=now, document=document)
        db.add(stored)
        blocks: dict[str, bool] = {}
        for tx in message.transactions:   # a file repeating a PmtInfId is booked as its first block asks
            blocks.setdefault(tx.pmt_inf_id, tx.batch_booking)
        db.add_all(PaymentBlock(msg_id=message.msg_id, pmt_inf_id=pmt_inf_id, batch_booking=batch_booking)
                   for pmt_inf_id, batch_booking in blocks.items())
        db.add_all(_transaction_row(message.msg_id, tx, now) for tx in message.transactions)
        try:
            db.commit()
        except IntegrityError:  # a concurrent submission of the same keys won the race
            db.rollback()
            duplicate = _duplicate_of(db, message)
            if duplicate:
                raise duplicate from None
            raise
    return stored


def find_transaction(engine: Engine, msg_id: str, end_to_end_id: str) -> PaymentTransaction | None:
    with session(engine) as db:
        return db.exec(select(PaymentTransaction).where(
            PaymentTransaction.msg_id == msg_id, PaymentTransaction.end_to_end_id == end_to_end_id)).first()


def find_message(engine: Engine, msg_id: str) -> tuple[PaymentMessage, list[PaymentTransaction]] | None:
    with session(engine) as db:
        message = db.get(PaymentMessage, msg_id)
        if message is None:
            return None
        transactions = db.exec(select(PaymentTransaction).where(PaymentTransaction.msg_id == msg_id)
                               .order_by(col(PaymentTransaction.id))).all()
        return message, list(transactions)


def find_rejection(engine: Engine, msg_id: str) -> FileRejection | None:
    """The file's rejection as a whole, if it was rejected so."""
    with session(engine) as db:
        return db.get(FileRejection, msg_id)


def list_transactions(engine: Engine) -> list[PaymentTransaction]:
    with session(engine) as db:
        return list(db.exec(select(PaymentTransaction).order_by(col(PaymentTransaction.id))).all())
