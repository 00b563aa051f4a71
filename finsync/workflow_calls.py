"""Asking one process's workflow something, with every expected failure as one line.

A wrong id, a process that already ended, and a workflow no worker answers for are what a
user meets; each is a ``CallFailed`` whose message is the line to print. Deadlines are the
RPC's own: a call abandoned on the Python side alone would still be answered later by the
SDK's thread, possibly while the command's process is exiting.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from workflows.common.exceptions import ParkedView
from workflows.common.process import PARKED_VIEW
from workflows.expense.model import ExpenseSnapshot, workflow_id
from workflows.expense.workflow import ExpenseReimbursementWorkflow
from workflows.procurement.model import PROCESS as PROCUREMENT

ANSWER_WITHIN = 5.0   # seconds a worker has to answer a query or an update
ASK_FOR_A_WORKER = "Is a worker running (finsync dev, or finsync worker)?"
SOURCE_SYSTEM = "concur"


def workflow_id_for(reference: str) -> str:
    """A workflow id as given, or the workflow of an expense platform's report id."""
    if reference.startswith(("expense-", f"{PROCUREMENT}-")):
        return reference
    return workflow_id(SOURCE_SYSTEM, reference)


class CallFailed(Exception):
    """An expected reason a call did not happen; its message is one line for the user."""


class NotFound(CallFailed):
    pass


class AlreadyClosed(CallFailed):
    pass


class NoWorkerAnswered(CallFailed):
    pass


async def describe_status(handle: WorkflowHandle, answer_within: float = ANSWER_WITHIN) -> WorkflowExecutionStatus | None:
    """The workflow's execution status, or NotFound."""
    try:
        return (await handle.describe(rpc_timeout=timedelta(seconds=answer_within))).status
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise NotFound(f"no workflow {handle.id} (a report id is the part after expense-concur-)") from error
        raise


async def ensure_running(handle: WorkflowHandle, answer_within: float = ANSWER_WITHIN) -> None:
    """Raise NotFound or AlreadyClosed unless the workflow is running."""
    status = await describe_status(handle, answer_within)
    if status != WorkflowExecutionStatus.RUNNING:
        said = status.name.lower().replace("_", " ") if status else "closed"
        raise AlreadyClosed(f"{handle.id} is already {said}; nothing to resolve")


async def status_or_none(handle: WorkflowHandle, answer_within: float = ANSWER_WITHIN) -> ExpenseSnapshot | None:
    """The expense workflow's ``status`` query, or None if no worker answers in time."""
    try:
        return await handle.query(ExpenseReimbursementWorkflow.status, rpc_timeout=timedelta(seconds=answer_within))
    except (RPCError, WorkflowQueryFailedError):
        return None


async def parked_view_or_none(handle: WorkflowHandle, answer_within: float = ANSWER_WITHIN) -> ParkedView | None:
    """Any process's ``parked_view`` query, or None if no worker answers in time."""
    try:
        return await handle.query(PARKED_VIEW, result_type=ParkedView, rpc_timeout=timedelta(seconds=answer_within))
    except (RPCError, WorkflowQueryFailedError):
        return None


async def status(handle: WorkflowHandle, answer_within: float = ANSWER_WITHIN) -> ExpenseSnapshot:
    """The ``status`` query, or NoWorkerAnswered."""
    snapshot = await status_or_none(handle, answer_within)
    if snapshot is None:
        raise NoWorkerAnswered(f"{handle.id}: no worker answered within {answer_within:g} s. {ASK_FOR_A_WORKER}")
    return snapshot
