"""ISO 20022 transaction status codes -> finsync's PaymentState."""

from __future__ import annotations

from canonical.payment import PaymentState

_STATES = {
    "RCVD": PaymentState.PENDING,    # received
    "ACTC": PaymentState.PENDING,    # technically valid, nothing decided
    "PDNG": PaymentState.PENDING,    # pending further checks
    "ACCP": PaymentState.ACCEPTED,   # customer profile checks passed
    "ACSP": PaymentState.ACCEPTED,   # settlement in process
    "ACWC": PaymentState.ACCEPTED,   # accepted with change (e.g. execution date)
    "ACSC": PaymentState.SETTLED,    # debtor's account debited
    "ACCC": PaymentState.SETTLED,    # creditor's account credited
    "RJCT": PaymentState.REJECTED,
}


def payment_state(code: str) -> PaymentState:
    """Unknown codes count as PENDING: finsync keeps waiting for a code it understands rather
    than declaring money paid or lost on a guess."""
    return _STATES.get(code.strip().upper(), PaymentState.PENDING)
