"""The pain.001 finsync builds: a single payment's file exactly as before batches existed, and a
payment run's file with its counts and sums per PmtInf and in total."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from canonical import BankAccount, Money, PaymentInstruction
from connectors.bank import build_pain001

FIXTURES = Path(__file__).parent / "fixtures"
CREATED_AT = datetime(2026, 11, 23, 9, 30, 15, tzinfo=UTC)

DE_DEBTOR = BankAccount(holder_name="Finsync Demo GmbH", iban="DE02120300000000202051", bic="BYLADEM1001")
US_DEBTOR = BankAccount(holder_name="Finsync Demo Inc.", account_number="000123456789", bic="CHASUS33XXX")
KATRIN = BankAccount(holder_name="Katrin Vogel", iban="DE75512108001245126199", bic="COBADEFFXXX")
MAYA = BankAccount(holder_name="Maya Patel", account_number="100000000001", bic="CHASUS33XXX")

# Captured from the builder before it learned batches: the expense process's files must not change.
SINGLE_PAYMENTS = {
    "single-eur-sepa": PaymentInstruction(
        message_id="FSM-R1234-G1P1", end_to_end_id="FSE-R1234-G1P1", debtor_entity="DE01",
        debtor_name=DE_DEBTOR.holder_name, debtor_account=DE_DEBTOR, creditor=KATRIN,
        amount=Money.of("123.40", "EUR"), requested_execution_date=date(2026, 11, 23),
        remittance_info="Expense report R1234 Client dinner"),
    "single-usd-no-remittance": PaymentInstruction(
        message_id="FSM-R77-G1P2", end_to_end_id="FSE-R77-G1P2", debtor_entity="US01",
        debtor_name=US_DEBTOR.holder_name, debtor_account=US_DEBTOR, creditor=MAYA,
        amount=Money.of("87.5", "USD"), requested_execution_date=date(2026, 11, 24)),
}


@pytest.mark.parametrize("name", sorted(SINGLE_PAYMENTS))
def test_a_single_payments_file_is_byte_identical_to_before(name: str) -> None:
    expected = (FIXTURES / f"pain001-{name}.xml").read_bytes()
    assert build_pain001(SINGLE_PAYMENTS[name], created_at=CREATED_AT) == expected
