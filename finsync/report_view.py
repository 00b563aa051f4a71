"""``finsync report show``: one expense report's process as finance asks about it.

Where it stands and how it got there (the timeline), what was booked and paid under which
vendor ids (journals, reversals, payments), and what finance can do about an open exception.
Everything comes from the workflow's ``status`` query.
"""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from temporalio.client import Client

from finsync.terminal import age, money, text
from finsync.workflow_calls import ANSWER_WITHIN, NotFound, describe_status, status, workflow_id_for
from workflows.expense.model import ExpenseSnapshot


async def load(client: Client, reference: str, answer_within: float = ANSWER_WITHIN) -> ExpenseSnapshot:
    """The report's snapshot, or NotFound / NoWorkerAnswered (CallFailed: one line each)."""
    handle = client.get_workflow_handle(workflow_id_for(reference))
    try:
        await describe_status(handle, answer_within)
    except NotFound as error:
        raise NotFound(f"no expense report or workflow {reference} (looked for workflow {handle.id})") from error
    return await status(handle, answer_within)


def render(workflow: str, snap: ExpenseSnapshot) -> RenderableType:
    parts: list[RenderableType] = [_summary(workflow, snap)]
    if snap.open_exception:
        parts.append(_open_exception(workflow, snap))
    parts.append(_timeline(snap))
    if snap.journals or snap.reversals:
        parts.append(_journals(snap))
    if snap.payments:
        parts.append(_payments(snap))
    return Group(*parts)


def _summary(workflow: str, snap: ExpenseSnapshot) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, value in (("report", snap.report_id), ("workflow", workflow), ("status", snap.status.value),
                         ("entity", snap.entity_code), ("employee", snap.employee_id),
                         ("reimbursement", money(snap.reimbursement)), ("functional amount", money(snap.functional_amount)),
                         ("returned for", ", ".join(snap.returned_for))):
        if value:
            table.add_row(text(label), text(value))
    return table


def _open_exception(workflow: str, snap: ExpenseSnapshot) -> Table:
    assert snap.open_exception is not None
    exc = snap.open_exception
    table = Table(title=text("open exception: needs finance", style="bold red"), show_header=False, expand=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_row(text("reason"), text(exc.problem.reason))
    table.add_row(text("code"), text(exc.problem.code))
    table.add_row(text("fix in"), text(exc.problem.system))
    table.add_row(text("step"), text(exc.step))
    table.add_row(text("since"), text(f"{exc.raised_at:%Y-%m-%d %H:%M} UTC ({age(exc.raised_at)} ago)"))
    table.add_row(text("allowed actions"), text(", ".join(a.value for a in exc.actions)))
    table.add_row(text("resolve with"), text(f"finsync exceptions resolve {workflow} --action <action> --by <you>"))
    return table


def _timeline(snap: ExpenseSnapshot) -> Table:
    table = Table(title=text("timeline"), box=box.SIMPLE_HEAD)
    table.add_column("at (UTC)", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("what happened", ratio=1)
    for entry in snap.timeline:
        table.add_row(text(f"{entry.at:%Y-%m-%d %H:%M:%S}"), text(entry.status), text(entry.note))
    return table


def _journals(snap: ExpenseSnapshot) -> Table:
    table = Table(title=text("journals in the ERP"), box=box.SIMPLE_HEAD)
    for column in ("kind", "document", "ERP id", "posted on"):
        table.add_column(column, no_wrap=True)
    table.add_column("amount", no_wrap=True, justify="right")
    table.add_column("external id (finsync's)", overflow="fold", ratio=1)
    for kind, journals in (("journal", snap.journals), ("reversal", snap.reversals)):
        for journal in journals:
            table.add_row(text(kind), text(journal.document_number), text(journal.erp_id),
                          text(journal.posting_date.isoformat()), text(money(journal.amount)), text(journal.external_id))
    return table


def _payments(snap: ExpenseSnapshot) -> Table:
    table = Table(title=text("payments at the bank"), box=box.SIMPLE_HEAD)
    table.add_column("EndToEndId / message id", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("amount", no_wrap=True, justify="right")
    table.add_column("bank reference / reason", overflow="fold", ratio=1)
    for payment in snap.payments:
        state = f"{payment.state.value} ({payment.bank_status_code})" if payment.bank_status_code else payment.state.value
        detail = " ".join(filter(None, [payment.reason_code, payment.reason_text]))
        if payment.bank_reference:
            booked = f", booked {payment.booking_date.isoformat()}" if payment.booking_date else ""
            detail = f"{payment.bank_reference}{booked}" + (f"; {detail}" if detail else "")
        table.add_row(Text.assemble(payment.end_to_end_id, "\n", payment.message_id), text(state),
                      text(money(payment.amount)), text(detail))
    return table
