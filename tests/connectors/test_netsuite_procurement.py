"""NetSuiteClient as the ERP of requisition-to-pay, against the NetSuite sandbox over real HTTP:
budget, commitment, vendor bill, its reversal and its payment; amounts exact, refusals as
finance-readable problems, and a retry that finds what the lost attempt wrote instead of writing again."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest

from canonical import Money, PostedJournal
from canonical.procurement import (
    BillLine,
    BillPayment,
    BillReversal,
    BudgetRequest,
    Coding,
    Commitment,
    CommitmentLine,
    PostedBill,
    VendorBill,
)
from connectors.errors import AmbiguousWriteError, BusinessRuleError, VendorRejectedError
from connectors.http import exact_json
from connectors.netsuite import NetSuiteClient
from connectors.netsuite.auth import signing_key
from finsync.config import ErpVendorSettings
from sandboxes.netsuite import create_app
from tests.support.servers import serve

TODAY = date(2026, 3, 15)          # the sandbox's: March 2026 open, February closed
RECORD = "/services/rest/record/v1"
WRITES = {"PUT", "PATCH", "POST"}


class Recorder(httpx.AsyncBaseTransport):
    """The requests the connector sends, so a test can say it wrote nothing."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.sent: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def writes(self) -> list[tuple[str, str]]:
        """Record writes (a SuiteQL POST is a read)."""
        return [(method, path) for method, path in self.sent if method in WRITES and "/record/" in path]


@pytest.fixture
async def sandbox(tmp_path):
    async with serve(create_app(tmp_path / "netsuite.db", today=TODAY)) as base_url:
        yield base_url


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
async def erp(sandbox, recorder):
    settings = ErpVendorSettings(base_url=sandbox)
    client = NetSuiteClient(sandbox, client_id=settings.client_id, key=signing_key(settings), transport=recorder)
    yield client
    await client.aclose()


async def set_faults(base_url: str, **faults) -> dict:
    async with httpx.AsyncClient(base_url=base_url) as http:
        return (await http.put("/_sandbox/faults", json=faults)).json()


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def coding(cost_center: str = "CC-1000", account: str = "6300", entity: str = "US01") -> Coding:
    return Coding(entity_code=entity, cost_center=cost_center, gl_account=account)


def commitment(external_id: str = "req-1:commitment", *, supplier: str = "SUP-100", order_number: str = "PO-77",
               lines: list[tuple[str, Coding, str]] | None = None) -> Commitment:
    """Lines are (platform line key, coding, amount)."""
    lines = lines or [("pol-11", coding(), "1234.56"), ("pol-12", coding(account="6310"), "300.10")]
    return Commitment(external_id=external_id, supplier_number=supplier, entity_code="US01", order_number=order_number,
                      order_date=TODAY, currency="USD", memo=f"PO {order_number} for requisition REQ-1",
                      lines=[CommitmentLine(line_key=key, description=f"item {key}", coding=c, amount=usd(amount))
                             for key, c, amount in lines])


def vendor_bill(invoice_number: str = "INV-9", *, external_id: str | None = None, posting_date: date = TODAY,
                invoice_date: date = date(2026, 3, 12), supplier: str = "SUP-100",
                lines: list[tuple[str, Coding, str]] | None = None) -> VendorBill:
    """Lines are (order line key, coding, amount)."""
    lines = lines or [("pol-11", coding(), "1234.56")]
    return VendorBill(
        external_id=external_id or f"req-1:bill-{invoice_number}", supplier_number=supplier, entity_code="US01",
        invoice_number=invoice_number, invoice_date=invoice_date, posting_date=posting_date,
        due_date=date(2026, 4, 11), currency="USD", commitment_external_id="req-1:commitment",
        memo=f"Invoice {invoice_number} on PO PO-77",
        lines=[BillLine(line_key=f"inl-{i}", order_line_key=key, description=f"billed {key}", coding=c, amount=usd(amount))
               for i, (key, c, amount) in enumerate(lines, start=1)])


