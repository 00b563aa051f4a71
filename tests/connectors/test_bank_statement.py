"""The bank connector's camt.053 statements: read from the real bank sandbox over HTTP and
reconciled, and read from statements of other versions and shapes than the sandbox's."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from canonical import BankAccount, CreditTransfer, Money, PaymentBatch, PaymentGroup
from canonical.bank_reconciliation import ExpectedBatch, ExpectedBookings, MatchedBy, reconcile_statement
from canonical.statement import CreditDebit
from connectors.bank import BankClient, build_batch_pain001, parse_statements
from connectors.errors import NotFoundError, VendorRejectedError
from finsync.config import BankVendorSettings
from sandboxes.bank import create_app
from tests.support.servers import serve

DE_DEBTOR = BankAccount(holder_name="Finsync Demo GmbH", iban="DE02120300000000202051", bic="BYLADEM1001")
US_DEBTOR_ACCOUNT = "000123456789"
KATRIN = BankAccount(holder_name="Katrin Vogel", iban="DE75512108001245126199", bic="COBADEFFXXX")
SOPHIE_CLOSED = BankAccount(holder_name="Sophie Schulz", iban="DE44500105175407324931", bic="DEUTDEFFXXX")
ELSEWHERE = BankAccount(holder_name="Jonas Weber", iban="DE89370400440532013000", bic="COBADEFFXXX")
OPENING_EUR = Money.of("150000000.00", "EUR")   # the seed's opening balance of the EUR account


@asynccontextmanager
async def bank(tmp_path: Path) -> AsyncIterator[tuple[BankClient, httpx.AsyncClient]]:
    """The connector configured through settings, and a plain client for the sandbox's routes."""
    async with serve(create_app(tmp_path / "bank.db", settle_after_seconds=0.1)) as url:
        client = BankClient.from_settings(BankVendorSettings(base_url=url))
        async with httpx.AsyncClient(base_url=url) as plain:
            token = await plain.post("/oauth/token", data={"grant_type": "client_credentials"},
                                     auth=("finsync", "sandbox-secret"))
            plain.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            try:
                yield client, plain
            finally:
                await client.aclose()


def net_pay() -> tuple[PaymentBatch, PaymentGroup]:
    group = PaymentGroup(payment_info_id="NETPAY-DE01", currency="EUR", requested_execution_date=date(2026, 11, 30),
                         transactions=[CreditTransfer(end_to_end_id=e2e, creditor=creditor, amount=Money.of(amount, "EUR"))
                                       for e2e, creditor, amount in (("NP-1", KATRIN, "2500.00"),
                                                                     ("NP-2", SOPHIE_CLOSED, "3100.50"),
                                                                     ("NP-3", ELSEWHERE, "1999.99"))])
    batch = PaymentBatch(message_id="PAYROLL-DE01", debtor_entity="DE01", debtor_name=DE_DEBTOR.holder_name,
                         debtor_account=DE_DEBTOR, groups=[group])
    return batch, group


async def decided(client: BankClient, message_id: str, end_to_end_ids: list[str]) -> dict[str, date | None]:
    """Each transaction's booking date (None: rejected) once the bank has decided them all."""
    deadline = time.monotonic() + 10
    while True:
        reports = [await client.payment_status(message_id, e2e) for e2e in end_to_end_ids]
        if all(report.state.decided for report in reports):
            return {report.end_to_end_id: report.booking_date for report in reports}
        assert time.monotonic() < deadline, reports
        await asyncio.sleep(0.1)


