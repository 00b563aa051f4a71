"""The shared runtime's contract (tests/workflows/common/runtime_contract.py), met by the expense process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest
from temporalio.testing import WorkflowEnvironment

from canonical import ApprovalStatus
from tests.workflows.common.runtime_contract import Parked, RuntimeContract, cancelling_ends_it
from tests.workflows.harness import Run, running
from tests.workflows.world import World, report
from workflows.expense.model import BusinessStatus


def parked(run: Run, code: str, **more: Any) -> Parked:
    async def business_status() -> str:
        return (await run.snapshot()).status.value
    return Parked(handle=run.handle, store=run.store, code=code, business_status=business_status, **more)


@asynccontextmanager
async def approved(env: WorkflowEnvironment, world: World, tmp_path: Path) -> AsyncIterator[Run]:
    async with running(env, world, tmp_path) as run:
        await run.until_status(BusinessStatus.AWAITING_APPROVAL)
        await run.platform_says(ApprovalStatus.APPROVED)
        yield run


class TestExpenseRuntimeContract(RuntimeContract):
    PROCESS = "expense"
    NOT_OFFERED = {"action": "set_posting_date", "posting_date": "2026-11-30"}   # a date cannot fix a cost center
    RESUMED = frozenset({BusinessStatus.POSTED.value, BusinessStatus.PAYMENT_SENT.value, BusinessStatus.PAID.value})

    @asynccontextmanager
    async def parked_on_a_refusal(self, env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Parked]:
        """The ERP refuses the approved report's journal: its cost center is inactive there."""
        world = World(report("C1", cost_center="CC-1500"), erp_refused_cost_centers={"CC-1500"})
        async with approved(env, world, tmp_path) as run:
            yield parked(run, "COST_CENTER_INACTIVE", fix=world.erp_refused_cost_centers.clear)

    @asynccontextmanager
    async def parked_after_payment(self, env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Parked]:
        """Paid, then recalled by the employee: the platform cannot record the payment."""
        world = World(report("C2"), recall_on_settlement=True)
        async with approved(env, world, tmp_path) as run:
            yield parked(run, "PAID_BUT_RECALLED")

    def parked_on_two_items(self, env: WorkflowEnvironment, tmp_path: Path) -> NoReturn:
        pytest.skip("an expense report parks as a whole, one exception at a time: it has no items to resolve apart")

    async def test_cancel_offered_when_the_report_cannot_be_read_ends_it_cancelled(
            self, time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
        world = World(report("C3"), report_missing=True)
        async with running(time_skipping_env, world, tmp_path) as run:
            await cancelling_ends_it(parked(run, "REPORT_NOT_FOUND"))
