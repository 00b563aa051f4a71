"""The Workday sandbox over real HTTP: the refresh-token grant, workers and their bank details,
pay runs finalized, reopened and cancelled with signed events, the results report paged completely
and stably, payslips that add up, control totals that tie, pay inputs paid once in the next run,
the faults a test can plant, and the company file's named employees on the payroll when the setting
says so."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from schwifty import IBAN

from gateway.verify import Verifier
from sandboxes.kit.company import load_company
from sandboxes.kit.db import sqlite_engine
from sandboxes.kit.workforce import Workforce
from sandboxes.workday.driver import DriverError
from tests.support.workday import PAYROLL_SECRET, TENANT, Tenant, access_token, workday_tenant

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
RESULTS, TOTALS, ELECTIONS = "Payroll_Results_by_Cost_Center", "Payroll_Register_Control_Totals", "Worker_Payment_Elections"
SIGNS = {"Earning": 1, "Employee Deduction": -1, "Reimbursement": 1}
TOTAL_OF = {"Earning": "Earnings", "Employee Deduction": "Employee_Deductions",
            "Employer Contribution": "Employer_Contributions", "Reimbursement": "Reimbursements", "Net Pay": "Net_Pay"}


@pytest.fixture
async def tenant(tmp_path: Path) -> AsyncIterator[Tenant]:
    async with workday_tenant(tmp_path / "workday.db", employees=40) as built:
        yield built


async def finalized(tenant: Tenant, period: date = MARCH, by: str = "maria.schmidt", **create: Any) -> dict[str, Any]:
    run = await tenant.driver.create_run(period, **create)
    return await tenant.driver.finalize(run["id"], by)


def by_worker(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["Worker_ID"]].append(row)
    return grouped


def off_balance(rows: list[dict[str, Any]]) -> Decimal:
    """Earnings - deductions + reimbursements - net pay: zero when an employee's payslip adds up."""
    net = sum(Decimal(r["Amount"]) for r in rows if r["Pay_Component_Type"] == "Net Pay")
    return sum((SIGNS.get(r["Pay_Component_Type"], 0) * Decimal(r["Amount"]) for r in rows), Decimal(0)) - net


def sums_by_entity(rows: list[dict[str, Any]]) -> dict[str, dict[str, Decimal]]:
    """Per legal entity, the headcount and each register total that the result rows add up to."""
    sums = {}
    for entity in {r["Legal_Entity"] for r in rows}:
        mine = [r for r in rows if r["Legal_Entity"] == entity]
        sums[entity] = {"Headcount": Decimal(len(by_worker(mine))), **{
            column: sum((Decimal(r["Amount"]) for r in mine if r["Pay_Component_Type"] == kind), Decimal(0))
            for kind, column in TOTAL_OF.items()}}
    return sums


def stated_by_entity(totals: list[dict[str, Any]]) -> dict[str, dict[str, Decimal]]:
    """The control totals report in the shape of ``sums_by_entity``."""
    return {t["Legal_Entity"]: {column: Decimal(t[column]) for column in ("Headcount", *TOTAL_OF.values())}
            for t in totals}


# --- OAuth ------------------------------------------------------------------------------------------

async def test_a_refresh_token_gets_an_access_token_and_the_api_wants_one(tenant: Tenant) -> None:
    async with httpx.AsyncClient(base_url=tenant.url) as http:
        granted = await access_token(http)
        wrong_token = await access_token(http, refresh_token="stolen")
        wrong_secret = await access_token(http, client_secret="guess")
        other_tenant = await access_token(http, tenant="acme")
        wrong_grant = await http.post(f"/ccx/oauth2/{TENANT}/token", data={"grant_type": "client_credentials"})
        anonymous = [await http.get(path) for path in (
            f"/ccx/api/v1/{TENANT}/workers", f"/ccx/api/payroll/v1/{TENANT}/payRuns",
            f"/ccx/service/customreport2/{TENANT}/ISU_Finsync/{RESULTS}?format=json&Pay_Run_ID=PAYRUN-000001")]
        forged = await http.get(f"/ccx/api/v1/{TENANT}/workers", headers={"Authorization": "Bearer abc.def"})
        good = await http.get(f"/ccx/api/v1/{TENANT}/workers",
                              headers={"Authorization": f"Bearer {granted.json()['access_token']}"})

    assert granted.status_code == 200 and granted.json()["expires_in"] == 3600
    assert granted.json()["token_type"] == "Bearer"
    assert (wrong_token.status_code, wrong_token.json()["error"]) == (400, "invalid_grant")
    assert "\n" not in wrong_token.json()["error_description"]
    assert (wrong_secret.status_code, wrong_secret.json()["error"]) == (401, "invalid_client")
    assert (wrong_grant.status_code, wrong_grant.json()["error"]) == (400, "unsupported_grant_type")
    assert other_tenant.status_code == 404
    assert [r.status_code for r in anonymous] == [401, 401, 401] and forged.status_code == 401
    assert anonymous[0].json()["error"].startswith("invalid or expired access token")
    assert good.status_code == 200


