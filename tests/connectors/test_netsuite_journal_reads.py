"""NetSuiteClient's journal reads for reconciliation, against the NetSuite sandbox over real HTTP:
journals (and the vendor bills and payments that post) by external id and by day, lines and amounts
exact, vendor-side ids never pasted into SuiteQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from canonical import JournalEntry, JournalLine, Money, Side
from connectors.errors import BusinessRuleError
from connectors.http import exact_json
from connectors.interfaces import LedgerLine
from connectors.netsuite import NetSuiteClient
from connectors.netsuite.client import IDS_PER_QUERY, RECORD
from finsync.config import ErpVendorSettings
from sandboxes.netsuite import create_app as create_netsuite
from tests.support.servers import serve

TODAY = date(2026, 3, 15)          # the sandbox's: March 2026 open
DAY = date(2026, 3, 10)


@pytest.fixture
async def erp(tmp_path):
    async with serve(create_netsuite(tmp_path / "netsuite.db", today=TODAY)) as base_url:
        client = NetSuiteClient.from_settings(ErpVendorSettings(base_url=base_url))
        yield client
        await client.aclose()


def journal(external_id: str, *, entity: str = "US01", posting_date: date = DAY, amount: str = "84.37",
            debit: str = "6120", credit: str = "2150", cost_center: str | None = "CC-1000") -> JournalEntry:
    currency = "USD" if entity == "US01" else "EUR"
    return JournalEntry(
        external_id=external_id, entity=entity, posting_date=posting_date, memo="reconciliation test",
        lines=[JournalLine(side=Side.DEBIT, account=debit, amount=Money.of(amount, currency), entity=entity,
                           cost_center=cost_center if debit.startswith("6") else None),
               JournalLine(side=Side.CREDIT, account=credit, amount=Money.of(amount, currency), entity=entity)])


async def entered_on(erp: NetSuiteClient, erp_id: str) -> date:
    """The day the ERP stamped the journal as entered (the sandbox's clock, not the test's)."""
    rows = await erp.suiteql(f"SELECT TO_CHAR(createddate, 'YYYY-MM-DD') AS day FROM transaction WHERE id = {erp_id}")
    return date.fromisoformat(rows[0]["day"])


async def test_journals_are_read_back_by_external_id_with_their_lines(erp):
    posted = await erp.post_journal(journal("expense-concur-R1:journal-0"))
    settled = await erp.post_journal(journal("FSE-R1-G0P1:settlement", debit="2150", credit="1010", cost_center=None))

    found = await erp.journals_by_external_id(["expense-concur-R1:journal-0", "FSE-R1-G0P1:settlement",
                                               "expense-concur-R1:journal-0-reversal"])

    by_id = {j.external_id: j for j in found}
    assert set(by_id) == {"expense-concur-R1:journal-0", "FSE-R1-G0P1:settlement"}   # the reversal does not exist
    expense = by_id["expense-concur-R1:journal-0"]
    assert (expense.erp_id, expense.document_number, expense.entity, expense.posting_date, expense.currency) == (
        posted.erp_id, posted.document_number, "US01", DAY, "USD")
    assert expense.lines == [LedgerLine(account="6120", side=Side.DEBIT, amount=Money.of("84.37", "USD")),
                             LedgerLine(account="2150", side=Side.CREDIT, amount=Money.of("84.37", "USD"))]
    assert expense.total() == Money.of("84.37", "USD") and expense.net("2150") == Money.of("-84.37", "USD")
    assert by_id["FSE-R1-G0P1:settlement"].erp_id == settled.erp_id
    assert by_id["FSE-R1-G0P1:settlement"].net("2150") == Money.of("84.37", "USD")


async def test_a_long_list_of_external_ids_is_asked_in_pieces(erp):
    await erp.post_journal(journal("expense-concur-FIRST:journal-0"))
    await erp.post_journal(journal("expense-concur-LAST:journal-0", amount="0.01"))
    asked = ["expense-concur-FIRST:journal-0", *(f"expense-concur-NONE{n:04d}:journal-0" for n in range(IDS_PER_QUERY)),
             "expense-concur-LAST:journal-0"]

    found = await erp.journals_by_external_id(asked)

    assert sorted(j.external_id or "" for j in found) == ["expense-concur-FIRST:journal-0",
                                                          "expense-concur-LAST:journal-0"]
    assert {j.total().amount for j in found} == {Decimal("84.37"), Decimal("0.01")}


async def test_an_external_id_with_a_quote_is_looked_up_as_text(erp):
    await erp.post_journal(journal("O'Brien:journal-0"))
    assert [j.external_id for j in await erp.journals_by_external_id(["O'Brien:journal-0"])] == ["O'Brien:journal-0"]
    assert await erp.journals_by_external_id(["x' OR '1'='1"]) == []


async def test_the_journals_of_a_day_are_the_entitys_dated_or_entered_that_day(erp):
    dated = await erp.post_journal(journal("expense-concur-R2:journal-0"))
    await erp.post_journal(journal("expense-concur-R3:journal-0", posting_date=date(2026, 3, 11)))
    await erp.post_journal(journal("expense-concur-R4:journal-0", entity="DE01", cost_center="CC-4100"))

    on_the_day = await erp.journals_on("US01", DAY)

    assert [j.erp_id for j in on_the_day] == [dated.erp_id]
    assert [j.external_id for j in await erp.journals_on("DE01", DAY)] == ["expense-concur-R4:journal-0"]
    # Entered today (by the sandbox's clock), whatever their date: a journal backdated to an earlier day too.
    entered = await entered_on(erp, dated.erp_id)
    assert {j.external_id for j in await erp.journals_on("US01", entered)} == {
        "expense-concur-R2:journal-0", "expense-concur-R3:journal-0"}


async def test_the_day_of_an_entity_the_erp_does_not_know_is_refused(erp):
    with pytest.raises(BusinessRuleError, match="XX01"):
        await erp.journals_on("XX01", DAY)


async def test_the_day_holds_the_vendor_bills_and_payments_that_post_and_no_purchase_orders(erp):
    """What the daily reconciliation reads: a bill and its payment move the payable and the bank;
    the purchase order they relieve is a commitment, not a journal."""
    async def send(method: str, path: str, body: dict) -> None:
        await erp.request(method, RECORD + path, ok=(204,), content=exact_json(body),
                          headers={"Content-Type": "application/json"})

    line = {"account": {"id": "630"}, "department": {"id": "10"}, "amount": Decimal("500.00")}
    await send("PUT", "/purchaseOrder/eid:coupa-po-1", {
        "entity": {"id": "501"}, "tranDate": DAY.isoformat(), "expense": {"items": [{**line, "line": 1}]}})
    order_id = (await erp.suiteql("SELECT id FROM transaction WHERE externalid = 'coupa-po-1'"))[0]["id"]
    await send("PUT", "/vendorBill/eid:coupa-inv-1", {
        "entity": {"id": "501"}, "tranDate": DAY.isoformat(), "tranId": "INV-1",
        "expense": {"items": [{**line, "orderDoc": {"id": order_id}, "orderLine": 1}]}})
    bill_id = (await erp.suiteql("SELECT id FROM transaction WHERE externalid = 'coupa-inv-1'"))[0]["id"]
    await send("POST", f"/vendorBill/{bill_id}/!transform/vendorPayment", {
        "externalId": "FSP-INV-1", "tranDate": DAY.isoformat(), "account": {"id": "101"},
        "amount": Decimal("490.00"), "discountAmount": Decimal("10.00")})

    by_external_id = {j.external_id: j for j in await erp.journals_on("US01", DAY)}

    assert set(by_external_id) == {"coupa-inv-1", "FSP-INV-1"}
    bill, payment = by_external_id["coupa-inv-1"], by_external_id["FSP-INV-1"]
    assert (bill.document_number, bill.total(), bill.net("2010")) == (
        "INV-1", Money.of("500.00", "USD"), Money.of("-500.00", "USD"))
    assert (payment.net("2010"), payment.net("1010"), payment.net("4910")) == (
        Money.of("500.00", "USD"), Money.of("-490.00", "USD"), Money.of("-10.00", "USD"))
    assert [j.external_id for j in await erp.journals_by_external_id(["coupa-po-1", "coupa-inv-1"])] == ["coupa-inv-1"]
