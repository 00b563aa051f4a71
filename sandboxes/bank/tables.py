"""The bank's state: accounts, received pain.001 messages, their transactions, the subscription.

Amounts are stored as the decimal strings the customer sent (never floats). Times that only
schedule work are epoch seconds; business dates are ISO dates.
"""

from __future__ import annotations

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

# Transaction status codes (ISO 20022 ExternalPaymentTransactionStatus1Code) this bank uses.
ACCEPTED_TECHNICALLY = "ACTC"
SETTLED = "ACSC"
REJECTED = "RJCT"


class Account(SQLModel, table=True):
    """An account the bank knows; an unknown creditor account is taken to be at another bank."""

    __tablename__ = "bank_accounts"

    account_id: str = Field(primary_key=True)   # IBAN, or the domestic account number
    bic: str = ""
    holder_name: str = ""
    closed: bool = False


class PaymentMessage(SQLModel, table=True):
    """One accepted pain.001 file, keyed by its GrpHdr/MsgId."""

    __tablename__ = "bank_payment_messages"

    msg_id: str = Field(primary_key=True)
    message_name: str                 # e.g. pain.001.001.09, quoted back as OrgnlMsgNmId
    created_at: str                   # GrpHdr/CreDtTm as sent
    nb_of_txs: int
    ctrl_sum: str | None = None
    initiating_party: str = ""
    received_at: float
    document: bytes                   # the XML as received, for audit


class PaymentTransaction(SQLModel, table=True):
    """One CdtTrfTxInf and where it stands."""

    __tablename__ = "bank_payment_transactions"
    __table_args__ = (UniqueConstraint("debtor_account", "end_to_end_id", name="uq_bank_debtor_e2e"),)

    id: int | None = Field(default=None, primary_key=True)
    msg_id: str = Field(foreign_key="bank_payment_messages.msg_id", index=True)
    pmt_inf_id: str
    instr_id: str | None = None
    end_to_end_id: str
    requested_execution_date: str
    debtor_name: str = ""
    debtor_account: str
    debtor_account_is_iban: bool
    debtor_agent_bic: str = ""
    creditor_name: str = ""
    creditor_account: str
    creditor_account_is_iban: bool
    creditor_agent_bic: str | None = None
    amount: str
    currency: str
    remittance_info: str | None = None
    status: str = Field(default=ACCEPTED_TECHNICALLY, index=True)
    reason_code: str | None = None
    accepted_at: float
    decided_at: float | None = None
    booking_date: str | None = None
    bank_reference: str | None = None  # AcctSvcrRef of the booking
    # Webhook ids are fixed when the outcome is decided, so a crash before they reach the
    # outbox re-sends the same messages (the receiver dedupes on webhook-id).
    status_webhook_id: str | None = None
    debit_webhook_id: str | None = None
    notified: bool = Field(default=False, index=True)  # the outcome's webhooks are in the outbox


class WebhookSubscription(SQLModel, table=True):
    """Where status reports and debit notifications go (one subscriber, as for a corporate)."""

    __tablename__ = "bank_webhook_subscription"

    id: int = Field(default=1, primary_key=True)
    endpoint: str


TABLES: list[type[SQLModel]] = [Account, PaymentMessage, PaymentTransaction, WebhookSubscription]
