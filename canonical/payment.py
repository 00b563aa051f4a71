"""Payment instructions to a bank and the status reports that come back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from canonical.money import Money
from canonical.parties import BankAccount


class PaymentInstruction(BaseModel):
    """One credit transfer. ``message_id`` and ``end_to_end_id`` are the bank's idempotency keys."""

    model_config = ConfigDict(frozen=True)

    message_id: str = Field(max_length=35)      # pain.001 GrpHdr/MsgId: unique per file
    end_to_end_id: str = Field(max_length=35)   # travels to the creditor and back in pain.002/camt.054
    debtor_entity: str
    debtor_name: str
    debtor_account: BankAccount
    creditor: BankAccount
    amount: Money
    requested_execution_date: date
    remittance_info: str = Field(default="", max_length=140)


class PaymentState(StrEnum):
    PENDING = "PENDING"        # RCVD, ACTC, PDNG: the bank has it, nothing decided
    ACCEPTED = "ACCEPTED"      # ACCP, ACSP: will be executed
    SETTLED = "SETTLED"        # ACSC, ACCC, camt.054 DBIT BOOK: money left the account
    REJECTED = "REJECTED"      # RJCT
    RETURNED = "RETURNED"      # settled, then sent back by the creditor's bank (camt.054 return, late RJCT)
    UNKNOWN = "UNKNOWN"        # the bank has never seen this instruction

    @property
    def decided(self) -> bool:
        """The bank's last word on the transaction: later reports never change it."""
        return self in (PaymentState.SETTLED, PaymentState.REJECTED, PaymentState.RETURNED)


class PaymentStatusReport(BaseModel):
    """A bank's word on one transaction (from pain.002, camt.054 or a status lookup)."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    end_to_end_id: str
    state: PaymentState
    bank_status_code: str = ""       # ISO code as sent: ACSC, RJCT, BOOK, ...
    reason_code: str | None = None   # ISO external reason code, e.g. AC04
    reason_text: str | None = None
    amount: Money | None = None      # the instructed amount
    debited: Money | None = None     # what left the debtor account, in its currency (camt.054, lookup)
    exchange_rate: Decimal | None = None   # units of the debited currency per instructed unit, if converted
    booking_date: date | None = None
    bank_reference: str | None = None
    source: str = ""                 # "pain.002", "camt.054", "lookup"
    received_at: AwareDatetime | None = None


# Finance-readable meaning of the ISO 20022 reason codes finsync meets most.
REASON_TEXT = {
    "AC01": "the beneficiary account number is wrong",
    "AC04": "the beneficiary account is closed",
    "AC06": "the beneficiary account is blocked",
    "AM04": "insufficient funds on the debtor account",
    "AM05": "duplicate payment",
    "BE04": "the creditor address is missing or wrong",
    "MS03": "the bank rejected it for an unspecified reason",
    "RC01": "the BIC is wrong",
}


def reason_text(code: str | None) -> str:
    if not code:
        return "no reason given"
    return REASON_TEXT.get(code, f"reason code {code}")