async def documents(erp: NetSuiteClient, external_id: str) -> list[dict]:
    return await erp.suiteql(f"SELECT id, recordtype, lastmodifieddate FROM transaction WHERE externalid = '{external_id}'")


async def order_lines(erp: NetSuiteClient, external_id: str) -> dict[int, tuple[str, str, str]]:
    """The order's lines by number: (amount, billed, open)."""
    order = await erp.record_by_external_id("purchaseOrder", external_id)
    assert order is not None
    return {item["line"]: (str(item["amount"]), str(item["amountBilled"]), str(item["amountOpen"]))
            for item in order["expense"]["items"]}


async def gl(erp: NetSuiteClient, erp_id: str) -> list[tuple[str, str | None, str | None, str | None]]:
    rows = await erp.suiteql("SELECT a.acctnumber, tl.debitforeignamount, tl.creditforeignamount, d.externalid AS cc "
                             "FROM transactionline tl JOIN account a ON a.id = tl.account LEFT JOIN department d "
                             f"ON d.id = tl.department WHERE tl.transaction = {erp_id} ORDER BY tl.linesequencenumber")
    return [(r["acctnumber"], r.get("debitforeignamount"), r.get("creditforeignamount"), r.get("cc")) for r in rows]


# --- suppliers and budget ---------------------------------------------------------------------------
async def test_a_supplier_is_known_as_an_active_vendor_of_the_entity(erp):
    assert await erp.supplier_known("SUP-100", "US01")
    assert not await erp.supplier_known("SUP-200", "US01")    # a vendor of DE01
    assert await erp.supplier_known("SUP-200", "DE01")
    assert not await erp.supplier_known("SUP-500", "US01")    # inactive
    assert not await erp.supplier_known("SUP-9'9", "US01")    # no such vendor (and the quote stays text)
    with pytest.raises(BusinessRuleError) as unknown:
        await erp.supplier_known("SUP-100", "XX01")
    assert unknown.value.problem.code == "ENTITY_UNKNOWN"


async def test_the_budget_left_drops_by_the_commitment_and_then_by_the_bill_not_twice(erp):
    office, hardware, supplies = coding(), coding(account="6310"), coding(account="6140")
    request = BudgetRequest(entity_code="US01", on=TODAY, lines=[
        (office, usd("24000.00")), (hardware, usd("100.00")), (supplies, usd("5.00"))])

    before = await erp.check_budget(request)
    assert [(ln.coding, ln.budget, ln.committed, ln.actual, ln.requested) for ln in before.lines] == [
        (office, usd("25000.00"), usd("0"), usd("0"), usd("24000.00")),
        (hardware, usd("25000.00"), usd("0"), usd("0"), usd("100.00")),
        (supplies, usd("0"), usd("0"), usd("0"), usd("5.00"))]     # no budget row: no budget
    assert [ln.coding for ln in before.short] == [supplies]

    await erp.create_commitment(commitment(lines=[("pol-11", office, "1234.56"), ("pol-12", office, "300.10"),
                                                  ("pol-13", hardware, "99.99")]))
    committed = await erp.check_budget(request)
    assert [(ln.committed, ln.actual) for ln in committed.lines[:2]] == [
        (usd("1534.66"), usd("0")), (usd("99.99"), usd("0"))]      # exact: as floats 1534.6599999999999

    await erp.post_bill(vendor_bill(lines=[("pol-11", office, "1234.56")]))
    billed = await erp.check_budget(request)
    office_line = billed.lines[0]
    assert (office_line.committed, office_line.actual, office_line.available) == (
        usd("300.10"), usd("1234.56"), usd("23465.34"))
    assert office_line.shortfall == usd("534.66")
    assert [ln.coding for ln in billed.short] == [office, supplies]
    # Another cost center's budget is its own.
    other = await erp.check_budget(BudgetRequest(entity_code="US01", on=TODAY, lines=[(coding("CC-2000"), usd("1.00"))]))
    assert (other.lines[0].committed, other.lines[0].actual) == (usd("0"), usd("0"))