# --- workers and their bank details -----------------------------------------------------------------

async def test_workers_page_completely_and_stably_at_most_a_hundred_at_a_time(tenant: Tenant) -> None:
    workers = f"/ccx/api/v1/{TENANT}/workers"
    pages = [(await tenant.api.get(workers, params={"limit": 7, "offset": offset})).json() for offset in range(0, 42, 7)]
    again = (await tenant.api.get(workers, params={"limit": 100})).json()
    too_many = await tenant.api.get(workers, params={"limit": 101})
    default = (await tenant.api.get(workers)).json()

    listed = [w for page in pages for w in page["data"]]
    assert {page["total"] for page in pages} == {40} and len(listed) == 40
    assert listed == again["data"] and len(default["data"]) == 20
    assert [w["workerId"] for w in listed] == [f"W{i:06d}" for i in range(40)]
    assert len({w["id"] for w in listed}) == 40 and all(len(w["id"]) == 32 for w in listed)
    assert too_many.status_code == 400 and "limit" in too_many.json()["error"]
    first = listed[0]
    one = (await tenant.api.get(f"{workers}/{first['id']}")).json()
    assert one == first and (await tenant.api.get(f"{workers}/W000000")).json() == first
    assert (await tenant.api.get(f"{workers}/W000040")).status_code == 404    # beyond the workforce


async def test_payment_elections_page_in_bulk_and_agree_with_each_workers_own(tenant: Tenant) -> None:
    germans = (await tenant.report(ELECTIONS, Legal_Entity="DE01", limit=100)).json()
    everyone = [row for offset in (0, 25) for row in
                (await tenant.report(ELECTIONS, offset=offset, limit=25)).json()["Report_Entry"]]
    assert len(everyone) == 40 and germans["total"] == len(germans["Report_Entry"]) == sum(
        row["Legal_Entity"] == "DE01" for row in everyone)
    for row in germans["Report_Entry"]:
        assert IBAN(row["IBAN"], validate_bban=True).bic == row["BIC"] and row["Currency"] == "EUR"
    american = next(row for row in everyone if row["Legal_Entity"] == "US01")
    assert "IBAN" not in american and american["Account_Number"].isdigit()
    own = (await tenant.api.get(f"/ccx/api/v1/{TENANT}/workers/{american['Worker_ID']}/paymentElections")).json()
    (election,) = own["data"]
    assert election["bankAccount"] == {"bankIdentificationCode": american["BIC"],
                                       "accountNumber": american["Account_Number"]}
    assert election["distribution"] == {"percent": "100"}


# --- results, payslips, control totals --------------------------------------------------------------

async def test_every_employees_payslip_adds_up_in_their_entitys_currency(tenant: Tenant) -> None:
    run = await finalized(tenant)
    rows = await tenant.all_results(run["id"])
    workforce = Workforce(load_company())
    for worker, payslip in by_worker(rows).items():
        employee = workforce.employee(int(worker[1:]))
        assert off_balance(payslip) == 0, payslip
        assert {r["Currency"] for r in payslip} == {employee.currency}
        assert {(r["Legal_Entity"], r["Cost_Center"]) for r in payslip} == {(employee.entity, employee.cost_center)}
        components = [r["Pay_Component"] for r in payslip]
        assert components[0] == "SALARY" and components[-1] == "NET_PAY"
        assert {"WAGE_TAX", "SOCIAL_EE", "BENEFITS_EE", "SOCIAL_ER"} <= set(components)
        assert all(Decimal(r["Amount"]) > 0 and Decimal(r["Amount"]).as_tuple().exponent == -2 for r in payslip)
        salary = Decimal(payslip[0]["Amount"])
        assert abs(salary - employee.monthly_salary) <= employee.monthly_salary / 100   # a drift of 1% at most
    assert {r["Period_End_Date"] for r in rows} == {"2026-03-31"} and {r["Pay_Run_ID"] for r in rows} == {run["id"]}


