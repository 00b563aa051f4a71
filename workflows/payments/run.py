"""One payment run: claim every queued payment that is due, send one file per debtor account, end.

Each file is sent on its own: a file the bank refuses (a business refusal) parks as an item of the
run, named by its MsgId, while the others go; finance retries it once the cause is fixed, or
withdraws it (``cancel``), and each of its payments' processes then hears it REJECTED with the
bank's reason. A transient failure is retried until the bank answers. Each file sent or withdrawn
is one ``payment_run`` event in the feed (MsgId, count, control sum per currency) and one line in
the run's current details. A run with nothing due ends at once, and writes nothing.

The history holds the files' keys and figures only; their transactions stay in the store.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.payment_runs import FileWithdrawal, PaymentRunActivities, RunClaim, RunFile, RunFileRef, RunRequest
    from canonical import FinanceEventType, Money
    from workflows.common import search
    from workflows.common.activities import activity_name
    from workflows.common.exceptions import ResolutionAction
    from workflows.common.process import WHOLE, BusinessFailure, FinanceProcess
    from workflows.common.remedies import MoneyState
    from workflows.payments.model import (
        PROCESS,
        SCHEDULED_START,
        WORKFLOW_NAME,
        FileOutcome,
        RunFileOutcome,
        RunInput,
        RunOutcome,
        RunStatus,
        run_key,
    )

# Claiming thousands of payments, or telling the processes of a withdrawn file, is store work
# (and signals) of seconds; retried until the store answers.
STORE_WORK_TIMEOUT = timedelta(minutes=5)
STORE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


@workflow.defn(name=WORKFLOW_NAME)
class PaymentRunWorkflow(FinanceProcess):
    PROCESS = PROCESS

    @workflow.init
    def __init__(self, input: RunInput) -> None:
        info = workflow.info()
        self.scheduled_at = info.typed_search_attributes.get(SCHEDULED_START)
        self.run_key = run_key(info.workflow_id, self.scheduled_at.astimezone(UTC) if self.scheduled_at else None)
        self._begin_process(business_key=self.run_key, correlation_id=self.run_key, status=RunStatus.COLLECTING)
        self.files: list[RunFile] = []
        self.outcomes: dict[str, RunFileOutcome] = {}

    @workflow.run
    async def run(self, input: RunInput) -> RunOutcome:
        as_of = input.as_of or (self.scheduled_at or workflow.now()).astimezone(UTC).date()
        claim: RunClaim = await workflow.execute_activity_method(
            PaymentRunActivities.collect_due, RunRequest(run_key=self.run_key, as_of=as_of),
            start_to_close_timeout=STORE_WORK_TIMEOUT, retry_policy=STORE_RETRY, summary=f"payments due by {as_of}")
        if not claim.files:
            workflow.set_current_details(f"Payment run {self.run_key}: nothing due by {as_of}")
            return RunOutcome(run_key=self.run_key, as_of=as_of)
        self.files = claim.files
        self.attributes.begin(search.PROCESS.value_set(PROCESS), search.BUSINESS_KEY.value_set(self.run_key),
                              search.BUSINESS_STATUS.value_set(self.business_status.value))
        self._set(RunStatus.SENDING, f"{sum(f.count for f in self.files)} payment(s) due by {as_of}")
        await asyncio.gather(*(self._send(file, input.bank_task_queue) for file in self.files))
        self._set(RunStatus.DONE, "; ".join(_line(self.outcomes[file.message_id]) for file in self.files))
        await self._rest()
        return RunOutcome(run_key=self.run_key, as_of=as_of, files=[self.outcomes[f.message_id] for f in self.files])

    async def _send(self, file: RunFile, bank_task_queue: str) -> None:
        """Send one file until the bank has it; a refusal parks this file until finance retries or
        withdraws it."""
        while True:
            try:
                sent: RunFile = await self._vendor_once(PaymentRunActivities.send_run_file, RunFileRef(
                    run_key=self.run_key, message_id=file.message_id), bank_task_queue)
            except BusinessFailure as failure:
                resolution = await self._park(failure.problem, activity_name(PaymentRunActivities.send_run_file),
                                              item=file.message_id)
                if resolution.action is not ResolutionAction.CANCEL:
                    continue
                withdrawn: RunFile = await workflow.execute_activity_method(
                    PaymentRunActivities.withdraw_run_file, FileWithdrawal(
                        run_key=self.run_key, message_id=file.message_id, problem=failure.problem),
                    start_to_close_timeout=STORE_WORK_TIMEOUT, retry_policy=STORE_RETRY,
                    summary=f"withdraw {file.message_id}")
                self._done(RunFileOutcome(file=withdrawn, outcome=FileOutcome.WITHDRAWN))
                return
            self._done(RunFileOutcome(file=sent, outcome=FileOutcome.SENT))
            return

    def _done(self, outcome: RunFileOutcome) -> None:
        file = outcome.file
        self.outcomes[file.message_id] = outcome
        sums = _sums(file)
        self._emit(FinanceEventType.PAYMENT_RUN, f"Payment file {file.message_id} {outcome.outcome.value}: "
                   f"{file.count} payment(s) of {sums} from {file.debtor_entity} account {file.debtor_account}",
                   amount=_single_amount(file), entity_code=file.debtor_entity,
                   data={"run_key": self.run_key, "message_id": file.message_id, "outcome": outcome.outcome.value,
                         "count": file.count, "control_sums": {cur: str(total) for cur, total in file.control_sums.items()},
                         "debtor_account": file.debtor_account})
        workflow.logger.info("payment run %s: %s", self.run_key, _line(outcome))

    # --- FinanceProcess -------------------------------------------------------------------
    def _headline(self) -> str:
        if not self.files:
            return f"Payment run {self.run_key}"
        return f"Payment run {self.run_key}: {sum(f.count for f in self.files)} payment(s) in {len(self.files)} file(s)"

    def _money_state(self, item: str = WHOLE) -> MoneyState:
        """A parked file is one the bank refused: none of its money is with the bank, and the run
        books nothing."""
        return MoneyState.NOTHING_BOOKED


def _sums(file: RunFile) -> str:
    return ", ".join(f"{total} {currency}" for currency, total in sorted(file.control_sums.items())) or "nothing"


def _single_amount(file: RunFile) -> Money | None:
    """The file's total where it pays in one currency."""
    if len(file.control_sums) != 1:
        return None
    ((currency, total),) = file.control_sums.items()
    return Money.of(total, currency)


def _line(outcome: RunFileOutcome) -> str:
    file = outcome.file
    return f"{file.message_id} {outcome.outcome.value} ({file.debtor_entity}, {file.count} payment(s), {_sums(file)})"