async def test_an_order_commits_the_budget_of_the_period_it_is_dated_in(erp):
    april = commitment(lines=[("pol-11", coding(), "700.00")]).model_copy(update={"order_date": date(2026, 4, 2)})
    await erp.create_commitment(april)
    for on, committed in [(TODAY, "0"), (date(2026, 4, 30), "700.00")]:
        check = await erp.check_budget(BudgetRequest(entity_code="US01", on=on, lines=[(coding(), usd("1.00"))]))
        assert check.lines[0].committed == usd(committed), on


async def test_a_budget_for_a_coding_netsuite_does_not_know_is_refused_with_the_code(erp):
    for wrong, code, subject in [(coding(account="6999"), "ACCOUNT_UNKNOWN", "6999"),
                                 (coding("CC-0000"), "COST_CENTER_UNKNOWN", "CC-0000")]:
        with pytest.raises(BusinessRuleError) as refused:
            await erp.check_budget(BudgetRequest(entity_code="US01", on=TODAY, lines=[(wrong, usd("1.00"))]))
        assert (refused.value.problem.code, refused.value.problem.subject) == (code, subject)


# --- commitments --------------------------------------------------------------------------------
async def test_a_commitment_is_one_purchase_order_with_its_lines_numbered_in_order(erp, recorder):
    first = await erp.create_commitment(commitment())
    again = await erp.create_commitment(commitment())

    assert first == again and first.external_id == "req-1:commitment" and first.document_number.startswith("PO")
    assert [row["recordtype"] for row in await documents(erp, "req-1:commitment")] == ["purchaseorder"]
    order = await erp.record_by_external_id("purchaseOrder", "req-1:commitment")
    assert order is not None and order["id"] == first.erp_id and order["entity"]["id"] == "501"   # SUP-100
    assert [(item["line"], item["memo"], str(item["amount"])) for item in order["expense"]["items"]] == [
        (1, "item pol-11 (order line pol-11)", "1234.56"), (2, "item pol-12 (order line pol-12)", "300.10")]
    assert str(order["total"]) == "1534.66"


async def test_releasing_a_commitment_closes_what_is_open_once(erp, recorder):
    await erp.create_commitment(commitment())
    await erp.post_bill(vendor_bill(lines=[("pol-11", coding(), "1000.00")]))

    await erp.release_commitment("req-1:commitment")
    assert await order_lines(erp, "req-1:commitment") == {
        1: ("1234.56", "1000.00", "0.00"), 2: ("300.10", "0.00", "0.00")}   # billed stays billed
    order = await erp.record_by_external_id("purchaseOrder", "req-1:commitment")
    assert order is not None and order["status"]["id"] == "closed"

    writes = len(recorder.writes())
    await erp.release_commitment("req-1:commitment")
    await erp.release_commitment("never-committed")
    assert len(recorder.writes()) == writes


async def test_an_inactive_supplier_or_one_of_another_entity_cannot_be_committed_to(erp):
    for supplier, code, words in [("SUP-500", "SUPPLIER_INACTIVE", "Supplier SUP-500 is inactive in NetSuite"),
                                  ("SUP-200", "SUPPLIER_UNKNOWN_IN_ERP", "Supplier SUP-200 is not a vendor of US01"),
                                  ("SUP-999", "SUPPLIER_UNKNOWN_IN_ERP", "supplier SUP-999 is not a NetSuite vendor")]:
        with pytest.raises(BusinessRuleError) as refused:
            await erp.create_commitment(commitment(supplier=supplier))
        problem = refused.value.problem
        assert (problem.code, problem.subject, problem.system) == (code, supplier, "erp")
        assert problem.reason.startswith("Commitment for purchase order PO-77: ") and words in problem.reason
    assert await documents(erp, "req-1:commitment") == []


