"""S4HanaClient against the S/4HANA sandbox over real HTTP: posting exactly once through the
asynchronous service, what a lost answer or a late confirmation does, the reversal by reference
document, the refusals finance reads, and the read-back for reconciliation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest
from pydantic import SecretStr

from canonical import JournalEntry, JournalLine, Money, Side
from connectors import registry
from connectors.errors import AmbiguousWriteError, BusinessRuleError, TransientVendorError, VendorRejectedError
from connectors.interfaces import JournalLedger, LedgerLine
from connectors.s4hana import S4HanaClient
from finsync.config import S4HanaVendorSettings
from sandboxes.s4hana import create_app
from sandboxes.s4hana.odata import CONFIRMATIONS_PATH
from tests.support.s4hana import PASSWORD, TODAY, USER, set_faults, set_processing
from tests.support.servers import serve


@pytest.fixture
async def sandbox(tmp_path) -> AsyncIterator[str]:
    async with serve(create_app(tmp_path / "s4hana.db", today=TODAY, confirmation_delay_seconds=0)) as base_url:
        yield base_url


def client(base_url: str, **settings: object) -> S4HanaClient:
    return registry.build(S4HanaVendorSettings(base_url=base_url, **settings))


@pytest.fixture
async def sap(sandbox) -> AsyncIterator[S4HanaClient]:
    erp = client(sandbox)
    yield erp
    await erp.aclose()


def payroll_journal(external_id: str, *, entity: str = "DE01", currency: str = "EUR",
                    posting_date: date = date(2026, 3, 31), cost_center: str = "CC-4200", account: str = "6500",
                    memo: str = "Payroll March 2026 (DE01, 2 employees)") -> JournalEntry:
    def line(side: Side, number: str, amount: str, center: str | None, text: str) -> JournalLine:
        return JournalLine(side=side, account=number, amount=Money.of(amount, currency), entity=entity,
                           cost_center=center, memo=text)
    return JournalEntry(external_id=external_id, entity=entity, posting_date=posting_date, memo=memo, lines=[
        line(Side.DEBIT, account, "125000.00", cost_center, "Gross wages"),
        line(Side.DEBIT, "6520", "25000.00", cost_center, "Employer social contributions"),
        line(Side.CREDIT, "2250", "100000.00", None, "Net pay payable"),
        line(Side.CREDIT, "2200", "50000.00", None, "Wage tax withheld")])


async def received(base_url: str, reference: str) -> list[dict]:
    """The entries the sandbox received under ``reference``, with what became of each."""
    async with httpx.AsyncClient(base_url=base_url, auth=(USER, PASSWORD)) as http:
        response = await http.get(CONFIRMATIONS_PATH, params={"$filter": f"OriginalReferenceDocument eq '{reference}'"})
    return response.json()["d"]["results"]


async def test_posting_is_idempotent_by_external_id(sap, sandbox):
    entry = payroll_journal("payroll:RUN-7:DE01")
    first = await sap.post_journal(entry)
    again = await sap.post_journal(entry)                      # refused by SAP as a repeated reference
    looked_up = await sap.post_journal(entry, lookup_first=True)
    assert first == again == looked_up
    assert (first.document_number, first.erp_id, first.entity, first.posting_date, first.amount) == (
        "0100000000", "1010/0100000000/2026", "DE01", date(2026, 3, 31), Money.of("150000.00", "EUR"))
    assert [r["Status"] for r in await received(sandbox, "payroll:RUN-7:DE01")] == ["POSTED", "REJECTED"]
    assert len(await sap.journals_by_external_id(["payroll:RUN-7:DE01"])) == 1
    assert await sap.find_journal("payroll:never-posted") is None


async def test_a_lost_answer_is_ambiguous_and_the_retry_reads_back_instead_of_sending_again(sap, sandbox):
    entry = payroll_journal("payroll:RUN-8:DE01")
    await set_faults(sandbox, ambiguous_rate=1.0, path_pattern="journalentrybulkcreationrequest")
    with pytest.raises(AmbiguousWriteError):
        await sap.post_journal(entry)
    assert (await set_faults(sandbox))["injected"] == {"dropped_response": 1}

    posted = await sap.post_journal(entry, lookup_first=True)
    assert posted.document_number == "0100000000"
    assert [r["Status"] for r in await received(sandbox, "payroll:RUN-8:DE01")] == ["POSTED"]   # sent once


async def test_a_confirmation_still_pending_is_transient_and_the_retry_takes_it_once_confirmed(sandbox):
    impatient = client(sandbox, confirmation_wait_seconds=0.3)
    entry = payroll_journal("payroll:RUN-9:DE01")
    try:
        await set_processing(sandbox, held=True)
        with pytest.raises(TransientVendorError) as pending:
            await impatient.post_journal(entry)
        assert not isinstance(pending.value, AmbiguousWriteError) and "not confirmed" in pending.value.message
        with pytest.raises(TransientVendorError):   # still held: the retry waits again, and sends nothing new
            await impatient.post_journal(entry, lookup_first=True)

        await set_processing(sandbox, held=False)
        posted = await client(sandbox).post_journal(entry, lookup_first=True)
        assert posted.document_number == "0100000000"
        assert [r["Status"] for r in await received(sandbox, "payroll:RUN-9:DE01")] == ["POSTED"]
    finally:
        await impatient.aclose()


async def test_a_reversal_references_the_original_and_happens_once(sap, sandbox):
    original = payroll_journal("payroll:RUN-10:DE01")
    posted = await sap.post_journal(original)
    reversal = original.reversal("payroll:RUN-10:DE01:reversal", date(2026, 3, 31), "run reopened")
    reversed_ = await sap.post_journal(reversal)
    assert (reversed_.document_number, reversed_.amount) == ("0100000001", posted.amount)
    assert await sap.post_journal(reversal) == reversed_                      # the same reversal again: the same document
    assert await sap.post_journal(reversal, lookup_first=True) == reversed_

    journals = {j.external_id: j for j in await sap.journals_by_external_id(
        ["payroll:RUN-10:DE01", "payroll:RUN-10:DE01:reversal"])}
    assert [(line.account, line.side) for line in journals["payroll:RUN-10:DE01:reversal"].lines] == [
        (line.account, Side.CREDIT if line.side is Side.DEBIT else Side.DEBIT)
        for line in journals["payroll:RUN-10:DE01"].lines]

    with pytest.raises(BusinessRuleError) as twice:
        await sap.post_journal(original.reversal("payroll:RUN-10:DE01:reversal-2", date(2026, 3, 31), "again"))
    assert twice.value.problem.code == "JOURNAL_ALREADY_REVERSED" and "0100000001" in twice.value.problem.reason
    with pytest.raises(BusinessRuleError) as unknown:
        await sap.post_journal(payroll_journal("payroll:never").reversal("payroll:never:reversal", date(2026, 3, 31), "x"))
    assert unknown.value.problem.code == "REVERSED_JOURNAL_NOT_FOUND"


@pytest.mark.parametrize(("entry", "code", "subject"), [
    (payroll_journal("closed", posting_date=date(2026, 2, 27)), "PERIOD_CLOSED", "2026-02-27"),
    (payroll_journal("unknown-account", account="6999"), "ACCOUNT_UNKNOWN", "6999"),
    (payroll_journal("blocked-account", account="6199"), "ACCOUNT_INACTIVE", "6199"),
    (payroll_journal("unknown-cc", cost_center="CC-0000"), "COST_CENTER_UNKNOWN", "CC-0000"),
    (payroll_journal("us-cc", cost_center="CC-1000"), "COST_CENTER_WRONG_ENTITY", "CC-1000"),
    (payroll_journal("blocked-cc", entity="US01", currency="USD", cost_center="CC-1900"), "COST_CENTER_INACTIVE", "CC-1900"),
], ids=["closed-period", "unknown-account", "blocked-account", "unknown-cost-center", "cost-center-of-other-entity",
        "blocked-cost-center"])
async def test_a_refusal_is_a_business_problem_naming_what_finance_must_fix(sap, entry, code, subject):
    with pytest.raises(BusinessRuleError) as refused:
        await sap.post_journal(entry)
    problem = refused.value.problem
    assert not isinstance(refused.value, VendorRejectedError)
    assert (problem.code, problem.system, problem.subject) == (code, "erp", subject)
    assert "SAP S/4HANA" in problem.reason and "\n" not in problem.reason
    assert await sap.find_journal(entry.external_id) is None


async def test_a_closed_period_names_the_period_and_what_to_do(sap):
    with pytest.raises(BusinessRuleError) as refused:
        await sap.post_journal(payroll_journal("closed-words", posting_date=date(2026, 1, 30)))
    assert refused.value.problem.code == "PERIOD_CLOSED"
    assert "(Jan 2026) is not open" in refused.value.problem.reason
    assert "post with a date in an open period" in refused.value.problem.reason


async def test_an_entity_without_a_company_code_and_an_unbalanced_entry_are_finsyncs_to_fix(sap):
    with pytest.raises(BusinessRuleError) as unmapped:
        await sap.post_journal(payroll_journal("gb", entity="GB01", currency="GBP"))
    assert (unmapped.value.problem.code, unmapped.value.problem.system) == ("ENTITY_UNKNOWN", "finsync")

    balanced = payroll_journal("unbalanced")
    lines = [balanced.lines[0].model_copy(update={"amount": Money.of("125000.01", "EUR")}), *balanced.lines[1:]]
    bypassed = JournalEntry.model_construct(**{**dict(balanced), "lines": lines})   # as only model_construct can
    with pytest.raises(VendorRejectedError) as unbalanced:
        await sap.post_journal(bypassed)
    assert unbalanced.value.problem.code == "UNBALANCED" and "EUR: 0.01" in unbalanced.value.problem.reason


async def test_a_request_sap_cannot_read_is_a_mapping_defect_and_a_server_fault_is_transient(sap, sandbox):
    with pytest.raises(VendorRejectedError) as unreadable:
        await sap.post_journal(payroll_journal("long-cc", cost_center="CC-4200-AND-MORE"))
    assert "CostCenter is longer than 10 characters" in unreadable.value.problem.reason

    await set_faults(sandbox, error_rate=1.0, path_pattern="journalentry")
    with pytest.raises(TransientVendorError) as failed:
        await sap.post_journal(payroll_journal("payroll:RUN-11:DE01"))
    assert not isinstance(failed.value, AmbiguousWriteError)
    await set_faults(sandbox)
    assert await received(sandbox, "payroll:RUN-11:DE01") == []


async def test_journals_read_back_with_their_lines_for_reconciliation(sap):
    await sap.post_journal(payroll_journal("payroll:RUN-12:DE01"))
    await sap.post_journal(payroll_journal("payroll:RUN-12:US01", entity="US01", currency="USD", cost_center="CC-1000"))
    ledger: JournalLedger = sap
    journals = {j.external_id: j for j in await ledger.journals_by_external_id(
        ["payroll:RUN-12:DE01", "payroll:RUN-12:US01", "payroll:RUN-12:GB01"])}
    assert set(journals) == {"payroll:RUN-12:DE01", "payroll:RUN-12:US01"}
    german = journals["payroll:RUN-12:DE01"]
    assert (german.entity, german.currency, german.erp_id, german.posting_date) == (
        "DE01", "EUR", "1010/0100000000/2026", date(2026, 3, 31))
    assert german.lines == [
        LedgerLine(account="6500", side=Side.DEBIT, amount=Money.of("125000.00", "EUR")),
        LedgerLine(account="6520", side=Side.DEBIT, amount=Money.of("25000.00", "EUR")),
        LedgerLine(account="2250", side=Side.CREDIT, amount=Money.of("100000.00", "EUR")),
        LedgerLine(account="2200", side=Side.CREDIT, amount=Money.of("50000.00", "EUR"))]
    assert german.net("2250") == Money.of("-100000.00", "EUR")
    american = journals["payroll:RUN-12:US01"]
    assert (american.entity, american.erp_id, american.total()) == (
        "US01", "1710/0100000000/2026", Money.of("150000.00", "USD"))


async def test_a_wrong_password_is_retried_until_fixed(sandbox):
    locked_out = client(sandbox, password=SecretStr("not-it"))
    try:
        with pytest.raises(TransientVendorError) as refused:
            await locked_out.post_journal(payroll_journal("payroll:RUN-13:DE01"))
        assert refused.value.status == 401
    finally:
        await locked_out.aclose()
