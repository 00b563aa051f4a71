"""The payment run: a process hands its due payments to a queue, and runs at set hours send what is
due, one pain.001 per debtor account (workflows/payments/run.py).

A paying process queues each payment with the local activity ``enqueue_payment``, naming itself
as the payment's owner, then waits on its ``payment_status`` signal: the bank's reports on the
payment (pain.002, camt.054) reach it there, routed by EndToEndId, as if it had sent the payment
itself. If the bank refuses a whole file and finance withdraws it, the owner hears a REJECTED
report from the run. ``enqueue_payment`` may be called again with the same payment at any time:
it answers where the payment stands, with the file (MsgId) it went in once a run claimed it.

A run's history holds keys and figures only: the transactions stay in the store, and each file is
rebuilt from it where it is sent (payroll puts thousands of payments in one file).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.bank import send_payment_file
from canonical import (
    BatchSubmission,
    BusinessProblem,
    PaymentBatch,
    PaymentIdReused,
    PaymentOrder,
    PaymentRequestState,
    PaymentState,
    PaymentStatusReport,
    payment_run_batches,
)
from connectors.interfaces import Bank
from finsync.config import PaymentPurpose

if TYPE_CHECKING:
    from finsync.store import IntegrationStore, PaymentRequest  # handed in by worker.py: workflows import this module

OWNERS_AT_ONCE = 20   # signals in flight when a withdrawn file's owners are told


class QueuedPayment(BaseModel):
    """A payment a process hands to the payment run."""

    order: PaymentOrder             # from which of the company's accounts, when, to whom, under which EndToEndId
    owner_workflow_id: str          # the process the bank's reports on it go to (its payment_status signal)
    purpose: PaymentPurpose


class QueuedState(BaseModel):
    """Where a queued payment stands."""

    end_to_end_id: str
    state: PaymentRequestState
    run_key: str | None = None      # the run that claimed it
    message_id: str | None = None   # the file it went in, once claimed: with the EndToEndId, a bank status lookup's keys


class RunRequest(BaseModel):
    run_key: str
    as_of: date                     # payments due this day or before are claimed


class RunFile(BaseModel):
    """One file of a run, as its keys and figures, never its transactions."""

    message_id: str
    debtor_entity: str
    debtor_account: str             # IBAN or account number
    count: int
    control_sums: dict[str, Decimal]   # per currency

    @classmethod
    def of(cls, batch: PaymentBatch) -> RunFile:
        sums: dict[str, Decimal] = {}
        for group in batch.groups:
            sums[group.currency] = sums.get(group.currency, Decimal(0)) + group.control_sum
        return cls(message_id=batch.message_id, debtor_entity=batch.debtor_entity,
                   debtor_account=batch.debtor_account.account_id, count=batch.count, control_sums=sums)


class RunClaim(BaseModel):
    run_key: str
    files: list[RunFile] = []


class RunFileRef(BaseModel):
    run_key: str
    message_id: str


class FileWithdrawal(BaseModel):
    """A file the bank refused, taken back: its payments' processes are told why."""

    run_key: str
    message_id: str
    problem: BusinessProblem


class PaymentOwners(Protocol):
    """Gives a process the run's word on one of its payments (its payment_status signal); False
    when the process has ended. worker.py hands it in: no activity imports a workflow."""

    async def __call__(self, owner_workflow_id: str, report: PaymentStatusReport, /) -> bool: ...


def _state(request: PaymentRequest) -> QueuedState:
    return QueuedState(end_to_end_id=request.end_to_end_id, state=PaymentRequestState(request.state),
                       run_key=request.run_key, message_id=request.message_id)


def _file(run_key: str, message_id: str, requests: Sequence[PaymentRequest]) -> PaymentBatch:
    """File ``message_id`` of run ``run_key``, as the run made it from these requests."""
    (batch,) = payment_run_batches(run_key, [request.order for request in requests])
    if batch.message_id != message_id:
        raise ApplicationError(f"the payments of file {message_id} make file {batch.message_id}: the file's "
                               f"requests changed since run {run_key} claimed them", non_retryable=True)
    return batch