# --- bills ----------------------------------------------------------------------------------------
async def test_a_bill_posts_once_to_the_period_of_its_posting_date_and_relieves_its_order_line(erp):
    await erp.create_commitment(commitment())
    bill = vendor_bill(invoice_date=date(2026, 2, 26), lines=[("pol-12", coding(account="6310"), "300.10"),
                                                              ("pol-11", coding(), "1234.55")])
    posted = await erp.post_bill(bill)
    again = await erp.post_bill(bill)

    assert posted == again == PostedBill(external_id=bill.external_id, erp_id=posted.erp_id, document_number="INV-9",
                                         amount=usd("1534.65"))
    assert [row["recordtype"] for row in await documents(erp, bill.external_id)] == ["vendorbill"]
    assert await gl(erp, posted.erp_id) == [("2010", None, "1534.65", None), ("6310", "300.10", None, "CC-1000"),
                                            ("6300", "1234.55", None, "CC-1000")]
    record = await erp.record("vendorBill", posted.erp_id)
    assert record is not None
    # Dated as the invoice (in closed February), posted to open March, due as finsync computed.
    assert (record["tranDate"], record["postingPeriod"]["refName"], record["dueDate"]) == (
        "2026-02-26", "Mar 2026", "2026-04-11")
    assert [(item["orderLine"], item["memo"]) for item in record["expense"]["items"]] == [
        (2, "billed pol-12"), (1, "billed pol-11")]
    assert await order_lines(erp, "req-1:commitment") == {
        1: ("1234.56", "1234.55", "0.01"), 2: ("300.10", "300.10", "0.00")}


async def test_a_bill_whose_answer_was_lost_is_found_on_the_retry_and_not_written_again(erp, recorder, sandbox):
    await erp.create_commitment(commitment())
    bill = vendor_bill()
    await set_faults(sandbox, ambiguous_rate=1.0, path_pattern="vendorBill")
    with pytest.raises(AmbiguousWriteError):
        await erp.post_bill(bill)
    assert (await set_faults(sandbox))["injected"] == {"dropped_response": 1}
    stored = await documents(erp, bill.external_id)
    writes = len(recorder.writes())

    posted = await erp.post_bill(bill, lookup_first=True)

    assert len(recorder.writes()) == writes                    # read back, never written again
    assert await documents(erp, bill.external_id) == stored    # one bill, untouched
    assert (posted.erp_id, posted.document_number, posted.amount) == (stored[0]["id"], "INV-9", usd("1234.56"))


async def test_a_bill_with_a_new_invoice_posts_on_a_retry_that_finds_nothing(erp, recorder):
    await erp.create_commitment(commitment())
    posted = await erp.post_bill(vendor_bill(), lookup_first=True)
    assert posted.amount == usd("1234.56")
    assert [method for method, path in recorder.writes() if "vendorBill" in path] == ["PUT"]


def wrong_entity() -> VendorBill:
    return vendor_bill(lines=[("pol-11", coding("CC-4100"), "10.00")])


@pytest.mark.parametrize(("bill", "code", "subject", "words"), [
    (vendor_bill(posting_date=date(2026, 2, 20)), "PERIOD_CLOSED", "2026-02-20", "Feb 2026 is closed"),
    (vendor_bill(posting_date=date(2031, 1, 5)), "PERIOD_MISSING", "2031-01-05", "no NetSuite accounting period"),
    (vendor_bill(lines=[("pol-11", coding("CC-0000"), "10.00")]), "COST_CENTER_UNKNOWN", "CC-0000",
     "Cost center CC-0000 is not a NetSuite department"),
    (vendor_bill(lines=[("pol-11", coding(account="6999"), "10.00")]), "ACCOUNT_UNKNOWN", "6999",
     "GL account 6999 does not exist"),
    (vendor_bill(lines=[("pol-12", coding("CC-1900"), "10.00")]), "COST_CENTER_INACTIVE", "CC-1900",
     "Cost center CC-1900 is inactive"),
    (wrong_entity(), "COST_CENTER_WRONG_ENTITY", "CC-4100", "does not belong to US01"),
], ids=["closed-period", "no-period", "unknown-cost-center", "unknown-account", "inactive-cost-center",
        "cost-center-of-another-entity"])
