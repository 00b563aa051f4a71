"""Reimbursement through payroll, both sides of the hand-off (canonical/payroll_reimbursement.py).

The expense process hands a reimbursement to the payroll system (``hand_to_payroll``) and reads
whether it was paid (``reimbursement_paid``: the poll that catches a lost signal). The payroll
process, once the bank took a net-pay file, records the reimbursements that file paid and tells
each expense workflow (``settle_reimbursements``). All run on the payroll provider's task queue.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel
from temporalio import activity

from activities.errors import vendor_call
from canonical.payroll import PayrollRunRef
from canonical.payroll_reimbursement import PayrollReimbursement, ReimbursementPaid, ReimbursementRef
from connectors.interfaces import PayrollProvider

if TYPE_CHECKING:
    from finsync.store import IntegrationStore  # handed in by worker.py: workflows import this module


class ReimbursementOwners(Protocol):
    """Gives an expense workflow payroll's word on its reimbursement (its signal); False when
    the workflow has ended. worker.py hands it in: no activity imports a workflow."""

    async def __call__(self, expense_workflow_id: str, paid: ReimbursementPaid, /) -> bool: ...


class SettleRequest(BaseModel):
    """A net-pay file the bank took: the reimbursements its transfers carried are paid."""

    run: PayrollRunRef
    message_id: str
    paid_on: date


class PayrollReimbursementActivities:
    def __init__(self, provider: PayrollProvider, store: IntegrationStore, owners: ReimbursementOwners) -> None:
        self.provider = provider
        self.store = store
        self.owners = owners

    @activity.defn
    async def hand_to_payroll(self, handoff: PayrollReimbursement) -> None:
        """A pay input for the worker's next run, then the record of who to tell. Both are once per
        reference, so a retry after either changes nothing; a refusal parks the expense report."""
        async with vendor_call():
            await self.provider.add_pay_input(handoff.worker_id, handoff.component, handoff.amount,
                                              handoff.reference)
        await asyncio.to_thread(self.store.record_handoff, handoff)

    @activity.defn
    async def reimbursement_paid(self, ref: ReimbursementRef) -> ReimbursementPaid | None:
        return await asyncio.to_thread(self.store.reimbursement_paid, ref.reference)

    @activity.defn
    async def settle_reimbursements(self, request: SettleRequest) -> int:
        """Record what the file paid and tell each expense workflow: how many it paid. The
        workflows are told again on a retry (they take the word once); one that has ended is
        passed over."""
        paid = await asyncio.to_thread(self._settle, request)
        for expense_workflow_id, word in paid:
            if not await self.owners(expense_workflow_id, word):
                activity.logger.info("reimbursement %s paid, but expense workflow %s has ended: not told",
                                     word.reference, expense_workflow_id)
        return len(paid)

    def _settle(self, request: SettleRequest) -> list[tuple[str, ReimbursementPaid]]:
        run_key = request.run.key
        workers = self.store.unpaid_reimbursement_workers(run_key)
        transfers = self.store.sent_transfers(run_key, request.message_id, workers) if workers else {}
        return self.store.settle_reimbursements(run_key, request.message_id, transfers, request.paid_on)
