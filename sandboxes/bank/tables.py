"""The bank's state: accounts, its rates, received pain.001 messages, their blocks and
transactions, the entries booked on the customer's accounts, what the statements start from and
what a test has injected into them, the subscription.

Amounts are stored as decimal strings (never floats). Times that only schedule work are epoch
seconds; business dates are ISO dates. Tables are only ever added (an existing database gets the
new ones on start), never changed, so a sandbox database from before keeps working.
"""

from __future__ import annotations

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

# Transaction status codes (ISO 20022 ExternalPaymentTransactionStatus1Code) this bank uses.
ACCEPTED_TECHNICALLY = "ACTC"
SETTLED = "ACSC"
REJECTED = "RJCT"

# Entry directions on the customer's account (ISO 20022 CreditDebitCode).
DEBIT = "DBIT"
CREDIT = "CRDT"


class Account(SQLModel, table=True):
    """An account the bank knows; an unknown creditor account is taken to be at another bank."""

    __tablename__ = "bank_accounts"

    account_id: str = Field(primary_key=True)   # IBAN, or the domestic account number
    bic: str = ""
    holder_name: str = ""
    closed: bool = False


class CustomerAccount(SQLModel, table=True):
    """One of the customer's (the company's) own accounts: payments leave from it, in its currency."""

    __tablename__ = "bank_customer_accounts"

    account_id: str = Field(primary_key=True)   # IBAN, or the domestic account number
    currency: str
    holder_name: str = ""
    bic: str = ""


class FxRate(SQLModel, table=True):
    """The bank's own conversion rate: units of ``to_currency`` per one ``from_currency``."""

    __tablename__ = "bank_fx_rates"

    id: int | None = Field(default=None, primary_key=True)
    from_currency: str = Field(index=True)
    to_currency: str = Field(index=True)
    rate: str
    effective_date: str


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


class PaymentBlock(SQLModel, table=True):
    """One PmtInf of an accepted file as declared. A file whose every block asks for batch booking
    (BtchBookg true: a payroll's net pay) is reported on as a whole: one pain.002 with the counts
    per status once all of it is decided, not one per transaction."""

    __tablename__ = "bank_payment_blocks"

    id: int | None = Field(default=None, primary_key=True)
    msg_id: str = Field(foreign_key="bank_payment_messages.msg_id", index=True)
    pmt_inf_id: str
    batch_booking: bool | None = None   # BtchBookg as sent; None: not stated
    nb_of_txs: int | None = None
    ctrl_sum: str | None = None


class GroupReport(SQLModel, table=True):
    """A file reported on as a whole, all of its transactions decided: its one pain.002 (counts
    per status, no transaction listed) to be sent, like FileRejection's."""

    __tablename__ = "bank_group_reports"

    msg_id: str = Field(primary_key=True, foreign_key="bank_payment_messages.msg_id")
    decided_at: float
    webhook_id: str                   # fixed when decided, like PaymentTransaction.status_webhook_id
    notified: bool = Field(default=False, index=True)


class FileRejection(SQLModel, table=True):
    """A pain.001 rejected as a whole (every transaction RJCT): reported by one group-level
    pain.002 (GrpSts RJCT) with no word per transaction."""

    __tablename__ = "bank_file_rejections"

    msg_id: str = Field(primary_key=True, foreign_key="bank_payment_messages.msg_id")
    reason_code: str
    reason_info: str
    decided_at: float
    webhook_id: str                   # fixed when decided, like PaymentTransaction.status_webhook_id
    notified: bool = Field(default=False, index=True)


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
    # The webhook id is fixed when the outcome is decided, so a crash before it reaches the
    # outbox re-sends the same message (the receiver dedupes on webhook-id).
    status_webhook_id: str | None = None
    notified: bool = Field(default=False, index=True)  # the status report's webhook is in the outbox


class AccountEntry(SQLModel, table=True):
    """A booking on the debtor's account, notified as one camt.054 entry: a settled payment's
    debit, or the credit of its return. Amounts are in the account's currency."""

    __tablename__ = "bank_account_entries"
    # A payment is debited once and returned at most once.
    __table_args__ = (UniqueConstraint("transaction_id", "direction", name="uq_bank_entry_direction"),)

    id: int | None = Field(default=None, primary_key=True)
    transaction_id: int = Field(foreign_key="bank_payment_transactions.id", index=True)
    direction: str                     # DEBIT or CREDIT
    amount: str
    currency: str
    exchange_rate: str | None = None   # account-currency units per instructed unit, when converted
    booking_date: str
    bank_reference: str                # AcctSvcrRef of the booking
    return_reason: str | None = None   # ISO return reason code, on a return's credit
    webhook_id: str                    # fixed at booking, like status_webhook_id
    notified: bool = Field(default=False, index=True)


class StatementAccount(SQLModel, table=True):
    """Where the statements of one of the customer's accounts start: the first statement's day,
    and the booked balance before it (signed: negative is an overdraft)."""

    __tablename__ = "bank_statement_accounts"

    account_id: str = Field(primary_key=True)
    first_statement_day: str           # ISO date; ElctrncSeqNb 1
    opening_balance: str


class LeftOutEntry(SQLModel, table=True):
    """A booking the bank leaves out (a test's injection): it is on no statement, and in no
    balance, as if it had never been booked; deleting the row puts it back."""

    __tablename__ = "bank_statement_left_out"

    entry_id: int = Field(primary_key=True, foreign_key="bank_account_entries.id")


class ExtraBooking(SQLModel, table=True):
    """A booking the customer never instructed (a test's injection): a bank charge, an incoming
    credit. It is on the statement of its day and in the balances from then on."""

    __tablename__ = "bank_extra_bookings"

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(index=True)
    booking_date: str = Field(index=True)
    direction: str                     # DEBIT or CREDIT
    amount: str
    currency: str                      # the account's
    bank_reference: str
    bank_transaction_code: str         # Domain/Family/SubFamily, e.g. ACMT/MDOP/CHRG for a charge
    description: str
    counterparty_name: str | None = None
    end_to_end_id: str | None = None   # the payer's reference on an incoming credit


class WebhookSubscription(SQLModel, table=True):
    """Where status reports and debit notifications go (one subscriber, as for a corporate)."""

    __tablename__ = "bank_webhook_subscription"

    id: int = Field(default=1, primary_key=True)
    endpoint: str


TABLES: list[type[SQLModel]] = [Account, CustomerAccount, FxRate, PaymentMessage, PaymentBlock, GroupReport, FileRejection,
                                PaymentTransaction, AccountEntry, StatementAccount, LeftOutEntry, ExtraBooking,
                                WebhookSubscription]