async def test_a_refused_bill_names_the_invoice_and_what_finance_must_fix(erp, bill, code, subject, words):
    await erp.create_commitment(commitment())
    with pytest.raises(BusinessRuleError) as refused:
        await erp.post_bill(bill)
    problem = refused.value.problem
    assert not isinstance(refused.value, VendorRejectedError)
    assert (problem.code, problem.subject, problem.system) == (code, subject, "erp")
    assert problem.reason.startswith("Vendor bill for invoice INV-9 from SUP-100: ") and words in problem.reason
    assert await documents(erp, bill.external_id) == []


async def test_the_same_invoice_number_twice_is_a_duplicate_invoice(erp):
    await erp.create_commitment(commitment())
    await erp.post_bill(vendor_bill(lines=[("pol-11", coding(), "10.00")]))
    with pytest.raises(BusinessRuleError) as refused:
        await erp.post_bill(vendor_bill(external_id="req-1:bill-second", lines=[("pol-12", coding(), "20.00")]))
    problem = refused.value.problem
    assert (problem.code, problem.subject) == ("INVOICE_DUPLICATE", "INV-9")
    assert "Supplier SUP-100 already has a bill with invoice number INV-9" in problem.reason
    assert await documents(erp, "req-1:bill-second") == []


async def test_a_bill_on_a_closed_order_line_or_an_inactive_supplier_is_refused(erp):
    await erp.create_commitment(commitment())
    await erp.release_commitment("req-1:commitment")
    with pytest.raises(BusinessRuleError) as closed:
        await erp.post_bill(vendor_bill(lines=[("pol-11", coding(), "10.00"), ("pol-12", coding(), "20.00")]))
    assert (closed.value.problem.code, closed.value.problem.subject) == ("ORDER_LINE_CLOSED", "pol-11")
    assert "bills order line pol-11, which is closed" in closed.value.problem.reason

    await erp.create_commitment(commitment("req-2:commitment", order_number="PO-78"))
    await erp.request("PATCH", RECORD + "/vendor/eid:SUP-100", ok=(204,), content=exact_json({"isInactive": True}),
                      headers={"Content-Type": "application/json"})
    inactive = vendor_bill("INV-10").model_copy(update={"commitment_external_id": "req-2:commitment"})
    with pytest.raises(BusinessRuleError) as refused:
        await erp.post_bill(inactive)
    assert (refused.value.problem.code, refused.value.problem.subject) == ("SUPPLIER_INACTIVE", "SUP-100")
    assert refused.value.problem.reason.startswith("Vendor bill for invoice INV-10 from SUP-100: Supplier SUP-100 is "
                                                   "inactive in NetSuite")


async def test_a_bill_without_its_commitment_or_order_line_is_refused_before_anything_is_sent(erp, recorder):
    with pytest.raises(BusinessRuleError) as missing:
        await erp.post_bill(vendor_bill())
    assert missing.value.problem.code == "COMMITMENT_MISSING"
    await erp.create_commitment(commitment())
    with pytest.raises(VendorRejectedError) as unknown:
        await erp.post_bill(vendor_bill(lines=[("pol-99", coding(), "10.00")]))
    assert unknown.value.problem.code == "ORDER_LINE_UNKNOWN" and "pol-99" in unknown.value.problem.reason
    assert [path for _, path in recorder.writes() if "vendorBill" in path] == []


# --- reversal and payment -----------------------------------------------------------------------------
async def test_a_reversal_credits_the_whole_bill_and_commits_its_order_line_again(erp, recorder):
    await erp.create_commitment(commitment())
    bill = await erp.post_bill(vendor_bill())
    reversal = BillReversal(external_id="req-1:bill-INV-9:reversal", bill_erp_id=bill.erp_id, on=TODAY,
                            memo="Requisition cancelled: duplicate order")

    credit = await erp.reverse_bill(reversal)

    assert credit == PostedJournal(external_id=reversal.external_id, erp_id=credit.erp_id,
                                   document_number=credit.document_number, entity="US01", posting_date=TODAY,
                                   amount=usd("1234.56"))
    assert credit.document_number.startswith("VC")
    assert await gl(erp, credit.erp_id) == [("2010", "1234.56", None, None), ("6300", None, "1234.56", "CC-1000")]
    assert (await order_lines(erp, "req-1:commitment"))[1] == ("1234.56", "0.00", "1234.56")
    writes = len(recorder.writes())
    assert await erp.reverse_bill(reversal, lookup_first=True) == credit
    assert len(recorder.writes()) == writes
    assert len(await documents(erp, reversal.external_id)) == 1


