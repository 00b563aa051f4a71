"""With the codec on, what Temporal keeps of a run holds no cleartext: a client without the codec
reads only ciphertext, failure messages included, while finsync's own client reads it all."""

from __future__ import annotations

import uuid

import pytest
from pydantic import SecretStr
from temporalio.api.history.v1 import History
from temporalio.client import Client, WorkflowFailureError, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from finsync.codec import new_key
from finsync.config import CodecSettings, TemporalSettings
from finsync.interceptors import CorrelationInterceptor
from finsync.temporal import data_converter
from tests.finsync.employee_probe import EmployeeProbe, pay, read_bank_account

MARKER = "Zebulon Quartermaine-Okonkwo"   # an employee name no payload would hold by chance


def stored(history: WorkflowHistory) -> bytes:
    """The history as the server keeps it: payload data raw, where cleartext would show as it is."""
    return History(events=history.events).SerializeToString()


def with_codec(env: WorkflowEnvironment) -> Client:
    """A client of the same server as finsync's with the codec on."""
    codec = CodecSettings(enabled=True, keys={"k1": SecretStr(new_key())})
    return Client(env.client.service_client, namespace=env.client.namespace,
                  data_converter=data_converter(TemporalSettings(codec=codec)), interceptors=[CorrelationInterceptor()])


async def run_probe(client: Client) -> tuple[str, WorkflowFailureError]:
    """Run the probe to its failure; its workflow id and what the client made of the failure."""
    workflow_id = f"probe-{uuid.uuid4()}"
    async with Worker(client, task_queue="codec-probe", workflows=[EmployeeProbe], activities=[read_bank_account, pay]):
        handle = await client.start_workflow(EmployeeProbe.run, MARKER, id=workflow_id, task_queue="codec-probe",
                                             static_summary=f"net pay of {MARKER}", memo={"employee": MARKER})
        await handle.signal(EmployeeProbe.approve, f"approved for {MARKER}")
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
    return workflow_id, failed.value


async def test_history_read_without_the_codec_shows_no_employee_data(time_skipping_env: WorkflowEnvironment):
    client = with_codec(time_skipping_env)
    workflow_id, failure = await run_probe(client)

    history = await time_skipping_env.client.get_workflow_handle(workflow_id).fetch_history()   # no codec
    assert MARKER.encode() not in stored(history)
    failures = [event.workflow_execution_failed_event_attributes.failure for event in history.events
                if event.HasField("workflow_execution_failed_event_attributes")]
    failures += [event.activity_task_failed_event_attributes.failure for event in history.events
                 if event.HasField("activity_task_failed_event_attributes")]
    assert len(failures) == 2
    assert all(f.message == "Encoded failure" and f.stack_trace == "" for f in failures)

    # finsync's own client decodes it: the failure's message, and the run's own payloads.
    assert str(failure.cause) == f"{MARKER} was not paid (IBAN of {MARKER})"
    assert str(failure.cause.__cause__ and failure.cause.__cause__.__cause__) == f"AC04 closed account of {MARKER}"
    described = await client.get_workflow_handle(workflow_id).describe()
    assert await described.static_summary() == f"net pay of {MARKER}"
    assert await described.memo_value("employee") == MARKER


async def test_without_the_codec_the_same_run_is_cleartext(time_skipping_env: WorkflowEnvironment):
    """The check above can see cleartext where there is some."""
    workflow_id, _ = await run_probe(time_skipping_env.client)
    history = await time_skipping_env.client.get_workflow_handle(workflow_id).fetch_history()
    assert MARKER.encode() in stored(history)
    failed = next(e for e in history.events if e.HasField("workflow_execution_failed_event_attributes"))
    assert MARKER in failed.workflow_execution_failed_event_attributes.failure.message
