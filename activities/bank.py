"""Activities on the bank; they run on its task queue."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from pydantic import BaseModel
from temporalio import activity

from activities.errors import is_retry, vendor_call
from canonical import BatchAcknowledgement, BatchSubmission, PaymentInstruction, PaymentStatusReport
from connectors.interfaces import Bank

if TYPE_CHECKING:
    from finsync.store import IntegrationStore  # handed in by worker.py: workflows import this module


class PaymentRef(BaseModel):
    message_id: str
    end_to_end_id: str


class BankActivities:
    def __init__(self, bank: Bank, store: IntegrationStore) -> None:
        self.bank = bank
        self.store = store

    @activity.defn(name="bank.send_payment")
    async def send_payment(self, instruction: PaymentInstruction) -> PaymentStatusReport:
        """Exactly once per MsgId/EndToEndId; the route is stored first so the bank's
        status webhooks can always find the waiting workflow."""
        workflow_id = activity.info().workflow_id
        assert workflow_id, "bank.send_payment runs for a workflow"
        await asyncio.to_thread(self.store.route_payment, instruction.end_to_end_id, instruction.message_id, workflow_id)
        async with vendor_call():
            return await self.bank.send_payment(instruction, lookup_first=is_retry())

    @activity.defn(name="bank.send_batch")
    async def send_batch(self, submission: BatchSubmission) -> BatchAcknowledgement:
        """One file, exactly once per MsgId (see ``send_payment_file``). The answer holds a report
        per transfer, some 400 bytes each: small for a file of hundreds; the payment run sends
        files of thousands with ``send_run_file``, which answers with the file's figures only."""
        sender = activity.info().workflow_id
        assert sender, "bank.send_batch runs for a workflow"
        return await send_payment_file(self.bank, self.store, submission, sender)

    @activity.defn(name="bank.payment_status")
    async def payment_status(self, ref: PaymentRef) -> PaymentStatusReport:
        async with vendor_call():
            return await self.bank.payment_status(ref.message_id, ref.end_to_end_id)


async def send_payment_file(bank: Bank, store: IntegrationStore, submission: BatchSubmission,
                            sender: str) -> BatchAcknowledgement:
    """Send one file, exactly once per MsgId (a retry reads it back first). Every transfer's route
    is stored before the file leaves, to its owner (else ``sender``), so the bank's webhooks find
    the process waiting for it."""
    batch = submission.batch
    await asyncio.to_thread(store.route_transfers, batch.message_id, [
        (tx.end_to_end_id, group.payment_info_id, submission.owners.get(tx.end_to_end_id, sender))
        for group, tx in batch.transfers()])
    async with vendor_call():
        return await bank.send_batch(batch, lookup_first=is_retry())
