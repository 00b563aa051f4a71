"""One daily reconciliation: for each entity, the activity compares the day in the feed, the ERP and
the bank and keeps the differences in the integration store; this history holds counts only.

Each entity's day is one line in the log and in the workflow's current details (the Web UI's
"Current details"), and one ``reconciled`` event in the feed (written by the activity). An entity
whose reconciliation fails does not stop the others; the run then fails, naming it.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.reconcile import ReconcileActivities, ReconcileRequest, ReconciliationSummary
    from canonical.problems import BUSINESS_RULE_VIOLATION

WORKFLOW_NAME = "DailyReconciliation"

# A day of a large entity is many SuiteQL pages; the heartbeat-free activity is bounded by this.
RECONCILE_TIMEOUT = timedelta(minutes=30)
# An ERP or bank that stays down fails the entity after a few minutes; the next day's run, or
# `finsync reconcile`, does it again.
RECONCILE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=2),
                              maximum_attempts=5, non_retryable_error_types=[BUSINESS_RULE_VIOLATION])


class ReconcileInput(BaseModel):
    entities: list[str]               # legal entity codes (the schedule's: every configured one)
    day: date | None = None           # None: the day before the run's (UTC)
    erp_task_queue: str = "finsync-erp"


class ReconcileOutcome(BaseModel):
    day: date
    results: list[ReconciliationSummary] = []
    failed: dict[str, str] = {}       # entity -> why its reconciliation failed


@workflow.defn(name=WORKFLOW_NAME)
class DailyReconciliationWorkflow:
    def __init__(self) -> None:
        self.lines: list[str] = []

    @workflow.run
    async def run(self, input: ReconcileInput) -> ReconcileOutcome:
        day = input.day or workflow.now().date() - timedelta(days=1)
        outcome = ReconcileOutcome(day=day)
        info = workflow.info()
        for entity in input.entities:
            self._say(f"{entity} {day}: reconciling…")
            try:
                request = ReconcileRequest(entity=entity, day=day, run_key=f"{info.workflow_id}/{info.run_id}/{entity}",
                                           workflow_id=info.workflow_id)
                result: ReconciliationSummary = await workflow.execute_activity_method(
                    ReconcileActivities.reconcile_day, request,
                    task_queue=input.erp_task_queue, start_to_close_timeout=RECONCILE_TIMEOUT,
                    retry_policy=RECONCILE_RETRY, summary=f"reconcile {entity} {day}")
            except ActivityError as error:
                why = str(error.cause or error)
                outcome.failed[entity] = why
                self._say(f"{entity} {day}: not reconciled: {why}", replace=True)
                workflow.logger.warning("reconciliation %s %s failed: %s", entity, day, why)
                continue
            outcome.results.append(result)
            self._say(f"{result.headline} (reconciliation {result.id})", replace=True)
            workflow.logger.info("reconciliation %s", result.headline)
        if outcome.failed:
            raise ApplicationError(f"not reconciled: {', '.join(sorted(outcome.failed))}", outcome,
                                   type="ReconciliationFailed")
        return outcome

    def _say(self, line: str, *, replace: bool = False) -> None:
        """The current details: one line per entity, as far as the run has got."""
        if replace and self.lines:
            self.lines[-1] = line
        else:
            self.lines.append(line)
        workflow.set_current_details("\n\n".join(self.lines))
