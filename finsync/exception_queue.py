"""The exception queue: every parked process, and resolving one (``finsync exceptions``).

Parked processes are found through Temporal visibility (FinsyncBusinessStatus = 'EXCEPTION'),
so the queue needs no table of its own and is never out of date.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import Client, WorkflowUpdateFailedError

from workflows.common import search
from workflows.common.exceptions import Resolution
from workflows.expense.workflow import ExpenseReimbursementWorkflow


@dataclass(frozen=True)
class ParkedItem:
    workflow_id: str
    process: str
    entity: str | None
    reason_code: str
    amount: float | None


async def parked(client: Client, entity: str | None = None, process: str | None = None) -> list[ParkedItem]:
    query = f"{search.BUSINESS_STATUS.name} = 'EXCEPTION' AND ExecutionStatus = 'Running'"
    if entity:
        query += f" AND {search.LEGAL_ENTITY.name} = '{entity}'"
    if process:
        query += f" AND {search.PROCESS.name} = '{process}'"
    items = []
    async for wf in client.list_workflows(query):
        attrs = wf.typed_search_attributes
        items.append(ParkedItem(wf.id, attrs.get(search.PROCESS) or "", attrs.get(search.LEGAL_ENTITY),
                                attrs.get(search.EXCEPTION_REASON) or "", attrs.get(search.FUNCTIONAL_AMOUNT)))
    return items


class ResolutionRefused(Exception):
    pass


async def resolve(client: Client, workflow_id: str, resolution: Resolution) -> str:
    """Send the validated ``resolve_exception`` update; a refusal says why, nothing is changed."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.execute_update(ExpenseReimbursementWorkflow.resolve_exception, resolution)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        raise ResolutionRefused(getattr(cause, "message", None) or str(cause)) from error
