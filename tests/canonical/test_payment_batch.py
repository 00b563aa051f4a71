"""A payment run as files: grouped by debtor account, currency and execution date, with ids that
never change for the same run, and refusing what a bank would refuse."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from canonical import (
    BankAccount,
    BatchSubmission,
    CreditTransfer,
    Money,
    PaymentBatch,
    PaymentGroup,
    PaymentInstruction,
    PaymentOrder,
    payment_run_batches,
)

DE_EUR = BankAccount(holder_name="Finsync Demo GmbH", iban="DE02120300000000202051", bic="BYLADEM1001")
US_USD = BankAccount(holder_name="Finsync Demo Inc.", account_number="000123456789", bic="CHASUS33XXX")
KATRIN = BankAccount(holder_name="Katrin Vogel", iban="DE75512108001245126199", bic="COBADEFFXXX")
MONDAY, TUESDAY = date(2026, 11, 23), date(2026, 11, 24)


def transfer(e2e: str, amount: str, currency: str = "EUR") -> CreditTransfer:
    return CreditTransfer(end_to_end_id=e2e, creditor=KATRIN, amount=Money.of(amount, currency),
                          remittance_info=f"Invoice {e2e}")


def order(e2e: str, amount: str, currency: str = "EUR", *, day: date = MONDAY, entity: str = "DE01",
          debtor: BankAccount = DE_EUR) -> PaymentOrder:
    return PaymentOrder(debtor_entity=entity, debtor_name=debtor.holder_name, debtor_account=debtor,
                        requested_execution_date=day, transfer=transfer(e2e, amount, currency))


RUN = [
    order("E1", "100.00"), order("E2", "50.25", day=TUESDAY), order("E3", "12500", "JPY"),
    order("E4", "0.75"), order("E5", "999.99", "USD", entity="US01", debtor=US_USD),
]


def test_a_run_is_one_file_per_debtor_account_and_one_block_per_currency_and_day() -> None:
    de, us = payment_run_batches("RUN-2026-11-23", RUN)

    assert (de.debtor_entity, de.debtor_account, us.debtor_entity, us.debtor_account) == ("DE01", DE_EUR, "US01", US_USD)
    assert [(g.currency, g.requested_execution_date, [tx.end_to_end_id for tx in g.transactions]) for g in de.groups] == [
        ("EUR", MONDAY, ["E1", "E4"]), ("EUR", TUESDAY, ["E2"]), ("JPY", MONDAY, ["E3"])]
    assert [(g.count, g.control_sum) for g in de.groups] == [(2, Decimal("100.75")), (1, Decimal("50.25")),
                                                            (1, Decimal("12500"))]
    assert (de.count, de.control_sum) == (4, Decimal("12651.00"))   # CtrlSum adds amounts whatever the currency
    assert (us.count, us.control_sum) == (1, Decimal("999.99"))


def test_the_same_run_always_yields_the_same_ids_all_iso20022_sized() -> None:
    first, again = payment_run_batches("RUN-2026-11-23", RUN), payment_run_batches("RUN-2026-11-23", RUN)
    other_run = payment_run_batches("RUN-2026-11-24", RUN)

    assert first == again
    ids = [b.message_id for b in first] + [g.payment_info_id for b in first for g in b.groups]
    assert len(set(ids)) == len(ids) and all(0 < len(one) <= 35 and " " not in one for one in ids)
    assert {b.message_id for b in first}.isdisjoint(b.message_id for b in other_run)
    assert first[1].message_id == "FSB-RUN20261123-US01000123456789"   # readable where it fits
    assert first[0].groups[0].payment_info_id.startswith("FSP-")


def test_orders_from_one_account_must_agree_on_its_holder() -> None:
    renamed = order("E9", "1.00").model_copy(update={"debtor_name": "Someone Else GmbH"})
    with pytest.raises(ValueError, match="disagree"):
        payment_run_batches("RUN", [order("E1", "1.00"), renamed])


def test_an_empty_run_is_refused() -> None:
    with pytest.raises(ValueError, match="no orders"):
        payment_run_batches("RUN", [])


def group(*transactions: CreditTransfer, currency: str = "EUR", payment_info_id: str = "P1") -> PaymentGroup:
    return PaymentGroup(payment_info_id=payment_info_id, currency=currency, requested_execution_date=MONDAY,
                        transactions=list(transactions))


def batch(*groups: PaymentGroup) -> PaymentBatch:
    return PaymentBatch(message_id="M1", debtor_entity="DE01", debtor_name=DE_EUR.holder_name,
                        debtor_account=DE_EUR, groups=list(groups))


@pytest.mark.parametrize("build, words", [
    (lambda: batch(), "at least 1 item"),
    (lambda: batch(group()), "at least 1 item"),
    (lambda: batch(group(transfer("E1", "1.00"), transfer("E1", "2.00"))), "EndToEndId E1 appears more than once"),
    (lambda: batch(group(transfer("E1", "1.00")), group(transfer("E1", "2.00"), payment_info_id="P2")),
     "EndToEndId E1 appears more than once"),
    (lambda: batch(group(transfer("E1", "1.00")), group(transfer("E2", "2.00"))), "PmtInfId P1 appears more than once"),
    (lambda: group(transfer("E1", "1.00", "USD")), "pays USD in the EUR block P1"),
    (lambda: transfer("E1", "0.00"), "positive amount"),
    (lambda: transfer("E1", "-5.00"), "positive amount"),
], ids=["empty-batch", "empty-group", "repeated-e2e", "repeated-e2e-across-groups", "repeated-pmtinfid",
        "other-currency", "zero-amount", "negative-amount"])
def test_the_model_refuses_what_a_bank_would(build, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        build()


def test_a_single_instruction_is_a_file_of_one_whose_block_is_its_message() -> None:
    single = PaymentInstruction(message_id="FSM-R1-G1P1", end_to_end_id="FSE-R1-G1P1", debtor_entity="DE01",
                                debtor_name=DE_EUR.holder_name, debtor_account=DE_EUR, creditor=KATRIN,
                                amount=Money.of("86.40", "EUR"), requested_execution_date=MONDAY, remittance_info="R1")
    one = PaymentBatch.of_instruction(single)
    ((only_group, only_tx),) = list(one.transfers())
    assert (one.message_id, only_group.payment_info_id, only_tx.end_to_end_id) == ("FSM-R1-G1P1", "FSM-R1-G1P1",
                                                                                   "FSE-R1-G1P1")
    assert (one.count, one.control_sum, only_tx.amount, only_tx.remittance_info) == (
        1, Decimal("86.40"), single.amount, "R1")


def test_a_submission_names_owners_only_of_its_own_transfers() -> None:
    (de, _us) = payment_run_batches("RUN", RUN)
    assert BatchSubmission(batch=de, owners={"E1": "requisition-R1"}).owners == {"E1": "requisition-R1"}
    with pytest.raises(ValidationError, match="not in file .*: E5"):
        BatchSubmission(batch=de, owners={"E1": "requisition-R1", "E5": "requisition-R5"})   # E5 pays from US01
