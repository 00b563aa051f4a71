"""A process that carries an employee's details everywhere Temporal keeps a payload: its input,
an activity's input and result, a signal, and a failure's message. For the codec tests."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError


@activity.defn
async def read_bank_account(employee: str) -> str:
    return f"IBAN of {employee}"


@activity.defn
async def pay(employee: str) -> None:
    raise ApplicationError(f"AC04 closed account of {employee}", non_retryable=True)


@workflow.defn
class EmployeeProbe:
    def __init__(self) -> None:
        self._approved_by: str | None = None

    @workflow.signal
    def approve(self, approver: str) -> None:
        self._approved_by = approver

    @workflow.run
    async def run(self, employee: str) -> str:
        account = await workflow.execute_activity(read_bank_account, employee,
                                                  start_to_close_timeout=timedelta(seconds=10))
        workflow.set_current_details(f"paying {employee}")
        await workflow.wait_condition(lambda: self._approved_by is not None)
        try:
            await workflow.execute_activity(pay, employee, start_to_close_timeout=timedelta(seconds=10),
                                            retry_policy=RetryPolicy(maximum_attempts=1))
        except ActivityError as error:
            raise ApplicationError(f"{employee} was not paid ({account})", non_retryable=True) from error
        return account
