"""The exception queue: every parked process, and resolving one (``finsync exceptions``).

Parked processes are found through Temporal visibility (FinsyncBusinessStatus = 'EXCEPTION'),
so the queue needs no table of its own and is never out of date. What a finance user needs
beyond the search attributes (the readable reason, since when, who, how much in which
currency) comes from each workflow's ``parked_view`` query, which every process answers (one
row per open exception: a requisition may have several invoices on hold), asked of all of them
at once; a workflow whose worker does not answer in time is listed from visibility alone.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from rich import box
from rich.table import Table
from rich.text import Text
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from finsync.config import Settings
from finsync.store import BankReportRow
from finsync.terminal import age, money, text
from finsync.visibility import ENTITY_CODE, PROCESS_NAME, BadFilter, checked, literal
from finsync.workflow_calls import (
    ANSWER_WITHIN,
    ASK_FOR_A_WORKER,
    AlreadyClosed,
    CallFailed,
    NoWorkerAnswered,
    ensure_running,
    parked_view_or_none,
)
from workflows.common import search
from workflows.common.exceptions import OpenException, ParkedView, Resolution
from workflows.common.process import RESOLVE_EXCEPTION
from workflows.expense.model import PROCESS as EXPENSE
from workflows.payments.model import PROCESS as PAYMENT_RUN
from workflows.payroll.model import PROCESS as PAYROLL
from workflows.procurement.model import PROCESS as PROCUREMENT

PROCESSES = [EXPENSE, PROCUREMENT, PAYMENT_RUN, PAYROLL]
CONCURRENT_QUERIES = 16  # status queries in flight at once (each costs the worker a workflow replay if not cached)


@dataclass(frozen=True)
class ParkedItem:
    workflow_id: str
    process: str
    entity: str | None
    reason_code: str
    functional_amount: float | None      # visibility's FinsyncFunctionalAmount (no currency), once coded
    view: ParkedView | None = None        # None: no worker answered the query in time


def known_entities(settings: Settings) -> list[str]:
    """The legal entities finsync is configured for (the bank accounts it pays from)."""
    return settings.bank.entities


def check_filters(settings: Settings, entity: str | None, process: str | None) -> None:
    """Raise BadFilter (one line) unless each filter is a known code."""
    if entity is not None:
        checked(entity, ENTITY_CODE, "entity")
        if entity not in known_entities(settings):
            raise BadFilter(f"unknown entity {entity}; known: {', '.join(known_entities(settings))}")
    if process is not None:
        checked(process, PROCESS_NAME, "process")
        if process not in PROCESSES:
            raise BadFilter(f"unknown process {process}; known: {', '.join(PROCESSES)}")


def parked_query(entity: str | None = None, process: str | None = None) -> str:
    query = f"{search.BUSINESS_STATUS.name} = 'EXCEPTION' AND ExecutionStatus = 'Running'"
    if entity is not None:
        query += f" AND {search.LEGAL_ENTITY.name} = {literal(entity)}"
    if process is not None:
        query += f" AND {search.PROCESS.name} = {literal(process)}"
    return query


async def parked(client: Client, entity: str | None = None, process: str | None = None, *,
                 details: bool = True, answer_within: float = ANSWER_WITHIN) -> list[ParkedItem]:
    """Every running process parked on an exception, oldest first when the details are known."""
    items = []
    async for wf in client.list_workflows(parked_query(entity, process)):
        attrs = wf.typed_search_attributes
        items.append(ParkedItem(wf.id, attrs.get(search.PROCESS) or "", attrs.get(search.LEGAL_ENTITY),
                                attrs.get(search.EXCEPTION_REASON) or "", attrs.get(search.FUNCTIONAL_AMOUNT)))
    if not details:
        return items
    limit = asyncio.Semaphore(CONCURRENT_QUERIES)

    async def detailed(item: ParkedItem) -> ParkedItem:
        async with limit:
            view = await parked_view_or_none(client.get_workflow_handle(item.workflow_id), answer_within)
        return ParkedItem(**{**item.__dict__, "view": view})

    return sorted(await asyncio.gather(*(detailed(item) for item in items)), key=_oldest_first)


def _oldest_first(item: ParkedItem) -> tuple[int, str]:
    if item.view and item.view.open_exceptions:
        return 0, min(e.raised_at for e in item.view.open_exceptions).isoformat()
    return 1, item.workflow_id


def queue_table(items: list[ParkedItem]) -> Table:
    """One row per parked process; the readable reason under its workflow id, which never breaks
    (it is copied into ``resolve``), so the table fits an 80-column terminal."""
    table = Table(title=text(f"{len(items)} parked"), box=box.SIMPLE_HEAD, show_lines=True)
    table.add_column("workflow / reason", ratio=1)
    for column in ("entity", "age", "who", "amount"):
        table.add_column(column, no_wrap=True)
    unanswered = False
    for item in items:
        view = item.view
        if view is None:
            unanswered = True
            amount = ("" if item.functional_amount is None
                      else f"{item.functional_amount:,.2f} in {item.entity or 'the entity'}'s functional currency")
            table.add_row(_workflow_and_reason(item.workflow_id, item.reason_code), text(item.entity), text("?"),
                          text("?"), text(amount))
            continue
        exceptions: list[OpenException | None] = list(view.open_exceptions) or [None]
        for exception in exceptions:
            table.add_row(_workflow_and_reason(item.workflow_id, _reason(exception, item.reason_code)),
                          text(view.entity_code or item.entity), text(age(exception.raised_at if exception else None)),
                          text(view.counterparty), text(money(view.amount)))
    if unanswered:
        table.caption = text(f"?: no worker answered in time; shown from the search attributes. {ASK_FOR_A_WORKER}")
    return table


def _reason(exception: OpenException | None, code: str) -> str:
    if exception is None:
        return code
    item = f"[{exception.item}] " if exception.item else ""
    return f"{item}{exception.problem.code}: {exception.problem.reason}"


def _workflow_and_reason(workflow_id: str, reason: str) -> Text:
    return Text.assemble((workflow_id, "bold"), "\n", reason)


def bank_reports_table(reports: list[BankReportRow]) -> Table:
    table = Table(title=text(f"{len(reports)} bank reports no process took (the bank's message is kept in the store)"))
    for column in ("received", "end-to-end id", "message", "status", "why", "workflow"):
        table.add_column(column, overflow="fold")
    for row in reports:
        table.add_row(text(f"{row.received_at:%Y-%m-%d %H:%M}"), text(row.end_to_end_id),
                      text(f"{row.source} {row.message_id}"), text(row.state), text(row.outcome), text(row.workflow_id))
    return table


class ResolutionRefused(CallFailed):
    pass


async def resolve(client: Client, workflow_id: str, resolution: Resolution | dict[str, str], *,
                  answer_within: float = ANSWER_WITHIN) -> str:
    """Send the validated ``resolve_exception`` update; a refusal says why, nothing is changed.

    A worker must answer the status query first: an update no worker takes would wait on the
    server and could still apply much later, so when none answers nothing is sent."""
    handle = client.get_workflow_handle(workflow_id)
    await ensure_running(handle, answer_within)
    if await parked_view_or_none(handle, answer_within) is None:
        raise NoWorkerAnswered(f"{workflow_id}: no worker answered within {answer_within:g} s; nothing was sent. "
                               f"{ASK_FOR_A_WORKER}")
    try:
        return await handle.execute_update(RESOLVE_EXCEPTION, resolution, result_type=str,
                                           rpc_timeout=timedelta(seconds=answer_within))
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        raise ResolutionRefused(f"refused: {getattr(cause, 'message', None) or cause}") from error
    except WorkflowUpdateRPCTimeoutOrCancelledError as error:
        raise NoWorkerAnswered(f"{workflow_id}: the worker did not confirm within {answer_within:g} s; the resolution "
                               f"may still apply. Check with: finsync report show {workflow_id}") from error
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:   # it ended between the check and the update
            raise AlreadyClosed(f"{workflow_id}: {error.message}; nothing to resolve") from error
        raise
