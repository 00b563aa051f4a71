"""The Workday connector against the Workday sandbox over real HTTP: results read page by page as
canonical rows with exact decimals, a cursor resuming in a fresh client, a page read again after a
5xx holding the same rows, control totals that tie (or say by how much they do not), payees in
bulk and one by one, pay inputs once per reference, and pay run events parsed alike from a webhook
or a read."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from schwifty import IBAN

from canonical import Money
from canonical.payroll import PayComponentKind, PayResultRow, PayrollRunEvent, PayrollRunRef, PayrollRunState, RegisterTotals
from connectors.errors import BusinessRuleError, NotFoundError, TransientVendorError
from connectors.workday import WorkdayClient
from connectors.workday.events import parse_run_event
from connectors.workday.mapping import result_rows, worker_payee
from connectors.workday.problems import NOT_FOUND, OTHER_ENTITY, REFUSED
from gateway.verify import Verifier
from tests.support.workday import PAYROLL_SECRET, Tenant, connector, workday_tenant

MARCH = date(2026, 3, 1)
SIGNS = {PayComponentKind.EARNING: 1, PayComponentKind.EMPLOYEE_DEDUCTION: -1, PayComponentKind.REIMBURSEMENT: 1,
         PayComponentKind.NET_PAY: -1}
TOTAL_OF = {PayComponentKind.EARNING: "earnings", PayComponentKind.EMPLOYEE_DEDUCTION: "employee_deductions",
            PayComponentKind.EMPLOYER_CONTRIBUTION: "employer_contributions",
            PayComponentKind.REIMBURSEMENT: "reimbursements", PayComponentKind.NET_PAY: "net_pay"}


@pytest.fixture
async def tenant(tmp_path: Path) -> AsyncIterator[Tenant]:
    async with workday_tenant(tmp_path / "workday.db", employees=60) as built:
        yield built


@pytest.fixture
async def client(tenant: Tenant) -> AsyncIterator[WorkdayClient]:
    built = connector(tenant)
    yield built
    await built.aclose()


async def finalized_run(tenant: Tenant, client: WorkdayClient, **create: Any) -> PayrollRunRef:
    run = await tenant.driver.create_run(MARCH, **create)
    await tenant.driver.finalize(run["id"], "maria.schmidt")
    return (await client.run(run["id"])).run


async def read_all(client: WorkdayClient, run: PayrollRunRef, page_size: int, cursor: str | None = None
                   ) -> tuple[list[PayResultRow], list[str | None]]:
    rows: list[PayResultRow] = []
    cursors = [cursor]
    while True:
        page = await client.results_page(run, cursor, page_size)
        rows += page.rows
        cursor = page.next_cursor
        cursors.append(cursor)
        if cursor is None:
            return rows, cursors


def recomputed(rows: list[PayResultRow]) -> dict[str, RegisterTotals]:
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    workers: dict[str, set[str]] = defaultdict(set)
    currency = {}
    for row in rows:
        sums[row.entity][TOTAL_OF[row.kind]] += row.amount
        workers[row.entity].add(row.worker_id)
        currency[row.entity] = row.currency
    return {entity: RegisterTotals(entity=entity, currency=currency[entity], headcount=len(workers[entity]), **totals)
            for entity, totals in sums.items()}


# --- results ----------------------------------------------------------------------------------------

async def test_results_come_page_by_page_as_canonical_rows_with_exact_amounts(tenant: Tenant, client: WorkdayClient):
    run = await finalized_run(tenant, client)
    rows, cursors = await read_all(client, run, page_size=50)
    first = await client.results_page(run, None, 50)

    assert first.total_rows == len(rows) and len(cursors) == -(-len(rows) // 50) + 1 and cursors[-1] is None
    assert all(type(row.amount) is Decimal and row.amount.as_tuple().exponent == -2 for row in rows)
    assert {row.period_end for row in rows} == {date(2026, 3, 31)}
    assert {(row.entity, row.currency) for row in rows} == {("US01", "USD"), ("DE01", "EUR")}
    by_worker: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        by_worker[row.worker_id] += SIGNS.get(row.kind, 0) * row.amount
    assert len(by_worker) == 60 and set(by_worker.values()) == {Decimal(0)}   # every payslip adds up
    assert rows == (await read_all(client, run, page_size=10_000))[0]


async def test_a_cursor_resumes_exactly_in_a_fresh_client(tenant: Tenant, client: WorkdayClient):
    run = await finalized_run(tenant, client)
    rows, cursors = await read_all(client, run, page_size=37)
    resumed_from = cursors[3]
    assert resumed_from is not None
    other = connector(tenant)
    try:
        rest, _ = await read_all(other, run, page_size=37, cursor=resumed_from)
    finally:
        await other.aclose()
    assert rest == rows[int(resumed_from):] and len(rows[:int(resumed_from)]) == 3 * 37
    with pytest.raises(ValueError, match="not a Workday report cursor"):
        await client.results_page(run, "page-4", 37)


async def test_a_page_read_again_after_a_5xx_holds_the_same_rows(tenant: Tenant, client: WorkdayClient):
    run = await finalized_run(tenant, client)
    expected, _ = await read_all(client, run, page_size=40)
    await tenant.faults(error_rate=0.5, seed=11, path_pattern="customreport2")
    rows: list[PayResultRow] = []
    cursor: str | None = None
    while True:
        try:
            page = await client.results_page(run, cursor, 40)
        except TransientVendorError:
            continue                # the activity's retry: the same cursor again
        rows += page.rows
        cursor = page.next_cursor
        if cursor is None:
            break
    injected = await tenant.faults()
    assert injected.get("server_error_5xx", 0) > 3
    assert rows == expected


async def test_a_run_version_reads_as_it_was_finalized_after_a_reopen(tenant: Tenant, client: WorkdayClient):
    v1 = await finalized_run(tenant, client)
    before, _ = await read_all(client, v1, page_size=1000)
    await tenant.driver.reopen(v1.run_id, "oliver.payroll")
    await tenant.driver.plant_faults(v1.run_id, {"bonus": {"entity": "DE01", "percentOfSalary": "20"}})
    await tenant.driver.finalize(v1.run_id, "maria.schmidt")
    v2 = (await client.run(v1.run_id)).run
    assert (v1.version, v2.version) == (1, 2) and v2.key == f"workday:{v1.run_id}:v2"
    assert (await read_all(client, v1, page_size=1000))[0] == before
    assert (await read_all(client, v2, page_size=1000))[0] != before


# --- control totals and payees ----------------------------------------------------------------------

async def test_control_totals_tie_to_the_rows_and_say_by_how_much_when_they_do_not(tenant: Tenant,
                                                                                 client: WorkdayClient):
    run = await finalized_run(tenant, client, faults={"controlTotalsOff": {"entity": "US01", "amount": "250.00"}})
    rows, _ = await read_all(client, run, page_size=500)
    stated = {totals.entity: totals for totals in await client.control_totals(run)}
    mine = recomputed(rows)
    assert mine["DE01"].differences(stated["DE01"]) == []
    assert mine["US01"].differences(stated["US01"]) == [
        f"net pay {mine['US01'].net_pay} against {stated['US01'].net_pay} USD (difference -250.00)"]
    assert stated["DE01"].headcount + stated["US01"].headcount == 60


async def test_payees_come_in_pages_per_entity_with_their_bank_details(tenant: Tenant, client: WorkdayClient):
    germans, cursor = [], None
    while True:
        page, cursor = await client.payees_page("DE01", cursor, 7)
        germans += page
        if cursor is None:
            break
    americans, rest = await client.payees_page("US01", None, 1000)
    assert rest is None and len(germans) + len(americans) == 60
    assert len({p.worker_id for p in germans}) == len(germans)
    for payee in germans:
        assert payee.entity == "DE01" and payee.account_number is None and " " in payee.name
        assert IBAN(payee.iban or "", validate_bban=True).bic == payee.bic
    assert all(p.iban is None and p.account_number and p.entity == "US01" for p in americans)


async def test_one_workers_payee_read_alone_is_the_one_the_bulk_report_lists(tenant: Tenant, client: WorkdayClient):
    germans, _ = await client.payees_page("DE01", None, 1000)
    americans, _ = await client.payees_page("US01", None, 1000)
    for listed in (germans[3], americans[5]):   # an IBAN, and a US account number
        assert await client.payee(listed.entity, listed.worker_id) == listed


async def test_a_worker_unknown_or_of_another_entity_is_refused_in_one_line(tenant: Tenant, client: WorkdayClient):
    (german,), _ = await client.payees_page("DE01", None, 1)
    with pytest.raises(BusinessRuleError) as unknown:
        await client.payee("DE01", "W999999")
    with pytest.raises(BusinessRuleError) as elsewhere:
        await client.payee("US01", german.worker_id)
    assert unknown.value.problem.code == NOT_FOUND
    assert unknown.value.problem.reason == "Workday has no worker W999999; finsync may hold a wrong id."
    assert elsewhere.value.problem.code == OTHER_ENTITY
    assert f"worker {german.worker_id} in legal entity DE01, not US01" in elsewhere.value.problem.reason
    assert "\n" not in unknown.value.problem.reason + elsewhere.value.problem.reason


def test_a_worker_paid_by_no_bank_account_has_no_payee_and_one_paid_into_two_is_refused():
    worker = {"id": "wid-1", "workerId": "W000001", "descriptor": "Ada Lovelace", "company": {"id": "US01"}}
    account = {"bankIdentificationCode": "CHASUS33XXX", "accountNumber": "100000000001"}
    deposit = {"paymentType": {"descriptor": "Direct Deposit"}, "bankAccount": account}
    check = {"paymentType": {"descriptor": "Check"}}
    paid = worker_payee(worker, [check, deposit])
    assert paid is not None and (paid.worker_id, paid.name, paid.entity, paid.bic, paid.iban, paid.account_number) == (
        "W000001", "Ada Lovelace", "US01", "CHASUS33XXX", None, "100000000001")
    assert worker_payee(worker, []) is None
    assert worker_payee(worker, [check]) is None
    assert worker_payee(worker, [{**deposit, "bankAccount": {"bankIdentificationCode": "CHASUS33XXX"}}]) is None
    with pytest.raises(ValueError, match="2 payment elections into bank accounts"):
        worker_payee(worker, [deposit, deposit])


# --- pay inputs -------------------------------------------------------------------------------------

async def test_a_pay_input_is_added_once_per_reference_and_paid_in_the_next_run(tenant: Tenant, client: WorkdayClient):
    payees, _ = await client.payees_page("DE01", None, 1)
    worker = payees[0].worker_id
    await client.add_pay_input(worker, "EXPENSE_REIMB", Money.of("86.40", "EUR"), "concur:RPT-77")
    await client.add_pay_input(worker, "EXPENSE_REIMB", Money.of("86.40", "EUR"), "concur:RPT-77")   # a retry
    with pytest.raises(BusinessRuleError) as conflict:
        await client.add_pay_input(worker, "EXPENSE_REIMB", Money.of("90.00", "EUR"), "concur:RPT-77")
    with pytest.raises(BusinessRuleError) as wrong_currency:
        await client.add_pay_input(worker, "EXPENSE_REIMB", Money.of("10.00", "USD"), "concur:RPT-78")

    run = await finalized_run(tenant, client)
    rows, _ = await read_all(client, run, page_size=1000)
    assert [(r.worker_id, r.kind, r.amount, r.reference) for r in rows if r.component == "EXPENSE_REIMB"] == [
        (worker, PayComponentKind.REIMBURSEMENT, Decimal("86.40"), "concur:RPT-77")]
    assert conflict.value.problem.code == REFUSED and "one reference is one payment" in conflict.value.problem.reason
    assert "paid in EUR" in wrong_currency.value.problem.reason


# --- runs and their events --------------------------------------------------------------------------

async def test_an_event_and_a_read_of_the_same_state_are_the_same_run_event(tenant: Tenant, client: WorkdayClient):
    draft = await tenant.driver.create_run(MARCH, payment_date=date(2026, 3, 27))
    with pytest.raises(NotFoundError, match="Draft"):
        await client.run(draft["id"])
    read: list[PayrollRunEvent] = []
    for act, by in ((tenant.driver.finalize, "maria.schmidt"), (tenant.driver.reopen, "oliver.payroll"),
                    (tenant.driver.finalize, "maria.schmidt"), (tenant.driver.cancel, "oliver.payroll")):
        await act(draft["id"], by)
        read.append(await client.run(draft["id"]))
    received = await tenant.hooks.wait_for(4)

    verifier = Verifier([PAYROLL_SECRET])
    from_events = [parse_run_event(body) for headers, body in received if verifier.verify(headers, body)]
    assert from_events == read
    assert [(e.state, e.run.version, e.actor) for e in read] == [
        (PayrollRunState.FINALIZED, 1, "maria.schmidt"), (PayrollRunState.REOPENED, 1, "oliver.payroll"),
        (PayrollRunState.FINALIZED, 2, "maria.schmidt"), (PayrollRunState.CANCELLED, 2, "oliver.payroll")]
    first = read[0]
    assert first.event_id == f"workday:{draft['id']}:v1:FINALIZED" and first.run.finalized_by == "maria.schmidt"
    assert (first.run.pay_group, first.run.period_start, first.run.period_end, first.run.payment_date) == (
        "MONTHLY-ALL", MARCH, date(2026, 3, 31), date(2026, 3, 27))
    assert len({e.event_id for e in read}) == 4
    with pytest.raises(NotFoundError):
        await client.run("PAYRUN-424242")


def test_a_malformed_or_contradictory_event_is_refused_in_one_line():
    run = {"id": "PAYRUN-000001", "version": 1, "status": "Reopened", "payGroup": {"id": "MONTHLY-ALL"},
           "periodStartDate": "2026-03-01", "periodEndDate": "2026-03-31", "paymentDate": "2026-03-31",
           "finalizedBy": "maria.schmidt", "lastActionBy": "oliver.payroll", "statusChangedOn": "2026-04-02T09:00:05Z"}

    def body(**changes: object) -> bytes:
        return json.dumps({"type": "payroll.run.reopened", "timestamp": "2026-04-02T09:00:05Z", "data": run, **changes}
                          ).encode()

    assert parse_run_event(body()).state is PayrollRunState.REOPENED
    for bad, said in [(body(type="payroll.run.finalized"), "whose status is 'Reopened'"),
                      (body(type="invoice.paid"), "none of payroll.run.finalized"),
                      (body(data={**run, "status": "Draft"}), "whose status is 'Draft'"),
                      (body(data={**run, "id": "../../admin"}), "data.id"),
                      (body(data={**run, "version": 0}), "version"),
                      (b"[" * 100_000, "not JSON"), (b"\xff", "not JSON")]:
        with pytest.raises(ValueError, match=said) as refused:
            parse_run_event(bad)
        assert "\n" not in str(refused.value)


async def test_changed_runs_pages_past_a_hundred_and_leaves_drafts_out(tenant: Tenant, client: WorkdayClient):
    for _ in range(105):
        run = await tenant.driver.create_run(date(2026, 1, 1))
        await tenant.driver.cancel(run["id"], "oliver.payroll")
    since = tenant.clock.at
    await tenant.driver.create_run(date(2026, 2, 1))                       # a Draft: not announced yet
    late = await tenant.driver.create_run(date(2026, 3, 1))
    await tenant.driver.finalize(late["id"], "maria.schmidt")

    everything = [event async for event in client.changed_runs(None)]
    recent = [event async for event in client.changed_runs(since)]
    assert len(everything) == 106 and len({e.event_id for e in everything}) == 106
    assert [e.run.run_id for e in recent] == [late["id"]] and recent[0].state is PayrollRunState.FINALIZED


async def test_a_wrong_refresh_token_is_a_configuration_error_retried_not_a_data_error(tenant: Tenant):
    wrong = connector(tenant, refresh_token=SecretStr("revoked"))
    try:
        with pytest.raises(TransientVendorError, match="payroll_provider.client_id, client_secret and refresh_token"):
            await wrong.run("PAYRUN-000001")
    finally:
        await wrong.aclose()


def test_a_result_row_that_cannot_be_taken_as_it_is_says_why():
    row: dict[str, Any] = {"Worker_ID": "W000001", "Legal_Entity": "US01", "Cost_Center": "CC-1000", "Pay_Component": "SALARY",
           "Pay_Component_Type": "Earning", "Amount": "5416.67", "Currency": "USD", "Period_End_Date": "2026-03-31"}
    assert result_rows([row])[0].amount == Decimal("5416.67")
    changes: list[tuple[dict[str, Any], str]] = [
        ({"Pay_Component_Type": "Perk"}, "'Perk' is unknown"), ({"Amount": "NaN"}, "not an amount"),
        ({"Amount": 12.5}, "float, not a decimal"), ({"Worker_ID": 7}, "not text")]
    for change, said in changes:
        with pytest.raises(ValueError, match=said):
            result_rows([{**row, **change}])
    with pytest.raises(KeyError):
        result_rows([{k: v for k, v in row.items() if k != "Amount"}])
