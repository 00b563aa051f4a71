"""The shared process runtime's contract: what every finance process promises finance.

workflows/common/process.py gives each process parking with a finance-readable reason, the
validated ``resolve_exception`` update, the ``parked_view`` query, the finance-event feed and the
search attributes written at rest; workflows/common/remedies.py decides what is safe where the
money is. ``RuntimeContract`` checks all of it the way finance meets it, through what every
process answers: the query, the update sent by name with a plain JSON payload (as the CLI and
the Web UI send it), the search attributes, the Web UI's current details, the workflow's history
and the store's feed.

A process's suite runs it with a ``Test...`` subclass whose hooks start that process on the
time-skipping server (with its own harness and world) and bring it to rest on an open exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from canonical import FinanceEventType
from finsync.store import IntegrationStore
from tests.workflows.polling import until
from workflows.common import search
from workflows.common.exceptions import ParkedView, ResolutionAction
from workflows.common.process import EXCEPTION, PARKED_VIEW, RESOLVE_EXCEPTION
from workflows.common.remedies import WHY_UNSAFE, MoneyState

CANCELLED = "CANCELLED"       # the business status of a cancelled process: every process's status enum has it
RESOLVER = "contract.clerk"
RAISED, RESOLVED = FinanceEventType.EXCEPTION_RAISED.value, FinanceEventType.EXCEPTION_RESOLVED.value
UPDATE_ACCEPTED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
TASK_FAILED = EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
Payload = dict[str, Any]


def _nothing_to_fix() -> None:
    return None


@dataclass
class Parked:
    """A process a hook started, on its way to rest on an open exception."""

    handle: WorkflowHandle
    store: IntegrationStore                          # where it writes its feed
    code: str                                        # the problem code it parks on
    business_status: Callable[[], Awaitable[str]]    # its own status query, reduced to the status
    fix: Callable[[], None] = _nothing_to_fix        # sets the world right, so that retry resumes it
    items: tuple[str, ...] = ()                      # the items its exceptions are keyed by; () = the whole process


@dataclass(frozen=True)
class FeedEvent:
    type: str
    summary: str
    data: dict[str, Any]


class RuntimeContract(ABC):
    """Each ``test_*`` is a promise a user would notice; a subclass supplies the process."""

    PROCESS: ClassVar[str]                  # as its refusals name it: "not a valid <process> resolution"
    NOT_OFFERED: ClassVar[Payload]          # a well-formed resolution the refusal's exception does not offer
    RESUMED: ClassVar[frozenset[str]]       # business statuses that show it went on after the retry
    ONE_ITEM: ClassVar[Payload] = {}        # an offered resolution for either of two parked items

    @abstractmethod
    def parked_on_a_refusal(self, env: WorkflowEnvironment, tmp_path: Path) -> AbstractAsyncContextManager[Parked]:
        """A vendor refuses on business grounds (or a business check fails) while nothing has left
        the bank; the exception offers retry and cancel, and retry works once ``fix`` ran."""

    @abstractmethod
    def parked_after_payment(self, env: WorkflowEnvironment, tmp_path: Path) -> AbstractAsyncContextManager[Parked]:
        """An exception open once the money it is about has left the bank."""

    @abstractmethod
    def parked_on_two_items(self, env: WorkflowEnvironment, tmp_path: Path) -> AbstractAsyncContextManager[Parked]:
        """Two items parked at once on ``code``, each resolvable with ``ONE_ITEM`` (a process that
        parks only as a whole skips, saying so)."""

    # --- park -------------------------------------------------------------------------------
    async def test_a_business_refusal_parks_the_process_where_finance_sees_it(
            self, time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
        async with self.parked_on_a_refusal(time_skipping_env, tmp_path) as parked:
            (exception,) = (await at_rest(parked)).open_exceptions
            reason = exception.problem.reason
            assert reason != parked.code and len(reason.split()) > 3, f"not a sentence finance reads: {reason!r}"
            assert exception.actions, "a parked process offers a way out"
            assert await parked.business_status() == EXCEPTION
            attributes = await search_attributes(parked.handle)
            assert attributes.get(search.BUSINESS_STATUS) == EXCEPTION
            assert attributes.get(search.EXCEPTION_REASON) == parked.code
            (raised,) = [event for event in feed(parked) if event.type == RAISED]
            assert raised.summary == reason and raised.data["code"] == parked.code
            details = await current_details(parked.handle)   # what the Web UI shows on the workflow
            assert reason in details and RESOLVE_EXCEPTION in details
            assert all(action.value in details for action in exception.actions)

    # --- resolve ------------------------------------------------------------------------------
    async def test_an_offered_retry_resumes_the_process_once_the_world_is_fixed(
            self, time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
        async with self.parked_on_a_refusal(time_skipping_env, tmp_path) as parked:
            (exception,) = (await at_rest(parked)).open_exceptions
            assert ResolutionAction.RETRY in exception.actions
            parked.fix()
            answer = await resolve(parked.handle, {"action": "retry", "resolved_by": RESOLVER, "note": "fixed at the source"})
            assert "retry accepted" in answer
            await view_until(parked, lambda view: not view.open_exceptions)
            await until(parked.business_status, lambda status: status in self.RESUMED, lambda status: f"status {status}")
            attributes = await attributes_until(parked, lambda a: a.get(search.BUSINESS_STATUS) in self.RESUMED)
            assert attributes.get(search.EXCEPTION_REASON) is None
            (resolved,) = await feed_until(parked, RESOLVED)
            assert (resolved.data["code"], resolved.data["action"], resolved.data["by"]) == (parked.code, "retry", RESOLVER)
            assert RESOLVER in resolved.summary
            assert exception.problem.reason not in await current_details(parked.handle)

    # --- refuse what is not offered -------------------------------------------------------------
    async def test_an_action_the_exception_does_not_offer_is_refused_and_nothing_is_written(
            self, time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
        async with self.parked_on_a_refusal(time_skipping_env, tmp_path) as parked:
            (exception,) = (await at_rest(parked)).open_exceptions
            action = self.NOT_OFFERED["action"]
            assert action not in exception.actions
            before = await as_it_stands(parked)
            why = await refused(parked.handle, {**self.NOT_OFFERED, "resolved_by": RESOLVER})
            assert "\n" not in why and action in why and parked.code in why, why
            assert all(offered.value in why for offered in exception.actions), f"does not say what would do: {why}"
            await nothing_written(parked, before)

    # --- refuse at the door ---------------------------------------------------------------------
    async def test_a_malformed_resolution_is_refused_at_the_door_and_nothing_is_written(
            self, time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
        malformed: dict[str, tuple[object, str]] = {   # what is wrong: the payload, and what the refusal names
            "an unknown field": ({"action": "retry", "resolved_by": RESOLVER, "colour": "red"}, "colour"),
            "no resolved_by": ({"action": "retry"}, "resolved_by"),
            "an unknown action": ({"action": "teleport", "resolved_by": RESOLVER}, "action"),
            "not an object": ("retry", "payload"),
        }
        async with self.parked_on_a_refusal(time_skipping_env, tmp_path) as parked:
            await at_rest(parked)
            before = await as_it_stands(parked)
            for case, (payload, named) in malformed.items():
                why = await refused(parked.handle, payload)
                assert why.startswith(f"not a valid {self.PROCESS} resolution: ") and named in why, f"{case}: {why}"
                assert "\n" not in why, f"{case}: {why}"
            await nothing_written(parked, before)

    async def test_an_empty_resolution_is_refused_at_the_door_in_words(
            self, time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
        """What an empty update form sends: a null payload, or none at all."""
        async with self.parked_on_a_refusal(time_skipping_env, tmp_path) as parked:
            await at_rest(parked)
            before = await as_it_stands(parked)
            answers = {case: await refused(parked.handle, *args) for case, args in {"null": [None], "no payload": []}.items()}
            assert all(why.startswith(f"not a valid {self.PROCESS} resolution: ") for why in answers.values()), answers
            await nothing_written(parked, before)

    # --- refuse an unsafe action ------------------------------------------------------------------
    async def test_once_the_money_has_left_the_bank_cancel_is_refused_with_the_reason(
            self, time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
        async with self.parked_after_payment(time_skipping_env, tmp_path) as parked:
            (exception,) = (await at_rest(parked)).open_exceptions
            assert ResolutionAction.CANCEL not in exception.actions, "cancel offered after the money left"
            before = await as_it_stands(parked)
            why = await refused(parked.handle, {"action": "cancel", "resolved_by": RESOLVER, "note": "stop it"})
            assert WHY_UNSAFE[MoneyState.PAID_OUT] in why and "\n" not in why, why
            await nothing_written(parked, before)

    # --- cancel -----------------------------------------------------------------------------------
    async def test_cancel_while_nothing_has_left_the_bank_ends_the_process_cancelled(
            self, time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
        async with self.parked_on_a_refusal(time_skipping_env, tmp_path) as parked:
            await cancelling_ends_it(parked)

    # --- several open exceptions --------------------------------------------------------------------
    async def test_several_open_exceptions_are_resolved_one_item_at_a_time(
            self, time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
        async with self.parked_on_two_items(time_skipping_env, tmp_path) as parked:
            await at_rest(parked)
            first, second = parked.items
            before = await as_it_stands(parked)
            why = await refused(parked.handle, {**self.ONE_ITEM, "resolved_by": RESOLVER})
            assert first in why and second in why and "\n" not in why, why
            await nothing_written(parked, before)

            await resolve(parked.handle, {**self.ONE_ITEM, "resolved_by": RESOLVER, "item": first})
            await view_until(parked, lambda view: [e.item for e in view.open_exceptions] == [second])
            resolved = await feed_until(parked, RESOLVED)
            assert [(event.data.get("item"), event.data["by"]) for event in resolved] == [(first, RESOLVER)]
            assert await parked.business_status() == EXCEPTION
            attributes = await search_attributes(parked.handle)   # written at the rest that wrote the feed
            assert attributes.get(search.BUSINESS_STATUS) == EXCEPTION
            assert attributes.get(search.EXCEPTION_REASON) == parked.code


# --- driving a process through what every process answers ----------------------------------------

async def at_rest(parked: Parked) -> ParkedView:
    """Wait until the process rests on its exception(s): shown by ``parked_view``, raised in the
    feed, named in the search attributes."""
    expected: set[str | None] = set(parked.items) or {None}
    view = await view_until(parked, lambda v: {e.item for e in v.open_exceptions if e.problem.code == parked.code}
                            == expected)
    await until(lambda: _feed(parked), lambda events: expected <= {
        e.data.get("item") for e in events if e.type == RAISED and e.data.get("code") == parked.code},
        lambda events: f"feed: {[e.type for e in events]}")
    await attributes_until(parked, lambda a: a.get(search.EXCEPTION_REASON) == parked.code)
    return view


async def resolve(handle: WorkflowHandle, payload: object) -> str:
    answer: str = await handle.execute_update(RESOLVE_EXCEPTION, payload, result_type=str)
    return answer


async def refused(handle: WorkflowHandle, *args: object) -> str:
    """Why ``resolve_exception`` with ``args`` was refused, as the CLI shows it."""
    with pytest.raises(WorkflowUpdateFailedError) as error:
        await handle.execute_update(RESOLVE_EXCEPTION, args=list(args), result_type=str)
    cause = error.value.cause
    return getattr(cause, "message", None) or str(cause)


@dataclass(frozen=True)
class Standing:
    """What a refused resolution must leave as it was."""

    view: ParkedView
    accepted_updates: int
    feed: list[FeedEvent]


async def as_it_stands(parked: Parked) -> Standing:
    return Standing(await parked_view(parked.handle), (await history(parked.handle)).count(UPDATE_ACCEPTED), feed(parked))


async def nothing_written(parked: Parked, before: Standing) -> None:
    """The exception stays, no update reached the history, the feed is as it was, and the
    workflow runs on without a failed workflow task."""
    assert await parked_view(parked.handle) == before.view
    assert await parked.business_status() == EXCEPTION
    events = await history(parked.handle)
    assert events.count(UPDATE_ACCEPTED) == before.accepted_updates, "a refused resolution reached the history"
    assert TASK_FAILED not in events
    assert feed(parked) == before.feed
    assert (await parked.handle.describe()).status is WorkflowExecutionStatus.RUNNING


async def cancelling_ends_it(parked: Parked) -> None:
    """Resolve the exception with ``cancel``: the process ends CANCELLED, says so in the feed and
    the search attributes, and no workflow task fails on the way (a failing one would retry for
    ever, so the update is sent aside and the run watched until it closes or a task fails)."""
    (exception,) = (await at_rest(parked)).open_exceptions
    assert ResolutionAction.CANCEL in exception.actions, "cancel is offered while nothing has left the bank"
    sent = asyncio.create_task(resolve(parked.handle, {"action": "cancel", "resolved_by": RESOLVER,
                                                       "note": "no longer needed"}))
    try:
        status, events = await until(lambda: _run_state(parked.handle),
                                     lambda state: state[0] is not WorkflowExecutionStatus.RUNNING or TASK_FAILED in state[1],
                                     lambda state: f"run {state[0]}")
    finally:
        if not sent.done():   # the update never completed: stop waiting for it
            sent.cancel()
            with contextlib.suppress(asyncio.CancelledError, WorkflowUpdateRPCTimeoutOrCancelledError):
                await sent
    assert TASK_FAILED not in events, "cancelling failed a workflow task: the process is stuck, retrying it"
    assert status is WorkflowExecutionStatus.COMPLETED
    assert "cancel accepted" in await sent
    assert await parked.business_status() == CANCELLED
    attributes = await search_attributes(parked.handle)
    assert attributes.get(search.BUSINESS_STATUS) == CANCELLED and attributes.get(search.EXCEPTION_REASON) is None
    kinds = [event.type for event in feed(parked)]
    (resolved,) = [event for event in feed(parked) if event.type == RESOLVED]
    assert (resolved.data["action"], resolved.data["by"]) == ("cancel", RESOLVER)
    assert FinanceEventType.CANCELLED.value in kinds[kinds.index(RESOLVED):], kinds


# --- reading ---------------------------------------------------------------------------------------

async def parked_view(handle: WorkflowHandle) -> ParkedView:
    view: ParkedView = await handle.query(PARKED_VIEW, result_type=ParkedView)
    return view


async def view_until(parked: Parked, predicate: Callable[[ParkedView], bool]) -> ParkedView:
    return await until(lambda: parked_view(parked.handle), predicate, lambda view: "open exceptions: "
                       + str([(e.item, e.problem.code) for e in view.open_exceptions]))


def feed(parked: Parked) -> list[FeedEvent]:
    """The integration store's events of this workflow, oldest first."""
    return [FeedEvent(row.type, row.summary, json.loads(row.data))
            for row in parked.store.events(workflow_id=parked.handle.id)]


async def _feed(parked: Parked) -> list[FeedEvent]:
    return feed(parked)


async def feed_until(parked: Parked, kind: str) -> list[FeedEvent]:
    """The feed's events of ``kind``, once there is one."""
    events = await until(lambda: _feed(parked), lambda events: any(e.type == kind for e in events),
                         lambda events: f"feed: {[e.type for e in events]}")
    return [event for event in events if event.type == kind]


async def search_attributes(handle: WorkflowHandle) -> TypedSearchAttributes:
    return (await handle.describe()).typed_search_attributes


async def attributes_until(parked: Parked, predicate: Callable[[TypedSearchAttributes], bool]) -> TypedSearchAttributes:
    return await until(lambda: search_attributes(parked.handle), predicate, lambda attributes: "search attributes: "
                       + str({pair.key.name: pair.value for pair in attributes}))


async def current_details(handle: WorkflowHandle) -> str:
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    return metadata.current_details


async def history(handle: WorkflowHandle) -> list[EventType.ValueType]:
    return [event.event_type for event in (await handle.fetch_history()).events]


async def _run_state(handle: WorkflowHandle) -> tuple[WorkflowExecutionStatus | None, list[EventType.ValueType]]:
    return (await handle.describe()).status, await history(handle)