async def test_results_page_completely_and_stably_whatever_the_page_size(tenant: Tenant) -> None:
    run = await finalized(tenant)
    whole = (await tenant.report(RESULTS, Pay_Run_ID=run["id"], limit=10_000)).json()
    assert whole["total"] == len(whole["Report_Entry"]) and whole["version"] == 1
    for page in (1, 7, 100):
        assert await tenant.all_results(run["id"], page=page) == whole["Report_Entry"]
    resumed = (await tenant.report(RESULTS, Pay_Run_ID=run["id"], offset=100, limit=50)).json()["Report_Entry"]
    assert resumed == whole["Report_Entry"][100:150]
    assert (await tenant.report(RESULTS, Pay_Run_ID=run["id"], offset=whole["total"])).json()["Report_Entry"] == []
    assert len(by_worker(whole["Report_Entry"])) == 40
    assert (await tenant.report(RESULTS, Pay_Run_ID=run["id"], limit=10_001)).status_code == 400


async def test_control_totals_are_the_sums_of_the_rows_per_entity_and_currency(tenant: Tenant) -> None:
    run = await finalized(tenant)
    rows = await tenant.all_results(run["id"])
    totals = (await tenant.report(TOTALS, Pay_Run_ID=run["id"])).json()["Report_Entry"]
    assert sorted((t["Legal_Entity"], t["Currency"]) for t in totals) == [("DE01", "EUR"), ("US01", "USD")]
    assert stated_by_entity(totals) == sums_by_entity(rows)


async def test_an_employee_is_paid_the_same_whatever_the_headcount(tmp_path: Path) -> None:
    async with workday_tenant(tmp_path / "small.db", employees=10) as small:
        few = by_worker(await small.all_results((await finalized(small))["id"]))
    async with workday_tenant(tmp_path / "large.db", employees=60) as large:
        many = by_worker(await large.all_results((await finalized(large))["id"]))
    assert len(few) == 10 and len(many) == 60
    assert all(few[worker] == many[worker] for worker in few)


async def test_the_next_period_pays_the_same_people_a_little_differently(tenant: Tenant) -> None:
    march = by_worker(await tenant.all_results((await finalized(tenant, MARCH))["id"]))
    april = by_worker(await tenant.all_results((await finalized(tenant, APRIL))["id"]))
    assert march.keys() == april.keys()
    salaries = [(Decimal(march[w][0]["Amount"]), Decimal(april[w][0]["Amount"])) for w in march]
    assert sum(m != a for m, a in salaries) > 30 and all(abs(m - a) < m / 40 for m, a in salaries)


# --- the run's life and its events ------------------------------------------------------------------

async def test_finalize_reopen_finalize_cancel_each_send_a_signed_event_with_the_version(tenant: Tenant) -> None:
    run = await tenant.driver.create_run(MARCH, payment_date=date(2026, 3, 27))
    steps = [await tenant.driver.finalize(run["id"], "maria.schmidt"),
             await tenant.driver.reopen(run["id"], "oliver.payroll"),
             await tenant.driver.finalize(run["id"], "maria.schmidt"),
             await tenant.driver.cancel(run["id"], "oliver.payroll")]
    received = await tenant.hooks.wait_for(4)

    assert [(s["status"], s["version"], s["lastActionBy"]) for s in steps] == [
        ("Finalized", 1, "maria.schmidt"), ("Reopened", 1, "oliver.payroll"), ("Finalized", 2, "maria.schmidt"),
        ("Cancelled", 2, "oliver.payroll")]
    verifier = Verifier([PAYROLL_SECRET])
    assert [verifier.verify(headers, body) for headers, body in received] == [h["webhook-id"] for h, _ in received]
    events = tenant.hooks.events()
    assert [e["type"] for e in events] == ["payroll.run.finalized", "payroll.run.reopened", "payroll.run.finalized",
                                           "payroll.run.cancelled"]
    assert [e["data"] for e in events] == steps
    assert events[0]["data"]["finalizedBy"] == "maria.schmidt" and events[0]["data"]["paymentDate"] == "2026-03-27"
    assert {"headcount", "payGroup", "periodStartDate", "periodEndDate"} <= set(events[0]["data"])
    assert not any("W0000" in body.decode() for _, body in received)    # thin: no employee in an event


