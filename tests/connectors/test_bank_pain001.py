"""The pain.001 finsync builds: a single payment's file exactly as before batches existed, and a
payment run's file with its counts and sums per PmtInf and in total."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sepaxml
from lxml import etree

from canonical import BankAccount, CreditTransfer, Money, PaymentBatch, PaymentGroup, PaymentInstruction
from connectors.bank import build_batch_pain001, build_pain001

FIXTURES = Path(__file__).parent / "fixtures"
PAIN001_XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.09.xsd"
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


def transfer(e2e: str, amount: str, currency: str = "EUR", creditor: BankAccount = KATRIN) -> CreditTransfer:
    return CreditTransfer(end_to_end_id=e2e, creditor=creditor, amount=Money.of(amount, currency),
                          remittance_info=f"Invoice {e2e}")


RUN = PaymentBatch(message_id="FSB-RUN1-DE01", debtor_entity="DE01", debtor_name=DE_DEBTOR.holder_name,
                   debtor_account=DE_DEBTOR, groups=[
    PaymentGroup(payment_info_id="FSP-RUN1-EUR-MON", currency="EUR", requested_execution_date=date(2026, 11, 23),
                 transactions=[transfer("E1", "100.00"), transfer("E2", "0.75"), transfer("E3", "2500.10")]),
    PaymentGroup(payment_info_id="FSP-RUN1-EUR-TUE", currency="EUR", requested_execution_date=date(2026, 11, 24),
                 transactions=[transfer("E4", "50.25"), transfer("E5", "9.00", creditor=MAYA)]),
    PaymentGroup(payment_info_id="FSP-RUN1-USD-MON", currency="USD", requested_execution_date=date(2026, 11, 23),
                 transactions=[transfer("E6", "87.50", "USD", creditor=MAYA)]),
])


def path(local_path: str) -> str:
    return "/".join(f"{{*}}{part}" for part in local_path.split("/"))


def test_a_payment_runs_file_validates_with_counts_and_sums_per_block_and_in_total() -> None:
    document = etree.fromstring(build_batch_pain001(RUN, created_at=CREATED_AT))
    schema = etree.XMLSchema(etree.parse(str(PAIN001_XSD)))
    assert schema.validate(document), schema.error_log

    header = document.find(path("CstmrCdtTrfInitn/GrpHdr"))
    assert [header.findtext(path(tag)) for tag in ("MsgId", "NbOfTxs", "CtrlSum")] == ["FSB-RUN1-DE01", "6", "2747.60"]
    blocks = document.findall(path("CstmrCdtTrfInitn/PmtInf"))
    assert [[block.findtext(path(tag)) for tag in ("PmtInfId", "BtchBookg", "NbOfTxs", "CtrlSum", "ReqdExctnDt/Dt",
                                                   "PmtTpInf/SvcLvl/Cd", "DbtrAcct/Id/IBAN")]
            for block in blocks] == [
        ["FSP-RUN1-EUR-MON", "false", "3", "2600.85", "2026-11-23", "SEPA", "DE02120300000000202051"],
        # A creditor without an IBAN cannot be paid by SEPA: the block does not claim it.
        ["FSP-RUN1-EUR-TUE", "false", "2", "59.25", "2026-11-24", None, "DE02120300000000202051"],
        ["FSP-RUN1-USD-MON", None, "1", "87.50", "2026-11-23", None, "DE02120300000000202051"],
    ]
    transactions = [[(tx.findtext(path("PmtId/EndToEndId")), tx.findtext(path("Amt/InstdAmt")),
                      tx.find(path("Amt/InstdAmt")).get("Ccy")) for tx in block.findall(path("CdtTrfTxInf"))]
                    for block in blocks]
    assert transactions == [[("E1", "100.00", "EUR"), ("E2", "0.75", "EUR"), ("E3", "2500.10", "EUR")],
                            [("E4", "50.25", "EUR"), ("E5", "9.00", "EUR")], [("E6", "87.50", "USD")]]
