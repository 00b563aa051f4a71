"""NetSuiteClient against the NetSuite sandbox over real HTTP."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest

from canonical import BankAccount, CodingRequest, FxRate, JournalEntry, JournalLine, Money, Side
from connectors.errors import AmbiguousWriteError, BusinessRuleError, RateLimitedError, VendorRejectedError
from connectors.netsuite import NetSuiteClient
from connectors.netsuite.rejections import rejection
from finsync.config import ErpVendorSettings
from sandboxes.netsuite import create_app
from tests.support.servers import serve

TODAY = date(2026, 3, 15)          # March 2026 open, February closed; FX effective on the 1st


@pytest.fixture
async def sandbox(tmp_path):
    async with serve(create_app(tmp_path / "netsuite.db", today=TODAY)) as base_url:
        yield base_url


@pytest.fixture
async def erp(sandbox):
    client = NetSuiteClient.from_settings(ErpVendorSettings(base_url=sandbox))
    yield client
    await client.aclose()


async def set_faults(base_url: str, **faults) -> dict:
    async with httpx.AsyncClient(base_url=base_url) as http:
        return (await http.put("/_sandbox/faults", json=faults)).json()


def expense_journal(external_id: str, *, posting_date: date = date(2026, 3, 10), cost_center: str = "CC-1000",
                    account: str = "6120", amount: str = "84.37") -> JournalEntry:
    return JournalEntry(
        external_id=external_id, entity="US01", posting_date=posting_date, memo="Expense report R-42 (Jordan Lee)",
        source_ref="concur:report:R-42",
        lines=[JournalLine(side=Side.DEBIT, account=account, amount=Money.of(amount, "USD"), entity="US01",
                           cost_center=cost_center, memo="Team dinner"),
               JournalLine(side=Side.CREDIT, account="2150", amount=Money.of(amount, "USD"), entity="US01",
                           memo="Payable to E1001")])


async def journal_count(erp: NetSuiteClient, external_id: str) -> int:
    return len(await erp.suiteql(f"SELECT id FROM transaction WHERE externalid = '{external_id}'"))


async def test_coding_context_for_a_german_employee_with_fx(erp):
    context = await erp.coding_context(CodingRequest(
        entity_code=None, employee_id="E2001", cost_centers=["CC-4100", "CC-9999"], accounts=["6120", "6199", "0000"],
        fx_pairs=[("USD", date(2026, 3, 3)), ("GBP", date(2026, 2, 20)), ("EUR", date(2026, 3, 3))],
        posting_date=date(2026, 3, 12)))

    assert (context.entity.code, context.entity.functional_currency, context.entity.erp_id) == ("DE01", "EUR", "2")
    employee = context.employee
    assert (employee.name, employee.entity_code, employee.cost_center) == ("Jonas Becker", "DE01", "CC-4100")
    assert employee.bank_account == BankAccount(holder_name="Jonas Becker", bic="DEUTDEFFXXX",
                                                iban="DE12500105170648489890")
    assert set(context.cost_centers) == {"CC-4100"}
    assert context.cost_centers["CC-4100"].entity_code == "DE01" and context.cost_centers["CC-4100"].active
    assert set(context.accounts) == {"6120", "6199"} and not context.accounts["6199"].active
    assert context.period is not None
    assert (context.period.name, context.period.start, context.period.end, context.period.closed) == (
        "Mar 2026", date(2026, 3, 1), date(2026, 3, 31), False)
    assert sorted(context.fx_rates, key=lambda r: r.from_currency) == [
        FxRate(from_currency="GBP", to_currency="EUR", rate=Decimal("1.1695"), rate_date=date(2026, 2, 1),
               source="netsuite"),
        FxRate(from_currency="USD", to_currency="EUR", rate=Decimal("0.9158"), rate_date=date(2026, 3, 1),
               source="netsuite")]
    assert str(context.rate("USD", date(2026, 3, 3)).rate) == "0.9158"


async def test_coding_context_reports_a_closed_period_and_missing_bank_details(erp):
    await erp.update_employee_bank_details("E1002", bic="BOFAUS3NXXX", account_number="200000000099")
    context = await erp.coding_context(CodingRequest(
        entity_code="US01", employee_id="E1002", cost_centers=[], accounts=[], fx_pairs=[("USD", date(2026, 2, 3))],
        posting_date=date(2026, 2, 28)))
    assert context.period is not None and context.period.name == "Feb 2026" and context.period.closed
    assert context.fx_rates == []
    assert context.employee.bank_account is not None
    assert context.employee.bank_account.account_number == "200000000099"

    with pytest.raises(BusinessRuleError) as unknown:
        await erp.coding_context(CodingRequest(entity_code=None, employee_id="E0404", cost_centers=[], accounts=[],
                                               fx_pairs=[], posting_date=date(2026, 3, 1)))
    assert unknown.value.problem.code == "UNKNOWN_EMPLOYEE"


async def test_posting_twice_and_with_lookup_first_makes_one_journal(erp):
    entry = expense_journal("expense-R42:journal")
    first = await erp.post_journal(entry)
    again = await erp.post_journal(entry)
    looked_up = await erp.post_journal(entry, lookup_first=True)
    assert first == again == looked_up
    assert first.document_number.startswith("JE") and first.entity == "US01"
    assert first.amount == Money.of("84.37", "USD") and first.posting_date == date(2026, 3, 10)
    assert await journal_count(erp, "expense-R42:journal") == 1
    assert await erp.find_journal("expense-R42:journal") == first
    assert await erp.find_journal("never-posted") is None


async def test_a_reversal_points_at_the_original(erp, sandbox):
    original = await erp.post_journal(expense_journal("expense-R43:journal"))
    reversal = expense_journal("expense-R43:journal").reversal("expense-R43:reversal", date(2026, 3, 20), "duplicate")
    posted = await erp.post_journal(reversal)
    rows = await erp.suiteql("SELECT custbody_finsync_reverses FROM transaction "
                             "WHERE externalid = 'expense-R43:reversal'")
    assert rows[0]["custbody_finsync_reverses"] == original.erp_id
    assert posted.erp_id != original.erp_id and posted.amount == original.amount


@pytest.mark.parametrize(("entry", "code", "words"), [
    (expense_journal("closed", posting_date=date(2026, 2, 27)), "PERIOD_CLOSED", "Feb 2026"),
    (expense_journal("inactive-cc", cost_center="CC-1900"), "COST_CENTER_INACTIVE", "CC-1900"),
    (expense_journal("inactive-acct", account="6199"), "ACCOUNT_INACTIVE", "6199"),
    (expense_journal("wrong-entity-cc", cost_center="CC-4100"), "COST_CENTER_WRONG_ENTITY", "CC-4100"),
    (expense_journal("unknown-acct", account="6999"), "ACCOUNT_UNKNOWN", "6999"),
    (expense_journal("unknown-cc", cost_center="CC-0000"), "COST_CENTER_UNKNOWN", "CC-0000"),
], ids=["closed-period", "inactive-cost-center", "inactive-account", "cost-center-of-other-entity",
        "unknown-account", "unknown-cost-center"])
async def test_business_refusals_name_what_finance_must_fix(erp, entry, code, words):
    with pytest.raises(BusinessRuleError) as refused:
        await erp.post_journal(entry)
    assert not isinstance(refused.value, VendorRejectedError)
    assert refused.value.problem.code == code and refused.value.problem.system == "erp"
    assert words in refused.value.problem.reason
    if code != "PERIOD_CLOSED":   # the value a correction replaces, never the vendor's field path
        assert refused.value.problem.subject == words
    assert await journal_count(erp, entry.external_id) == 0


async def test_an_unbalanced_refusal_is_a_mapping_defect(erp, sandbox):
    # A canonical JournalEntry cannot be unbalanced, so send NetSuite an unbalanced body by hand.
    body = ('{"subsidiary":{"id":"1"},"tranDate":"2026-03-10","line":{"items":['
            '{"account":{"id":"612"},"debit":10.00},{"account":{"id":"215"},"credit":9.99}]}}')
    async with httpx.AsyncClient(base_url=sandbox) as http:
        response = await http.post("/services/rest/record/v1/journalEntry", content=body, headers={
            "Authorization": f"Bearer {await erp.token()}", "Content-Type": "application/json"})
    error = rejection(response)
    assert isinstance(error, VendorRejectedError)
    assert error.problem.code == "UNBALANCED" and "10.00" in error.problem.reason


async def test_a_lost_response_is_ambiguous_and_the_lookup_finds_the_committed_journal(erp, sandbox):
    entry = expense_journal("expense-R44:journal")
    await set_faults(sandbox, ambiguous_rate=1.0, path_pattern="journalEntry")
    with pytest.raises(AmbiguousWriteError):
        await erp.post_journal(entry)
    report = await set_faults(sandbox)
    assert report["injected"]["dropped_response"] == 1

    posted = await erp.post_journal(entry, lookup_first=True)
    assert posted.external_id == "expense-R44:journal"
    assert await journal_count(erp, "expense-R44:journal") == 1


async def test_netsuite_throttling_is_a_rate_limit(erp, sandbox):
    await set_faults(sandbox, rate_limit_rate=1.0, rate_limit_burst_seconds=60, path_pattern="suiteql")
    with pytest.raises(RateLimitedError):
        await erp.coding_context(CodingRequest(entity_code=None, employee_id="E1001", cost_centers=[], accounts=[],
                                               fx_pairs=[], posting_date=date(2026, 3, 1)))


async def test_the_dev_key_is_used_only_for_an_unconfigured_loopback_url():
    local = NetSuiteClient.from_settings(ErpVendorSettings(base_url="http://localhost:8702"))
    await local.aclose()
    with pytest.raises(ValueError, match="private_key_file"):
        NetSuiteClient.from_settings(ErpVendorSettings(base_url="https://1234567.suitetalk.api.netsuite.com"))
    with pytest.raises(ValueError, match="both"):
        NetSuiteClient.from_settings(ErpVendorSettings(base_url="http://127.0.0.1:8702", certificate_id="abc"))
