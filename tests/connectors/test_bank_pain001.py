"""The pain.001 finsync builds: a single payment's file exactly as before batches existed, a
payment run's file with its counts and sums per PmtInf and in total, and a payroll's net pay
streamed into a file from an iterator, in the same layout."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sepaxml
from lxml import etree

from canonical import (
    BankAccount,
    BulkPaymentFile,
    CreditTransfer,
    Money,
    PaymentBatch,
    PaymentFileTotals,
    PaymentGroup,
    PaymentInstruction,
)
from connectors.bank import InvalidPaymentFile, build_batch_pain001, build_pain001, validate_pain001, write_bulk_pain001

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


PAYROLL = BulkPaymentFile(message_id="FSN-PAY2611-DE01", payment_info_id="FSN-PAY2611-DE01-EUR", debtor_entity="DE01",
                          debtor_name=DE_DEBTOR.holder_name, debtor_account=DE_DEBTOR, currency="EUR",
                          requested_execution_date=date(2026, 11, 27), service_level="SEPA")


def net_pay(count: int) -> Iterator[CreditTransfer]:
    """``count`` employees' net pay, generated one at a time as a store cursor would hand them out."""
    for n in range(1, count + 1):
        yield CreditTransfer(end_to_end_id=f"FSN-{n:06d}", amount=Money.of(f"{1000 + n}.{n % 100:02d}", "EUR"),
                             creditor=KATRIN.model_copy(update={"holder_name": f"Employee {n}"}),
                             remittance_info="Net pay November 2026")


def test_a_streamed_payroll_file_validates_with_its_counts_and_sums_ahead_of_its_transactions(tmp_path: Path) -> None:
    target = tmp_path / "net-pay.xml"
    totals = write_bulk_pain001(target, PAYROLL, net_pay(300), created_at=CREATED_AT)
    validate_pain001(target)

    expected_sum = sum((tx.amount.amount for tx in net_pay(300)), Decimal(0))
    assert totals == PaymentFileTotals(message_id="FSN-PAY2611-DE01", count=300, control_sum=expected_sum)
    document = etree.parse(str(target)).getroot()
    assert etree.XMLSchema(etree.parse(str(PAIN001_XSD))).validate(document)
    header = document.find(path("CstmrCdtTrfInitn/GrpHdr"))
    assert [header.findtext(path(tag)) for tag in ("MsgId", "NbOfTxs", "CtrlSum", "InitgPty/Nm")] == [
        "FSN-PAY2611-DE01", "300", str(expected_sum), "Finsync Demo GmbH"]
    (block,) = document.findall(path("CstmrCdtTrfInitn/PmtInf"))
    assert [block.findtext(path(tag)) for tag in ("PmtInfId", "BtchBookg", "NbOfTxs", "CtrlSum", "PmtTpInf/SvcLvl/Cd",
                                                  "ReqdExctnDt/Dt", "DbtrAcct/Id/IBAN", "DbtrAgt/FinInstnId/BICFI")] == [
        "FSN-PAY2611-DE01-EUR", "true", "300", str(expected_sum), "SEPA", "2026-11-27", DE_DEBTOR.iban, DE_DEBTOR.bic]
    assert [(tx.findtext(path("PmtId/EndToEndId")), tx.findtext(path("Amt/InstdAmt")), tx.findtext(path("Cdtr/Nm")))
            for tx in block.findall(path("CdtTrfTxInf"))] == [
        (tx.end_to_end_id, str(tx.amount.amount), tx.creditor.holder_name) for tx in net_pay(300)]


def test_a_streamed_file_has_the_layout_of_a_payment_runs_file() -> None:
    """The same facts give the same bytes whichever way the file is built: one writer, one layout."""
    as_run = PaymentBatch(message_id=PAYROLL.message_id, debtor_entity="DE01", debtor_name=DE_DEBTOR.holder_name,
                          debtor_account=DE_DEBTOR, groups=[PaymentGroup(
                              payment_info_id=PAYROLL.payment_info_id, currency="EUR",
                              requested_execution_date=PAYROLL.requested_execution_date, transactions=list(net_pay(3)))])
    streamed = io.BytesIO()
    write_bulk_pain001(streamed, PAYROLL.model_copy(update={"batch_booking": False}), net_pay(3), created_at=CREATED_AT)
    assert streamed.getvalue() == build_batch_pain001(as_run, created_at=CREATED_AT)


@pytest.mark.parametrize("intruder, complaint", [
    (CreditTransfer(end_to_end_id="FSN-USD", creditor=MAYA, amount=Money.of("10.00", "USD")), "pays USD in the EUR block"),
    (CreditTransfer(end_to_end_id="FSN-NOIBAN", creditor=MAYA, amount=Money.of("10.00", "EUR")), "has no IBAN"),
    (next(net_pay(1)), "FSN-000001 appears more than once"),
], ids=["other-currency", "sepa-without-iban", "end-to-end-id-twice"])
def test_a_transfer_that_does_not_fit_the_file_leaves_no_file_behind(tmp_path: Path, intruder: CreditTransfer,
                                                                      complaint: str) -> None:
    target = tmp_path / "net-pay.xml"
    with pytest.raises(ValueError, match=complaint):
        write_bulk_pain001(target, PAYROLL, itertools.chain(net_pay(5), [intruder]))
    assert list(tmp_path.iterdir()) == []


def test_a_file_without_transfers_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="has no transfers"):
        write_bulk_pain001(tmp_path / "net-pay.xml", PAYROLL, iter([]))
    assert list(tmp_path.iterdir()) == []


def test_validation_names_what_breaks_the_schema(tmp_path: Path) -> None:
    target = tmp_path / "net-pay.xml"
    write_bulk_pain001(target, PAYROLL, net_pay(40))
    target.write_bytes(target.read_bytes().replace(b"<EndToEndId>FSN-000017</EndToEndId>", b"<EndToEndId/>"))
    with pytest.raises(InvalidPaymentFile, match="EndToEndId.*minLength"):
        validate_pain001(target)


@pytest.mark.parametrize("change", [{"currency": "USD"}, {"debtor_account": US_DEBTOR}], ids=["dollars", "no-iban"])
def test_a_sepa_file_pays_euros_from_an_iban(change: dict) -> None:
    with pytest.raises(ValueError, match="SEPA credit transfer pays euros from an IBAN"):
        BulkPaymentFile.model_validate({**PAYROLL.model_dump(), **change})