class PaymentQueueActivities:
    """What a paying process calls (a local activity: it only writes finsync's store)."""

    def __init__(self, store: IntegrationStore) -> None:
        self.store = store

    @activity.defn(name="payments.enqueue")
    async def enqueue_payment(self, payment: QueuedPayment) -> QueuedState:
        """Queue the payment for the first run on or after its execution date; the same payment
        again is the one queued, as it stands now. Another payment under its EndToEndId is a
        defect, refused without retrying."""
        try:
            request = await asyncio.to_thread(self.store.enqueue_payment, payment.order, payment.owner_workflow_id,
                                              payment.purpose.value)
        except PaymentIdReused as error:
            raise ApplicationError(str(error), type=type(error).__name__, non_retryable=True) from error
        return _state(request)


class PaymentRunActivities:
    """What a payment run does: claim the due payments (on the workflow task queue), send each file
    (on the bank's), and withdraw a file the bank refused."""

    def __init__(self, bank: Bank, store: IntegrationStore, owners: PaymentOwners) -> None:
        self.bank = bank
        self.store = store
        self.owners = owners

    @activity.defn(name="payments.collect_due")
    async def collect_due(self, request: RunRequest) -> RunClaim:
        """Claim every queued payment due by ``as_of`` for the run, and group them into its files:
        one per debtor account, one block per currency and execution date. Called again for the
        same run, the same files."""
        claimed = await asyncio.to_thread(self.store.claim_due_payments, request.run_key, request.as_of)
        if not claimed:
            return RunClaim(run_key=request.run_key)
        try:
            batches = payment_run_batches(request.run_key, [row.order for row in claimed])
        except ValueError as error:   # orders from one account disagree on its holder: retrying changes nothing
            raise ApplicationError(f"run {request.run_key} cannot make its files: {error}", non_retryable=True) from error
        await asyncio.to_thread(self.store.file_payments, {
            batch.message_id: [tx.end_to_end_id for _, tx in batch.transfers()] for batch in batches})
        return RunClaim(run_key=request.run_key, files=[RunFile.of(batch) for batch in batches])

    @activity.defn(name="payments.send_run_file")
    async def send_run_file(self, ref: RunFileRef) -> RunFile:
        """Send one file of the run, rebuilt from the store, exactly once (see
        ``activities.bank.send_payment_file``): each transfer routed to its owner first, then its
        payments marked sent. A bank's refusal of the file parks it in the run."""
        requests = await asyncio.to_thread(self.store.payments_in_file, ref.message_id)
        if not requests:
            raise ApplicationError(f"file {ref.message_id} of run {ref.run_key} holds no payment to send",
                                   non_retryable=True)
        batch = _file(ref.run_key, ref.message_id, requests)
        sender = activity.info().workflow_id
        assert sender, "payments.send_run_file runs for a workflow"
        owners = {request.end_to_end_id: request.owner_workflow_id for request in requests}
        await send_payment_file(self.bank, self.store, BatchSubmission(batch=batch, owners=owners), sender)
        await asyncio.to_thread(self.store.mark_file_sent, ref.message_id)
        return RunFile.of(batch)

    @activity.defn(name="payments.withdraw_run_file")
    async def withdraw_run_file(self, withdrawal: FileWithdrawal) -> RunFile:
        """Take back a file the bank refused: no run sends its payments again, and each payment's
        process hears it REJECTED, with the bank's reason, to decide itself (correct and pay
        again under new ids, or not)."""
        withdrawn = await asyncio.to_thread(self.store.withdraw_file, withdrawal.message_id)   # a retry's too
        if not withdrawn:
            raise ApplicationError(f"file {withdrawal.message_id} of run {withdrawal.run_key} holds no payment to "
                                   "withdraw", non_retryable=True)
        batch = _file(withdrawal.run_key, withdrawal.message_id, withdrawn)
        problem = withdrawal.problem
        blocks = {tx.end_to_end_id: group.payment_info_id for group, tx in batch.transfers()}
        in_flight = asyncio.Semaphore(OWNERS_AT_ONCE)

        async def tell(request: PaymentRequest) -> None:
            report = PaymentStatusReport(
                message_id=withdrawal.message_id, end_to_end_id=request.end_to_end_id,
                payment_info_id=blocks[request.end_to_end_id], state=PaymentState.REJECTED, bank_status_code="RJCT",
                reason_code=problem.vendor_code, reason_text=problem.reason, amount=request.order.transfer.amount,
                source="payment run")
            async with in_flight:
                if not await self.owners(request.owner_workflow_id, report):
                    activity.logger.warning("payment %s of withdrawn file %s: its process %s has ended",
                                            request.end_to_end_id, withdrawal.message_id, request.owner_workflow_id)

        await asyncio.gather(*(tell(request) for request in withdrawn))
        return RunFile.of(batch)
