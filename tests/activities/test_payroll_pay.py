"""Reading one employee's bank details again (activities/payroll_pay.py ``read_payee``), after the
bank rejected their net pay: the corrected account replaces the stored one, an employee the
payroll system has no account for leaves the store as it was, an unknown one parks. The payroll
system is the in-memory provider of the payroll workflow tests; the store is real."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.payroll_pay import EntityRun, PayrollPayeeActivities, WorkerPayee
from canonical.problems import BUSINESS_RULE_VIOLATION
from finsync.store import IntegrationStore
from tests.workflows.payroll.world import Provider, company, german_iban, payee, run_ref

RUN = run_ref()
Stored = tuple[Provider, IntegrationStore, PayrollPayeeActivities]


@pytest.fixture
async def stored(tmp_path: Path) -> Stored:
    """Every DE01 employee's bank details read for the run, as the entity's first payment did."""
    provider, store = Provider(rows={RUN.key: company()}), IntegrationStore(f"sqlite:///{tmp_path / 'store.db'}")
    payees = PayrollPayeeActivities(provider, store)
    assert await ActivityEnvironment().run(payees.read_payees, EntityRun(run=RUN, entity="DE01", currency="EUR")) == 4
    return provider, store, payees


async def test_the_corrected_account_replaces_the_one_that_failed(stored: Stored) -> None:
    provider, store, payees = stored
    new_iban = german_iban("0000700007")
    provider.corrected["W007"] = replace(payee("W007", "DE01"), iban=new_iban)   # fixed in Workday

    found = await ActivityEnvironment().run(payees.read_payee, WorkerPayee(run=RUN, entity="DE01", worker_id="W007"))

    corrected, neighbour = store.payee(RUN.key, "W007"), store.payee(RUN.key, "W006")
    assert found is True
    assert corrected is not None and (corrected.iban, corrected.name) == (new_iban, "Mitarbeiter 7")
    assert neighbour is not None and neighbour.iban == payee("W006", "DE01").iban


async def test_no_bank_details_in_payroll_answers_false_and_keeps_what_the_store_had(stored: Stored) -> None:
    provider, store, payees = stored
    provider.without_account.add("W008")

    found = await ActivityEnvironment().run(payees.read_payee, WorkerPayee(run=RUN, entity="DE01", worker_id="W008"))

    kept = store.payee(RUN.key, "W008")
    assert found is False and kept is not None and kept.iban == payee("W008", "DE01").iban


async def test_a_worker_of_another_entity_parks_with_the_payroll_systems_reason(stored: Stored) -> None:
    _, store, payees = stored

    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(payees.read_payee, WorkerPayee(run=RUN, entity="DE01", worker_id="W001"))

    assert refused.value.type == BUSINESS_RULE_VIOLATION and refused.value.non_retryable
    assert "in legal entity US01, not DE01" in refused.value.message
    assert store.payee(RUN.key, "W001") is None