async def test_a_statement_read_from_the_bank_reconciles_the_batch_it_booked(tmp_path: Path) -> None:
    batch, group = net_pay()
    # The payroll file asks the bank to book the block as one entry.
    document = build_batch_pain001(batch).replace(b"<BtchBookg>false</BtchBookg>", b"<BtchBookg>true</BtchBookg>")
    async with bank(tmp_path) as (client, plain):
        sent = await plain.post("/v1/payments", content=document, headers={"Content-Type": "application/xml"})
        assert sent.status_code == 202, sent.text
        day = (await decided(client, batch.message_id, ["NP-1", "NP-2", "NP-3"]))["NP-1"]
        assert day is not None
        fee = await plain.post("/_sandbox/statements/extra-bookings", json={
            "account": DE_DEBTOR.iban, "creditDebit": "DBIT", "amount": "15.00", "bookingDate": day.isoformat()})
        assert fee.status_code == 201, fee.text
        statement = await client.statement(DE_DEBTOR.account_id, day)
        us_statement = await client.statement(US_DEBTOR_ACCOUNT, day)
        with pytest.raises(NotFoundError, match="no statement of account DE89"):
            await client.statement(ELSEWHERE.account_id, day)

    assert (statement.account_id, statement.currency, statement.opening_balance) == (
        DE_DEBTOR.iban, "EUR", OPENING_EUR)
    assert statement.closing_balance == OPENING_EUR - Money.of("4514.99", "EUR")   # 2500.00 + 1999.99 + the 15.00 fee
    assert statement.period_start is not None and statement.period_start.date() == day
    booked, charge = statement.entries
    assert booked.batch is not None
    assert (booked.batch.message_id, booked.batch.payment_info_id, booked.batch.count, booked.batch.total) == (
        "PAYROLL-DE01", "NETPAY-DE01", 2, Money.of("4499.99", "EUR"))
    assert [(tx.end_to_end_id, tx.amount, tx.payment_info_id) for tx in booked.transactions] == [
        ("NP-1", Money.of("2500.00", "EUR"), "NETPAY-DE01"), ("NP-3", Money.of("1999.99", "EUR"), "NETPAY-DE01")]
    assert (charge.direction, charge.amount, charge.bank_transaction_code) == (
        CreditDebit.DEBIT, Money.of("15.00", "EUR"), "ACMT/MDOP/CHRG")
    assert (us_statement.account_id, us_statement.currency, us_statement.entries) == (US_DEBTOR_ACCOUNT, "USD", [])

    # NP-2 went to a closed account (AC04): finsync expects the other two to settle.
    result = reconcile_statement(statement, ExpectedBookings(account_id=DE_DEBTOR.account_id, batches=[
        ExpectedBatch.of_group(batch, group, rejected={"NP-2"})]))
    assert result.balance.ok and result.missing == [] and result.amount_mismatches == []
    assert [(b.matched_by, b.matched_count) for b in result.batches] == [(MatchedBy.END_TO_END_ID, 2)]
    assert [(u.amount, u.bank_transaction_code) for u in result.unknown] == [(Money.of("15.00", "EUR"), "ACMT/MDOP/CHRG")]