async def test_a_payment_takes_the_discount_and_a_lost_answer_is_found_on_the_retry(erp, recorder, sandbox):
    await erp.create_commitment(commitment())
    bill = await erp.post_bill(vendor_bill())
    payment = BillPayment(external_id="FSE-REQ1-INV9:bill-payment", bill_erp_id=bill.erp_id, bank_gl_account="1010",
                          paid_on=TODAY, amount=usd("1209.87"), discount=usd("24.69"))
    await set_faults(sandbox, ambiguous_rate=1.0, path_pattern="transform")
    with pytest.raises(AmbiguousWriteError):
        await erp.pay_bill(payment)
    await set_faults(sandbox)
    writes = len(recorder.writes())

    paid = await erp.pay_bill(payment, lookup_first=True)

    assert len(recorder.writes()) == writes
    assert paid.external_id == payment.external_id and paid.document_number.startswith("PMT")
    assert [row["id"] for row in await documents(erp, payment.external_id)] == [paid.erp_id]
    assert await gl(erp, paid.erp_id) == [("1010", None, "1209.87", None), ("2010", "1234.56", None, None),
                                          ("4910", None, "24.69", None)]
    settled = await erp.record("vendorBill", bill.erp_id)
    assert settled is not None and (str(settled["amountRemaining"]), settled["status"]["id"]) == ("0.00", "paidInFull")


async def test_a_paid_bill_cannot_be_reversed_nor_paid_again(erp):
    await erp.create_commitment(commitment())
    bill = await erp.post_bill(vendor_bill())
    await erp.pay_bill(BillPayment(external_id="pay-1", bill_erp_id=bill.erp_id, bank_gl_account="1010", paid_on=TODAY,
                                   amount=usd("1000.00"), discount=usd("0")))

    with pytest.raises(BusinessRuleError) as reversed_after_pay:
        await erp.reverse_bill(BillReversal(external_id="rev-1", bill_erp_id=bill.erp_id, on=TODAY, memo="cancelled"))
    problem = reversed_after_pay.value.problem
    assert (problem.code, problem.subject, problem.system) == ("BILL_SETTLED", "INV-9", "erp")
    assert problem.reason.startswith("Reversal of vendor bill INV-9: ") and "has a payment applied" in problem.reason
    assert await documents(erp, "rev-1") == []

    with pytest.raises(BusinessRuleError) as overpaid:
        await erp.pay_bill(BillPayment(external_id="pay-2", bill_erp_id=bill.erp_id, bank_gl_account="1010",
                                       paid_on=TODAY, amount=usd("234.57"), discount=usd("0")))
    assert overpaid.value.problem.code == "BILL_SETTLED"
    assert overpaid.value.problem.reason.startswith("Payment pay-2 of vendor bill INV-9: ")
    assert "234.56" in overpaid.value.problem.reason   # what is left to pay


async def test_a_payment_from_an_account_netsuite_lacks_is_refused_before_it_is_sent(erp, recorder):
    await erp.create_commitment(commitment())
    bill = await erp.post_bill(vendor_bill())
    with pytest.raises(BusinessRuleError) as refused:
        await erp.pay_bill(BillPayment(external_id="pay-1", bill_erp_id=bill.erp_id, bank_gl_account="1099",
                                       paid_on=TODAY, amount=usd("1234.56"), discount=usd("0")))
    assert (refused.value.problem.code, refused.value.problem.subject) == ("ACCOUNT_UNKNOWN", "1099")
    assert refused.value.problem.reason.startswith("Payment pay-1 of vendor bill INV-9: ")
    assert not [path for _, path in recorder.writes() if "transform" in path]
    assert Decimal((await erp.record("vendorBill", bill.erp_id) or {})["amountRemaining"]) == Decimal("1234.56")