async def test_a_run_moves_only_as_payroll_allows_and_its_versions_stay_readable(tenant: Tenant) -> None:
    run = await tenant.driver.create_run(MARCH)
    draft = await tenant.report(RESULTS, Pay_Run_ID=run["id"])
    with pytest.raises(DriverError, match="409.*only a run that is Finalized can be reopened"):
        await tenant.driver.reopen(run["id"], "oliver.payroll")
    with pytest.raises(DriverError, match="409.*already has pay run"):
        await tenant.driver.create_run(MARCH)
    first = await tenant.driver.finalize(run["id"], "maria.schmidt")
    with pytest.raises(DriverError, match="409"):
        await tenant.driver.finalize(run["id"], "maria.schmidt")
    await tenant.driver.reopen(run["id"], "oliver.payroll")
    await tenant.driver.plant_faults(run["id"], {"bonus": {"entity": "US01", "percentOfSalary": "10"}})
    second = await tenant.driver.finalize(run["id"], "maria.schmidt")

    assert draft.status_code == 400 and "no finalized results yet" in draft.json()["error"]
    v1 = await tenant.all_results(run["id"], Version=1)
    v2 = await tenant.all_results(run["id"])
    assert (first["version"], second["version"]) == (1, 2) and v1 != v2
    assert v1 == await tenant.all_results(run["id"], Version=1)          # a finalized version never changes
    assert (await tenant.report(RESULTS, Pay_Run_ID=run["id"], Version=3)).status_code == 400
    assert (await tenant.report(RESULTS, Pay_Run_ID="PAYRUN-999999")).status_code == 404
    assert (await tenant.report("Secret_Salaries", Pay_Run_ID=run["id"])).status_code == 404
    assert (await tenant.api.get(f"/ccx/service/customreport2/{TENANT}/ISU_Finsync/{RESULTS}",
                                 params={"Pay_Run_ID": run["id"]})).status_code == 400   # format=json missing


async def test_pay_runs_list_what_changed_since_and_show_one(tenant: Tenant) -> None:
    march = await finalized(tenant, MARCH)
    since = tenant.clock.at.isoformat()
    april = await finalized(tenant, APRIL)
    runs = f"/ccx/api/payroll/v1/{TENANT}/payRuns"
    everything = (await tenant.api.get(runs)).json()
    recent = (await tenant.api.get(runs, params={"updatedFrom": since})).json()
    assert [r["id"] for r in everything["data"]] == [march["id"], april["id"]] and everything["total"] == 2
    assert [r["id"] for r in recent["data"]] == [april["id"]]
    assert (await tenant.api.get(f"{runs}/{april['id']}")).json() == april
    assert (await tenant.api.get(f"{runs}/PAYRUN-4711")).status_code == 404
    assert (await tenant.api.get(runs, params={"updatedFrom": "yesterday"})).status_code == 400


# --- pay inputs -------------------------------------------------------------------------------------

async def test_a_pay_input_is_created_once_per_reference_and_checked(tenant: Tenant) -> None:
    inputs = f"/ccx/api/payroll/v1/{TENANT}/payInputs"
    german = next(e for e in Workforce(load_company()).employees(40) if e.country == "DE")
    body = {"worker": german.worker_id, "payComponent": "EXPENSE_REIMB", "amount": "86.40", "currency": "EUR",
            "reference": "concur:RPT-1"}
    created = await tenant.api.post(inputs, json=body)
    repeated = await tenant.api.post(inputs, json=body)
    conflicting = await tenant.api.post(inputs, json={**body, "amount": "90.00"})
    changes: list[dict[str, Any]] = [{"currency": "USD"}, {"worker": "W000999"}, {"amount": "12.345"}, {"amount": "-5.00"},
                                     {"payComponent": "BONUS"}, {"worker": None}]
    refused = [await tenant.api.post(inputs, json={**body, "reference": f"r{i}", **change})
               for i, change in enumerate(changes)]

    assert created.status_code == 201 and repeated.status_code == 200 and repeated.json() == created.json()
    assert created.json()["amount"] == "86.40" and created.json()["payRun"] is None
    assert conflicting.status_code == 409 and created.json()["id"] in conflicting.json()["error"]
    assert [r.status_code for r in refused] == [400] * 6
    assert (await tenant.api.get(f"{inputs}/{created.json()['id']}")).json() == created.json()