# A statement as an older bank format writes it: camt.053.001.02, the entry status without Cd, a
# closing balance overdrawn, an opening given as PRCD, a single payment without Btch whose
# transaction states no amount of its own, and a return with a proprietary reason.
OLDER_STATEMENT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
 <GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-30T18:00:00</CreDtTm></GrpHdr>
 <Stmt><Id>S-17</Id><ElctrncSeqNb>17</ElctrncSeqNb>
  <Acct><Id><IBAN>DE02 1203 0000 0000 2020 51</IBAN></Id><Ccy>EUR</Ccy></Acct>
  <Bal><Tp><CdOrPrtry><Cd>PRCD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
   <Dt><Dt>2026-11-29</Dt></Dt></Bal>
  <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">20.50</Amt><CdtDbtInd>DBIT</CdtDbtInd>
   <Dt><Dt>2026-11-30</Dt></Dt></Bal>
  <TxsSummry><TtlNtries><NbOfNtries>99</NbOfNtries></TtlNtries></TxsSummry>
  <Ntry><Amt Ccy="EUR">150.50</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-11-30</Dt></BookgDt>
   <AcctSvcrRef>R-1</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
   <NtryDtls><TxDtls><Refs><MsgId>PAY-1</MsgId><EndToEndId>E2E-1</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>
  <Ntry><Amt Ccy="EUR">30.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-11-30</Dt></BookgDt>
   <AcctSvcrRef>R-2</AcctSvcrRef><BkTxCd><Prtry><Cd>RET</Cd></Prtry></BkTxCd>
   <NtryDtls><TxDtls><Refs><EndToEndId>E2E-0</EndToEndId></Refs><RtrInf><Rsn><Prtry>CLOSED</Prtry></Rsn></RtrInf></TxDtls>
   </NtryDtls></Ntry>
 </Stmt></BkToCstmrStmt></Document>"""


def test_an_older_statement_reads_alike_and_nothing_is_taken_from_its_summary() -> None:
    (statement,) = parse_statements(OLDER_STATEMENT)

    assert (statement.statement_id, statement.sequence_number, statement.account_id) == (
        "S-17", 17, "DE02120300000000202051")
    assert statement.opening_balance == Money.of("100.00", "EUR")
    assert statement.closing_balance == Money.of("-20.50", "EUR")   # overdrawn
    assert statement.created_at is not None and statement.created_at.tzinfo is not None
    payment, returned = statement.entries
    assert (payment.status, payment.booked, payment.bank_transaction_code, payment.batch) == (
        "BOOK", True, "PMNT/ICDT/ESCT", None)
    assert [(tx.end_to_end_id, tx.amount) for tx in payment.transactions] == [("E2E-1", Money.of("150.50", "EUR"))]
    assert (returned.direction, returned.bank_transaction_code, returned.transactions[0].return_reason) == (
        CreditDebit.CREDIT, "RET", "CLOSED")
    assert statement.credits() == Money.of("30.00", "EUR") and statement.debits() == Money.of("150.50", "EUR")
    assert statement.opening_balance + statement.credits() - statement.debits() == statement.closing_balance


@pytest.mark.parametrize(("document", "words"), [
    ("<Document><BkToCstmrStmt><Stmt>", "not well-formed"),
    ("<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.054.001.08'><BkToCstmrDbtCdtNtfctn/></Document>",
     "must be Document/BkToCstmrStmt"),
    (OLDER_STATEMENT.replace("<Cd>CLBD</Cd>", "<Cd>OTHR</Cd>"), "closing (CLBD)"),
    (OLDER_STATEMENT.replace('<Amt Ccy="EUR">30.00</Amt>', '<Amt Ccy="USD">30.00</Amt>'), "in USD"),
    (OLDER_STATEMENT.replace("<EndToEndId>E2E-1</EndToEndId>", f"<EndToEndId>{'E' * 36}</EndToEndId>"), "Max35Text"),
    (OLDER_STATEMENT.replace("<CdtDbtInd>CRDT</CdtDbtInd><Sts>", "<CdtDbtInd>UP</CdtDbtInd><Sts>"), "CdtDbtInd 'UP'"),
], ids=["truncated", "not-a-statement", "no-closing-balance", "entry-in-another-currency", "id-too-long",
        "unknown-direction"])
def test_a_statement_finsync_cannot_trust_is_refused_saying_why(document: str, words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        parse_statements(document)


async def test_an_unreadable_statement_is_a_business_problem_for_finance(tmp_path: Path) -> None:
    app = httpx.MockTransport(lambda request: httpx.Response(
        200, content=b"<Document><BkToCstmrStmt><Stmt>", headers={"Content-Type": "application/xml"})
        if request.url.path.startswith("/v1/") else
        httpx.Response(200, json={"access_token": "t", "expires_in": 3600}))
    client = BankClient("https://bank.example", client_id="finsync", client_secret="s", transport=app)
    try:
        with pytest.raises(VendorRejectedError) as refused:
            await client.statement(DE_DEBTOR.account_id, date(2026, 11, 30))
    finally:
        await client.aclose()
    problem = refused.value.problem
    assert (problem.code, problem.system, problem.subject) == ("BANK_STATEMENT_UNREADABLE", "bank", DE_DEBTOR.iban)
    assert "cannot be read (camt.053 is not well-formed XML" in problem.reason


def test_the_reconciliation_of_a_parsed_statement_recomputes_its_totals() -> None:
    (statement,) = parse_statements(OLDER_STATEMENT)
    result = reconcile_statement(statement, ExpectedBookings(account_id="DE02120300000000202051"))

    assert result.balance.computed_closing == Money.of("-20.50", "EUR") and result.balance.ok
    assert sorted(u.amount.amount for u in result.unknown) == [Decimal("150.50")]   # no payment was expected
    assert [(r.end_to_end_id, r.reason_code) for r in result.returns] == [("E2E-0", "CLOSED")]
