"""The generated workforce: the same employee for the same seed and index whatever the headcount,
spread over the entities' active cost centers, with bank accounts a bank takes (schwifty checks
the German ones, national check digit included) and about one closed account in 2,000; and the
company file's named employees as employees of the same workforce."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from schwifty import BIC, IBAN

from sandboxes.kit.company import load_company
from sandboxes.kit.workforce import MAX_EMPLOYEES, Workforce, closed_account, generated_account_index, worker_index

COMPANY = load_company()
ACTIVE_CENTERS = {(cc["entity"], cc["code"]) for cc in COMPANY["cost_centers"] if cc["active"]}
MONTHLY_SALARY_RANGE = {"US": (3750, 15417), "DE": (3166, 10000)}


@pytest.fixture(scope="module")
def fifty_thousand() -> list:
    return Workforce(COMPANY).employees(50_000)


def test_an_employee_is_the_same_whatever_the_headcount_and_changes_with_the_seed(fifty_thousand):
    assert Workforce(COMPANY).employees(100) == fifty_thousand[:100]
    assert Workforce(COMPANY).employee(43_210) == fifty_thousand[43_210]
    other = Workforce(COMPANY, seed=1).employees(100)
    alike = [a.name == b.name and a.monthly_salary == b.monthly_salary
             for a, b in zip(other, fifty_thousand[:100], strict=True)]
    assert sum(alike) < 10


def test_fifty_thousand_employees_are_generated_in_well_under_two_seconds():
    started = time.perf_counter()
    Workforce(COMPANY, seed=3).employees(50_000)
    assert time.perf_counter() - started < 2.0


def test_employees_spread_three_to_two_over_the_entities_and_only_over_active_cost_centers(fifty_thousand):
    entities = Counter(e.entity for e in fifty_thousand)
    assert 0.58 < entities["US01"] / 50_000 < 0.62 and entities["US01"] + entities["DE01"] == 50_000
    used = {(e.entity, e.cost_center) for e in fifty_thousand}
    assert used == ACTIVE_CENTERS                      # CC-1900 (closed) employs no one
    assert {(e.entity, e.currency, e.country) for e in fifty_thousand} == {("US01", "USD", "US"), ("DE01", "EUR", "DE")}


def test_worker_ids_are_unique_and_lead_back_to_their_employee(fifty_thousand):
    assert len({e.worker_id for e in fifty_thousand}) == 50_000
    assert fifty_thousand[123].worker_id == "W000123" and worker_index("W000123") == 123
    assert [worker_index(text) for text in ("W0000123", "X000123", "W12345", "W00012a", "")] == [None] * 5


def test_salaries_are_monthly_amounts_in_cents_within_the_countrys_range(fifty_thousand):
    for employee in fifty_thousand[:2000]:
        assert employee.monthly_salary.as_tuple().exponent == -2
        low, high = MONTHLY_SALARY_RANGE[employee.country]
        assert low <= employee.monthly_salary <= high, employee


def test_german_employees_have_valid_ibans_with_their_banks_bic(fifty_thousand):
    germans = [e for e in fifty_thousand if e.country == "DE"]
    assert len({e.iban for e in germans}) == len(germans)
    for employee in germans:
        iban = IBAN(employee.iban, validate_bban=True)   # mod-97 and the bank's own check digit
        assert iban.bic == BIC(employee.bic) and employee.account_number is None


def test_us_employees_have_an_account_number_and_a_bic(fifty_thousand):
    americans = [e for e in fifty_thousand if e.country == "US"]
    assert len({e.account_number for e in americans}) == len(americans)
    for employee in americans[:500]:
        assert employee.iban is None and employee.account_number.isdigit() and len(employee.account_number) == 12
        BIC(employee.bic, enforce_swift_compliance=True)


def test_about_one_account_in_two_thousand_is_closed_employee_7_first(fifty_thousand):
    closed = [e.index for e in fifty_thousand if closed_account(e.account_id)]
    assert closed[:3] == [7, 2007, 4007] and len(closed) == 25
    assert any(fifty_thousand[i].country == "DE" for i in closed) and any(fifty_thousand[i].country == "US" for i in closed)
    spaced = " ".join(fifty_thousand[closed[0]].account_id[i:i + 4] for i in range(0, 22, 4)).lower()
    assert closed_account(spaced)


def test_accounts_not_generated_here_are_never_closed_by_the_rule(fifty_thousand):
    seeded = [p.get("iban") or p["account_number"] for p in COMPANY["employees"] + COMPANY["suppliers"]]
    assert not any(closed_account(account) for account in seeded)
    german = next(e.iban for e in fifty_thousand if e.country == "DE" and e.index % 2000 == 7)
    tampered = german[:2] + f"{(int(german[2:4]) + 1) % 100:02d}" + german[4:]
    assert not closed_account(tampered) and not closed_account("") and not closed_account("DE" + "9" * 20)


def test_the_company_files_named_employees_keep_their_own_ids_places_and_bank_accounts():
    staff = Workforce(COMPANY).company_staff()
    named = COMPANY["employees"]
    assert [e.worker_id for e in staff] == [n["id"] for n in named] and len(staff) == 11
    for employee, entry in zip(staff, named, strict=True):
        assert (employee.name, employee.entity, employee.cost_center, employee.bic) == (
            entry["name"], entry["entity"], entry["cost_center"], entry["bic"])
        assert employee.account_id == (entry.get("iban") or entry["account_number"])
        assert (employee.country, employee.currency) == {"US01": ("US", "USD"), "DE01": ("DE", "EUR")}[employee.entity]
    jonas = next(e for e in staff if e.worker_id == "E2001")
    assert (jonas.iban, jonas.account_number) == ("DE12500105170648489890", None)


def test_named_employees_indexes_and_accounts_are_never_taken_for_generated_ones():
    staff = Workforce(COMPANY).company_staff()
    assert [e.index for e in staff] == list(range(MAX_EMPLOYEES, MAX_EMPLOYEES + len(staff)))   # past every generated one
    assert all(generated_account_index(e.account_id) is None for e in staff)
    assert not any(closed_account(e.account_id) for e in staff)      # E2004's closure is the bank's registry's to tell
    assert all(worker_index(e.worker_id) is None for e in staff)


def test_named_employees_salaries_come_from_the_seed_and_their_id_within_their_countrys_range():
    staff = Workforce(COMPANY).company_staff()
    assert Workforce(COMPANY).company_staff() == staff
    for employee in staff:
        low, high = MONTHLY_SALARY_RANGE[employee.country]
        assert low <= employee.monthly_salary <= high and employee.monthly_salary.as_tuple().exponent == -2
    reseeded = Workforce(COMPANY, seed=1).company_staff()
    assert sum(a.monthly_salary != b.monthly_salary for a, b in zip(staff, reseeded, strict=True)) >= 8
    assert len({e.monthly_salary for e in staff}) >= 8


@pytest.mark.parametrize("employee_id", ["W000001", 'E"1', ""])
def test_a_named_employee_whose_id_could_pass_for_a_generated_one_or_break_a_report_is_refused(employee_id):
    company = {**COMPANY, "employees": [{**COMPANY["employees"][0], "id": employee_id}]}
    with pytest.raises(ValueError, match="employee id"):
        Workforce(company).company_staff()