async def test_a_pay_input_is_paid_in_the_next_run_kept_on_reopen_and_released_by_cancel(tenant: Tenant) -> None:
    german = next(e for e in Workforce(load_company()).employees(40) if e.country == "DE")
    await tenant.api.post(f"/ccx/api/payroll/v1/{TENANT}/payInputs", json={
        "worker": german.worker_id, "payComponent": "EXPENSE_REIMB", "amount": "86.40", "currency": "EUR",
        "reference": "concur:RPT-1"})

    def reimbursed(rows: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
        return [(r["Worker_ID"], r["Amount"], r["Reference"]) for r in rows if r["Pay_Component"] == "EXPENSE_REIMB"]

    march = await finalized(tenant, MARCH)
    v1 = await tenant.all_results(march["id"])
    await tenant.driver.reopen(march["id"], "oliver.payroll")
    await tenant.driver.finalize(march["id"], "maria.schmidt")
    v2 = await tenant.all_results(march["id"])
    await tenant.driver.cancel(march["id"], "oliver.payroll")
    april = await finalized(tenant, APRIL)
    april_rows = await tenant.all_results(april["id"])
    later = await finalized(tenant, date(2026, 5, 1))

    paid = [(german.worker_id, "86.40", "concur:RPT-1")]
    assert reimbursed(v1) == reimbursed(v2) == reimbursed(april_rows) == paid
    assert reimbursed(await tenant.all_results(later["id"])) == []        # paid once it stays paid
    payslip = by_worker(april_rows)[german.worker_id]
    assert off_balance(payslip) == 0
    totals = (await tenant.report(TOTALS, Pay_Run_ID=april["id"])).json()["Report_Entry"]
    assert {t["Legal_Entity"]: t["Reimbursements"] for t in totals} == {"DE01": "86.40", "US01": "0.00"}


# --- planted faults ---------------------------------------------------------------------------------

async def test_planted_faults_show_as_a_variance_an_unbalanced_payslip_and_totals_off(tenant: Tenant) -> None:
    normal = by_worker(await tenant.all_results((await finalized(tenant, MARCH))["id"]))
    run = await finalized(tenant, APRIL, faults={
        "bonus": {"entity": "DE01", "percentOfSalary": "30"},
        "unbalancedWorker": {"worker": "W000005", "amount": "0.01"},
        "controlTotalsOff": {"entity": "US01", "total": "netPay", "amount": "-100.00"}})
    rows = await tenant.all_results(run["id"])
    totals = {t["Legal_Entity"]: t for t in (await tenant.report(TOTALS, Pay_Run_ID=run["id"])).json()["Report_Entry"]}

    workforce = Workforce(load_company())
    germans = [w for w in by_worker(rows) if workforce.employee(int(w[1:])).entity == "DE01"]
    for worker in germans:
        bonus = next(r for r in rows if r["Worker_ID"] == worker and r["Pay_Component"] == "BONUS")
        assert Decimal(bonus["Amount"]) == (workforce.employee(int(worker[1:])).monthly_salary * Decimal("0.3")
                                            ).quantize(Decimal("0.01"))
    net = {w: sum(Decimal(r["Amount"]) for r in payslip if r["Pay_Component"] == "NET_PAY")
           for w, payslip in by_worker(rows).items()}
    before = {w: Decimal(normal[w][-1]["Amount"]) for w in normal}
    assert sum(net[w] for w in germans) > Decimal("1.15") * sum(before[w] for w in germans)

    unbalanced = {w: off_balance(payslip) for w, payslip in by_worker(rows).items() if off_balance(payslip)}
    assert unbalanced == {"W000005": Decimal("-0.01")}

    us_rows = [r for r in rows if r["Legal_Entity"] == "US01"]
    us_net = sum(Decimal(r["Amount"]) for r in us_rows if r["Pay_Component"] == "NET_PAY")
    assert Decimal(totals["US01"]["Net_Pay"]) == us_net - 100
    de_net = sum(Decimal(r["Amount"]) for r in rows if r["Legal_Entity"] == "DE01" and r["Pay_Component"] == "NET_PAY")
    assert Decimal(totals["DE01"]["Net_Pay"]) == de_net
    assert Counter(r["Pay_Component"] for r in rows)["BONUS"] >= len(germans)


async def test_faults_are_refused_in_one_line_when_malformed_or_too_late(tenant: Tenant) -> None:
    run = await finalized(tenant)
    with pytest.raises(DriverError, match="409"):
        await tenant.driver.plant_faults(run["id"], {"bonus": {"entity": "DE01", "percentOfSalary": "30"}})
    draft = await tenant.driver.create_run(APRIL)
    with pytest.raises(DriverError, match="400.*faults bonus.percentOfSalary"):
        await tenant.driver.plant_faults(draft["id"], {"bonus": {"entity": "DE01", "percentOfSalary": "3.001"}})
    with pytest.raises(DriverError, match="400.*faults surprise"):
        await tenant.driver.plant_faults(draft["id"], {"surprise": True})


# --- the company file's named employees on the payroll ----------------------------------------------

NAMED = [employee["id"] for employee in load_company()["employees"]]          # E1000 ... E1005, E2000 ... E2004
INPUTS = f"/ccx/api/payroll/v1/{TENANT}/payInputs"


@pytest.fixture
async def staffed(tmp_path: Path) -> AsyncIterator[Tenant]:
    """40 generated workers and the company file's 11 named employees."""
    async with workday_tenant(tmp_path / "staffed.db", employees=40, company_staff=True) as built:
        yield built


def reimbursed(rows: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(r["Worker_ID"], r["Amount"], r["Reference"]) for r in rows if r["Pay_Component"] == "EXPENSE_REIMB"]


def net_pay(payslip: list[dict[str, Any]]) -> Decimal:
    (net,) = [Decimal(r["Amount"]) for r in payslip if r["Pay_Component"] == "NET_PAY"]
    return net


async def test_with_company_staff_the_named_employees_are_workers_with_their_own_bank_accounts(staffed: Tenant) -> None:
    workers = f"/ccx/api/v1/{TENANT}/workers"
    pages = [(await staffed.api.get(workers, params={"limit": 25, "offset": offset})).json() for offset in (0, 25, 50)]
    jonas = (await staffed.api.get(f"{workers}/E2001")).json()
    by_wid = (await staffed.api.get(f"{workers}/{jonas['id']}")).json()
    (election,) = (await staffed.api.get(f"{workers}/E2001/paymentElections")).json()["data"]
    germans = (await staffed.report(ELECTIONS, Legal_Entity="DE01", limit=100)).json()
    americans = (await staffed.report(ELECTIONS, Legal_Entity="US01", limit=100)).json()["Report_Entry"]
    async with httpx.AsyncClient(base_url=staffed.url) as http:
        setting = (await http.get("/_sandbox/workforce")).json()

    assert {page["total"] for page in pages} == {51} and setting == {"employees": 40, "companyStaff": True, "seed": 0}
    assert [w["workerId"] for page in pages for w in page["data"]] == [f"W{i:06d}" for i in range(40)] + NAMED
    assert by_wid == jonas and len(jonas["id"]) == 32
    assert (jonas["descriptor"], jonas["company"]["id"], jonas["costCenter"]["id"]) == ("Jonas Becker", "DE01", "CC-4100")
    assert election["bankAccount"] == {"bankIdentificationCode": "DEUTDEFFXXX", "iban": "DE12500105170648489890"}
    assert election["currency"] == {"id": "EUR"}
    row = next(r for r in germans["Report_Entry"] if r["Worker_ID"] == "E2001")
    assert (row["Worker"], row["IBAN"], row["BIC"], row["Currency"]) == (
        "Jonas Becker", "DE12500105170648489890", "DEUTDEFFXXX", "EUR")
    assert [r["Worker_ID"] for r in germans["Report_Entry"]][-5:] == NAMED[-5:] and germans["total"] == 22
    maya = next(r for r in americans if r["Worker_ID"] == "E1000")
    assert (maya["Account_Number"], maya["BIC"], maya["Currency"]) == ("100000000001", "CHASUS33XXX", "USD")
    assert "IBAN" not in maya


async def test_a_named_employees_pay_input_raises_their_net_pay_by_the_amount_and_the_register_counts_it(
        staffed: Tenant) -> None:
    run = await finalized(staffed)
    before = by_worker(await staffed.all_results(run["id"]))
    body = {"worker": "E2001", "payComponent": "EXPENSE_REIMB", "amount": "86.40", "currency": "EUR",
            "reference": "concur:RPT-E2001"}
    created = await staffed.api.post(INPUTS, json=body)
    in_dollars = await staffed.api.post(INPUTS, json={**body, "currency": "USD", "reference": "concur:RPT-USD"})
    await staffed.driver.reopen(run["id"], "oliver.payroll")
    second = await staffed.driver.finalize(run["id"], "maria.schmidt")       # the next finalized run: version 2
    rows = await staffed.all_results(run["id"])
    after = by_worker(rows)
    totals = (await staffed.report(TOTALS, Pay_Run_ID=run["id"])).json()["Report_Entry"]
    paid = (await staffed.api.get(f"{INPUTS}/{created.json()['id']}")).json()

    assert created.status_code == 201 and in_dollars.status_code == 400 and "paid in EUR" in in_dollars.json()["error"]
    assert reimbursed(rows) == [("E2001", "86.40", "concur:RPT-E2001")]
    assert net_pay(after["E2001"]) - net_pay(before["E2001"]) == Decimal("86.40")
    assert off_balance(after["E2001"]) == 0
    assert {w: p for w, p in after.items() if w != "E2001"} == {w: p for w, p in before.items() if w != "E2001"}
    assert paid["payRun"] == {"id": run["id"], "version": 2}
    assert list(after) == [f"W{i:06d}" for i in range(40)] + NAMED
    assert second["headcount"] == sum(int(t["Headcount"]) for t in totals) == 51
    assert stated_by_entity(totals) == sums_by_entity(rows)
    assert {t["Legal_Entity"]: t["Reimbursements"] for t in totals} == {"DE01": "86.40", "US01": "0.00"}


async def test_without_company_staff_a_named_employee_is_refused_and_a_run_pays_as_it_always_did(tenant: Tenant) -> None:
    refused = await tenant.api.post(INPUTS, json={"worker": "E2001", "payComponent": "EXPENSE_REIMB", "amount": "86.40",
                                                  "currency": "EUR", "reference": "concur:RPT-E2001"})
    lookup = await tenant.api.get(f"/ccx/api/v1/{TENANT}/workers/E2001")
    run = await finalized(tenant)
    rows = await tenant.all_results(run["id"])
    totals = (await tenant.report(TOTALS, Pay_Run_ID=run["id"])).json()["Report_Entry"]

    assert refused.status_code == 400 and refused.json()["error"] == "invalid request: no worker with Employee ID 'E2001'."
    assert lookup.status_code == 404
    # The figures this run had before named employees could be on the payroll at all.
    assert run["headcount"] == 40 and len(rows) == 243 and list(by_worker(rows)) == [f"W{i:06d}" for i in range(40)]
    assert [(t["Legal_Entity"], t["Headcount"], t["Earnings"], t["Net_Pay"]) for t in totals] == [
        ("DE01", "17", "102085.92", "57952.27"), ("US01", "23", "230359.92", "159160.74")]


async def test_a_run_keeps_whether_it_pays_the_named_employees_from_when_it_was_created(tenant: Tenant) -> None:
    before = await tenant.driver.create_run(MARCH)
    turned_on = await tenant.driver.set_workforce(40, company_staff=True)
    march = [await tenant.driver.finalize(before["id"], "maria.schmidt")]
    await tenant.driver.reopen(before["id"], "oliver.payroll")
    march.append(await tenant.driver.finalize(before["id"], "maria.schmidt"))
    april = [await finalized(tenant, APRIL)]
    await tenant.driver.set_workforce(40)                                       # and off again
    await tenant.driver.reopen(april[0]["id"], "oliver.payroll")
    april.append(await tenant.driver.finalize(april[0]["id"], "maria.schmidt"))

    async def paid(run: dict[str, Any]) -> list[str]:
        return list(by_worker(await tenant.all_results(run["id"], Version=run["version"])))

    async def register_headcount(run: dict[str, Any]) -> int:
        totals = (await tenant.report(TOTALS, Pay_Run_ID=run["id"], Version=run["version"])).json()["Report_Entry"]
        return sum(int(t["Headcount"]) for t in totals)

    generated = [f"W{i:06d}" for i in range(40)]
    assert turned_on["companyStaff"] is True
    assert [(r["version"], r["headcount"]) for r in march] == [(1, 40), (2, 40)] and before["headcount"] == 40
    assert [await paid(r) for r in march] == [generated, generated]
    assert [(r["version"], r["headcount"]) for r in april] == [(1, 51), (2, 51)]
    assert [await paid(r) for r in april] == [generated + NAMED] * 2
    assert [await register_headcount(r) for r in march + april] == [40, 40, 51, 51]


async def test_the_company_staff_setting_is_checked_and_kept_until_changed(tmp_path: Path) -> None:
    async with workday_tenant(tmp_path / "workday.db", company_staff=True) as first:
        async with httpx.AsyncClient(base_url=first.url) as http:
            malformed = await http.put("/_sandbox/workforce", json={"employees": 40, "companyStaff": "yes"})
            resized = (await http.put("/_sandbox/workforce", json={"employees": 30})).json()
    async with workday_tenant(tmp_path / "workday.db", employees=30) as restarted:
        async with httpx.AsyncClient(base_url=restarted.url) as http:
            kept = (await http.get("/_sandbox/workforce")).json()
        listed = (await restarted.api.get(f"/ccx/api/v1/{TENANT}/workers", params={"offset": 25, "limit": 10})).json()

    assert malformed.status_code == 400 and malformed.json()["error"] == (
        "invalid request: companyStaff must be true, false or a list of the company file's Employee IDs.")
    assert resized == kept == {"employees": 30, "companyStaff": True, "seed": 0}
    assert listed["total"] == 41 and [w["workerId"] for w in listed["data"]] == [f"W{i:06d}" for i in range(25, 30)] + NAMED[:5]


async def test_a_database_from_before_runs_recorded_company_staff_opens_and_its_runs_pay_as_before(tmp_path: Path) -> None:
    async with workday_tenant(tmp_path / "workday.db") as old:
        run = await old.driver.create_run(MARCH)
    engine = sqlite_engine(tmp_path / "workday.db")
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE workday_pay_run DROP COLUMN company_staff")
    engine.dispose()
    async with workday_tenant(tmp_path / "workday.db", company_staff=True) as reopened:
        finalized_run = await reopened.driver.finalize(run["id"], "maria.schmidt")
        rows = await reopened.all_results(run["id"])

    assert finalized_run["headcount"] == 40 and list(by_worker(rows)) == [f"W{i:06d}" for i in range(40)]


async def test_a_list_of_employee_ids_puts_just_those_named_employees_on_the_payroll_and_in_runs_made_then(
        tenant: Tenant) -> None:
    setting = await tenant.driver.set_workforce(40, company_staff=["E1001"])
    listed = (await tenant.api.get(f"/ccx/api/v1/{TENANT}/workers", params={"limit": 100})).json()
    body = {"payComponent": "EXPENSE_REIMB", "amount": "120.00", "currency": "USD"}
    refused = await tenant.api.post(INPUTS, json={**body, "worker": "E1002", "reference": "concur:RPT-E1002"})
    accepted = await tenant.api.post(INPUTS, json={**body, "worker": "E1001", "reference": "concur:RPT-E1001"})
    draft = await tenant.driver.create_run(MARCH)
    await tenant.driver.set_workforce(40, company_staff=True)                   # later settings leave the run alone
    run = await tenant.driver.finalize(draft["id"], "maria.schmidt")
    rows = await tenant.all_results(run["id"])
    totals = (await tenant.report(TOTALS, Pay_Run_ID=run["id"])).json()["Report_Entry"]

    generated = [f"W{i:06d}" for i in range(40)]
    assert setting == {"employees": 40, "companyStaff": ["E1001"], "seed": 0}
    assert listed["total"] == 41 and [w["workerId"] for w in listed["data"]] == [*generated, "E1001"]
    assert refused.status_code == 400 and refused.json()["error"] == "invalid request: no worker with Employee ID 'E1002'."
    assert accepted.status_code == 201
    assert draft["headcount"] == run["headcount"] == 41 and list(by_worker(rows)) == [*generated, "E1001"]
    assert reimbursed(rows) == [("E1001", "120.00", "concur:RPT-E1001")]
    assert stated_by_entity(totals) == sums_by_entity(rows) and sum(int(t["Headcount"]) for t in totals) == 41


async def test_a_list_of_employee_ids_is_checked_against_the_company_file_and_kept_in_its_order(
        tenant: Tenant, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=tenant.url) as http:
        unknown = await http.put("/_sandbox/workforce", json={"employees": 40, "companyStaff": ["E1001", "E9999"]})
        not_an_id = await http.put("/_sandbox/workforce", json={"employees": 40, "companyStaff": [1001]})
        unchanged = (await http.get("/_sandbox/workforce")).json()
        reordered = (await http.put("/_sandbox/workforce",
                                    json={"employees": 40, "companyStaff": ["E2004", "E1001", "E2004"]})).json()
    listed = (await tenant.api.get(f"/ccx/api/v1/{TENANT}/workers", params={"offset": 40})).json()

    assert unknown.status_code == 400
    assert unknown.json()["error"] == "invalid request: companyStaff: the company file has no employee with Employee ID 'E9999'."
    assert not_an_id.status_code == 400 and "Employee ID 1001." in not_an_id.json()["error"]
    assert unchanged["companyStaff"] is False
    assert reordered["companyStaff"] == ["E1001", "E2004"]
    assert [w["workerId"] for w in listed["data"]] == ["E1001", "E2004"]
    with pytest.raises(ValueError, match="'E9999'"):
        async with workday_tenant(tmp_path / "other.db", company_staff=["E9999"]):
            pass


async def test_runs_that_recorded_company_staff_as_a_boolean_pay_all_or_none_of_the_named_employees(
        tmp_path: Path) -> None:
    async with workday_tenant(tmp_path / "workday.db") as old:
        march, april = await old.driver.create_run(MARCH), await old.driver.create_run(APRIL)
    engine = sqlite_engine(tmp_path / "workday.db")
    with engine.begin() as conn:                                      # the column as a boolean, as it once was
        conn.exec_driver_sql("ALTER TABLE workday_pay_run DROP COLUMN company_staff")
        conn.exec_driver_sql("ALTER TABLE workday_pay_run ADD COLUMN company_staff BOOLEAN NOT NULL DEFAULT 0")
        conn.exec_driver_sql("UPDATE workday_pay_run SET company_staff = 1 WHERE id = ?", (april["id"],))
    engine.dispose()
    async with workday_tenant(tmp_path / "workday.db", company_staff=["E1001"]) as reopened:
        none = await reopened.driver.finalize(march["id"], "maria.schmidt")
        every = await reopened.driver.finalize(april["id"], "maria.schmidt")
        paid = [list(by_worker(await reopened.all_results(run["id"]))) for run in (none, every)]

    generated = [f"W{i:06d}" for i in range(40)]
    assert (none["headcount"], every["headcount"]) == (40, 51)
    assert paid == [generated, generated + NAMED]
