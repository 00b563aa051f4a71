"""A payroll run with the codec on: what Temporal keeps of it, read back through a client without
the codec, holds no employee's identifier, name, bank account or amount; the codec reads them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import History
from temporalio.client import WorkflowHandle
from temporalio.converter import PayloadCodec
from temporalio.testing import WorkflowEnvironment

from tests.finsync.test_temporal import with_codec
from tests.workflows.payroll.harness import payroll_world
from tests.workflows.payroll.world import Bank, Ledger, Provider, company, employee_rows, payee, run_ref
from tests.workflows.polling import until
from workflows.payroll.entity import PayrollEntityWorkflow

EMPLOYEE_ID = "W77310"                    # in DE01, paid 4,345.68 net to a closed account, so rejected
EMPLOYEE = payee(EMPLOYEE_ID, "DE01")
NET_PAY = "4345.68"                       # their net pay, as the bank's rejection of it holds it


def stored(history: History) -> bytes:
    """The history as the server keeps it: where cleartext would show as it is."""
    return history.SerializeToString()


def payloads(message: Message) -> Iterator[Payload]:
    """Every payload in ``message``, however deep: inputs, results, failures' encoded attributes, memos."""
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if isinstance(value, Message):
            items = [value]
        else:   # repeated, or a map: payloads by name
            items = list(value.values()) if field.message_type.GetOptions().map_entry else list(value)
        for item in items:
            if isinstance(item, Payload):
                yield item
            elif isinstance(item, Message):
                yield from payloads(item)


async def decoded(history: History, codec: PayloadCodec) -> bytes:
    """The same history with every payload decoded by ``codec``."""
    found = list(payloads(history))
    for payload, clear in zip(found, await codec.decode(found), strict=True):
        payload.CopyFrom(clear)
    return history.SerializeToString()


async def history_of(handle: WorkflowHandle) -> History:
    return History(events=(await handle.fetch_history()).events)


async def test_a_payroll_runs_history_holds_no_employee_data_in_cleartext(time_skipping_env: WorkflowEnvironment,
                                                                         tmp_path: Path) -> None:
    run = run_ref()
    rows = company() + employee_rows(EMPLOYEE_ID, "DE01", "EUR", "CC-4100", "5432.10")
    bank = Bank(closed={EMPLOYEE.iban or ""})
    encrypted = WorkflowEnvironment.from_client(with_codec(time_skipping_env))    # the run's workers encrypt
    async with payroll_world(encrypted, tmp_path, Provider(rows={run.key: rows}), Ledger("netsuite"), Ledger("sap"),
                             bank) as start:
        payroll = await start(run)
        await payroll.until(lambda s: "DE01" in s.entities and "US01" in s.entities)
        await until(lambda: payroll.entity("DE01").query(PayrollEntityWorkflow.status),
                    lambda s: any(e.item == f"employee {EMPLOYEE_ID}" for e in s.open_exceptions), lambda s: str(s.status))

    plain = time_skipping_env.client                                     # no codec
    handles = [plain.get_workflow_handle(payroll.handle.id),
               *(plain.get_workflow_handle(payroll.entity(entity).id) for entity in ("US01", "DE01"))]
    histories = [await history_of(handle) for handle in handles]
    markers = [EMPLOYEE_ID, EMPLOYEE.name, EMPLOYEE.iban or "", NET_PAY]
    assert [marker for marker in markers if any(marker.encode() in stored(history) for history in histories)] == []

    # The codec reads back the rejected employee: who, and what was not paid. Their bank account is
    # not in history at all: the payments activities read it from the payroll system.
    codec = encrypted.client.data_converter.payload_codec
    assert codec is not None
    readable = b"".join([await decoded(history, codec) for history in histories])
    assert [marker for marker in [EMPLOYEE_ID, EMPLOYEE.name, NET_PAY] if marker.encode() not in readable] == []
    assert (EMPLOYEE.iban or "").encode() not in readable
