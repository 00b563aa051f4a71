"""The process runtime: the plumbing every finance process workflow shares.

A process workflow subclasses ``FinanceProcess`` and keeps only its business steps. From here it
gets:
- a business status with a timeline, the Web UI's current details under a one-line headline;
- parking: a business problem stops the process (or one item of it, such as one invoice on AP
  hold while the order goes on) in a visible exception with a finance-readable reason, until the
  validated ``resolve_exception`` update names a remedy that is offered and safe where the
  money is (workflows/common/remedies.py);
- vendor calls by typed activity method, where a vendor's business refusal parks instead of
  failing, and ``cancel`` unwinds as ``CancelRequested``;
- the finance-event feed, written in one local activity whenever the process comes to rest;
- search attributes written at rest (workflows/common/attributes.py).

A subclass sets ``PROCESS``, ``RESOLUTION`` (its resolution payload), calls ``_begin_process``
in its ``@workflow.init``, and implements ``_headline`` and ``_money_state``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import ValidationError
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.common import RawValue
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.bookkeeping import BookkeepingActivities, EventBatch
    from canonical import BusinessProblem, FinanceEvent, FinanceEventType, Money, ProblemRaised
    from canonical.problems import BUSINESS_RULE_VIOLATION
    from workflows.common import search
    from workflows.common.activities import activity_name
    from workflows.common.attributes import SearchAttributeBook
    from workflows.common.exceptions import (
        OpenException,
        ParkedView,
        Resolution,
        ResolutionAction,
        ResolutionRejected,
        details_markdown,
    )
    from workflows.common.remedies import MoneyState, check_resolution, remedies
    from workflows.common.retry import (
        LOCAL_RETRY,
        LOCAL_TIMEOUT,
        LONG_CALL_HEARTBEAT,
        LONG_CALL_TIMEOUT,
        VENDOR_CALL_TIMEOUT,
        VENDOR_RETRY,
    )
    from workflows.common.status import TimelineEntry

NO_PAYLOAD = RawValue(Payload())              # resolve_exception sent with no payload at all
RESOLVE_EXCEPTION = "resolve_exception"   # the update every process answers (CLI and Web UI send it by name)
PARKED_VIEW = "parked_view"               # the query every process answers for the exception queue
EXCEPTION = "EXCEPTION"                   # a parked process's business status: every process's status enum has it
WHOLE = ""                                # the item key of an exception that stops the whole process
FINSYNC = "finsync"                       # who resolved an exception that cleared by itself


class CancelRequested(Exception):
    """Finance resolved an exception with ``cancel``: the process unwinds what it did."""


class BusinessFailure(ProblemRaised):
    """A vendor's business refusal of an activity, for the caller that handles it itself."""


class FinanceProcess:
    PROCESS: ClassVar[str]                          # "expense", "procurement", ...
    RESOLUTION: ClassVar[type[Resolution]] = Resolution

    def _begin_process(self, *, business_key: str, correlation_id: str, status: StrEnum) -> None:
        self.business_key = business_key
        self.correlation_id = correlation_id
        self.business_status: StrEnum = status
        self.resting_status: StrEnum = status        # what the process shows again once no exception is open
        self.entity_code: str | None = None
        self.timeline: list[TimelineEntry] = []
        self.open_exceptions: dict[str, OpenException] = {}   # by item; WHOLE for the process itself
        self.resolutions: dict[str, Resolution] = {}
        self.last_problem: BusinessProblem | None = None
        self.event_seq = 0
        self.pending_events: list[FinanceEvent] = []
        self.attributes = SearchAttributeBook()

    # --- what a process supplies ------------------------------------------------------------
    def _headline(self) -> str:
        """The line that identifies this document in the Web UI (document, party, amount, entity)."""
        raise NotImplementedError

    def _money_state(self, item: str = WHOLE) -> MoneyState:
        """Where the money of ``item`` (or of the whole process) is: decides the safe remedies."""
        raise NotImplementedError

    def _counterparty(self) -> str | None:
        """Who the money is for (an employee, a supplier), as finance names them."""
        return None

    def _amount(self) -> Money | None:
        return None

    def _item_actions(self, actions: list[ResolutionAction]) -> list[ResolutionAction]:
        """What may be offered on one item's exception: a process narrows it where an action means
        something else for an item (``cancel`` of an invoice is not cancelling the purchase)."""
        return actions

    def _interrupted(self) -> bool:
        """True once the process is being stopped (a cancellation): parked items give up waiting."""
        return False

    def _refusal(self, resolution: Resolution, item: str) -> str | None:
        """Why this process refuses a resolution the shared rules allow (who may approve what);
        None if it does not."""
        return None

    # --- the exception handlers every process answers ----------------------------------------
    @workflow.update(name=RESOLVE_EXCEPTION)
    async def resolve_exception(self, payload: RawValue = NO_PAYLOAD) -> str:
        resolution = self._decode_resolution(payload)
        item = self._item_of(resolution)
        self.resolutions[item] = resolution
        exception = self.open_exceptions.get(item)
        return f"{resolution.action.value} accepted for {exception.problem.code if exception else '-'}"

    @resolve_exception.validator
    def _check_resolution(self, payload: RawValue = NO_PAYLOAD) -> None:
        resolution = self._decode_resolution(payload)
        item = self._item_of(resolution)
        check_resolution(self.open_exceptions.get(item), resolution, self._money_state(item))
        refusal = self._refusal(resolution, item)
        if refusal:
            raise ResolutionRejected(refusal)

    @workflow.query(name=PARKED_VIEW)
    def parked_view(self) -> ParkedView:
        """The document and every exception open on it, oldest first: ``finsync exceptions`` asks
        every process this, whatever its own status query looks like."""
        return ParkedView(process=self.PROCESS, business_key=self.business_key, headline=self._headline(),
                          entity_code=self.entity_code, counterparty=self._counterparty(), amount=self._amount(),
                          open_exceptions=list(self.open_exceptions.values()))

    def _decode_resolution(self, payload: RawValue) -> Resolution:
        """The process's own resolution payload; anything else is refused before it reaches history."""
        if payload is NO_PAYLOAD:
            raise ResolutionRejected(f"not a valid {self.PROCESS} resolution: none was given")
        try:
            resolution = workflow.payload_converter().from_payload(payload.payload, self.RESOLUTION)
        except Exception as error:   # whatever the payload, the sender hears one line and nothing is written
            raise ResolutionRejected(f"not a valid {self.PROCESS} resolution: {_first_error(error)}") from None
        if not isinstance(resolution, Resolution):
            raise ResolutionRejected(f"not a valid {self.PROCESS} resolution: an object with action and resolved_by "
                                     "is expected")
        return resolution

    def _item_of(self, resolution: Resolution) -> str:
        """The exception a resolution is for: the item it names, else the only one open."""
        if resolution.item is not None:
            return resolution.item
        if len(self.open_exceptions) > 1:
            raise ResolutionRejected("several exceptions are open: say which with item ("
                                     + ", ".join(sorted(self.open_exceptions)) + ")")
        return next(iter(self.open_exceptions), WHOLE)

    # --- status ---------------------------------------------------------------------------------
    def _set(self, status: StrEnum, note: str) -> None:
        """Record a step; while an exception is open the process keeps showing EXCEPTION, and
        shows ``status`` again once the last one is resolved."""
        if status.value != EXCEPTION:
            self.resting_status = status
            if self.open_exceptions and self.business_status.value == EXCEPTION:
                self.timeline.append(TimelineEntry(at=workflow.now(), status=status.value, note=note))
                return
        if status.value != self.business_status.value:
            self.attributes.set(search.BUSINESS_STATUS.value_set(status.value))
        self.business_status = status
        self.timeline.append(TimelineEntry(at=workflow.now(), status=status.value, note=note))
        workflow.set_current_details(f"{self._headline()}\n\n**{status.value}** — {note}")

    def _observe_entity(self, entity_code: str) -> None:
        if self.entity_code != entity_code:
            self.entity_code = entity_code
            self.attributes.set(search.LEGAL_ENTITY.value_set(entity_code))

    # --- waiting --------------------------------------------------------------------------------
    async def _wait(self, condition: Callable[[], bool], timeout: timedelta) -> bool:
        """Come to rest and wait for ``condition``; False if ``timeout`` passed first."""
        await self._rest()
        try:
            await workflow.wait_condition(condition, timeout=timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self.attributes.woke()

    async def _wait_forever(self, condition: Callable[[], bool]) -> None:
        await self._rest()
        await workflow.wait_condition(condition)
        self.attributes.woke()

    async def _rest(self) -> None:
        """Before every wait and at the end: the list and the feed show where the process stands."""
        self.attributes.at_rest()
        await self._flush_events()

    # --- parking ------------------------------------------------------------------------------
    async def _park(self, problem: BusinessProblem, step: str, actions: list[ResolutionAction] | None = None,
                    *, item: str = WHOLE, cleared: Callable[[], bool] | None = None) -> Resolution:
        """Stop ``item`` (default: the whole process) in a visible exception state until finance
        resolves it. ``actions``: the problem's remedies safe where the money is, unless the step
        allows fewer. ``cleared``: what makes the process look again by itself (say, a receipt
        arrived); it then resumes as if finsync had chosen ``retry``."""
        actions = actions if actions is not None else remedies(problem.code, self._money_state(item))
        if item:
            actions = self._item_actions(actions)
        self.last_problem = problem
        exception = OpenException(problem=problem, step=step, raised_at=workflow.now(), actions=actions,
                                  item=item or None)
        self.open_exceptions[item] = exception
        self.resolutions.pop(item, None)
        self.attributes.set(search.EXCEPTION_REASON.value_set(problem.code))
        self._set(type(self.resting_status)(EXCEPTION), problem.reason)
        workflow.set_current_details(details_markdown(self._headline(), exception))
        self._emit(FinanceEventType.EXCEPTION_RAISED, problem.reason,
                   data={"code": problem.code, "step": step, "system": problem.system}
                   | ({"item": item} if item else {}))
        await self._rest()
        await workflow.wait_condition(lambda: item in self.resolutions or self._interrupted()
                                      or (cleared is not None and cleared()))
        self.attributes.woke()
        del self.open_exceptions[item]
        still_open = list(self.open_exceptions.values())
        self.attributes.set(search.EXCEPTION_REASON.value_set(still_open[-1].problem.code) if still_open
                            else search.EXCEPTION_REASON.value_unset())
        if item not in self.resolutions and self._interrupted():
            raise CancelRequested()
        resolution = self.resolutions.pop(item, None) or self.RESOLUTION(
            action=ResolutionAction.RETRY, resolved_by=FINSYNC, note="what it waited for has come in")
        what = resolution.describe()
        self._emit(FinanceEventType.EXCEPTION_RESOLVED, f"{problem.code} resolved by {resolution.resolved_by}: "
                   f"{what}" + (f" ({resolution.note})" if resolution.note else ""),
                   data={"code": problem.code, "subject": problem.subject, "action": resolution.action.value,
                         "by": resolution.resolved_by} | resolution.event_data() | ({"item": item} if item else {}))
        note = f"Resumed after {problem.code}: {what} (by {resolution.resolved_by})"
        if still_open:
            self.timeline.append(TimelineEntry(at=workflow.now(), status=self.resting_status.value, note=note))
            workflow.set_current_details(details_markdown(self._headline(), still_open[-1]))
        else:
            self._set(self.resting_status, note)
        return resolution

    # --- activities -----------------------------------------------------------------------------
    async def _vendor(self, activity: Callable[..., Awaitable[Any]], arg: Any, task_queue: str,
                      *, item: str = WHOLE, long_running: bool = False) -> Any:
        """A vendor call; a business refusal parks (``item``) until finance retries or cancels."""
        while True:
            try:
                return await self._vendor_once(activity, arg, task_queue, long_running=long_running)
            except BusinessFailure as failure:
                resolution = await self._park(failure.problem, activity_name(activity), item=item)
                if resolution.action is ResolutionAction.CANCEL:
                    raise CancelRequested() from failure

    async def _vendor_once(self, activity: Callable[..., Awaitable[Any]], arg: Any, task_queue: str,
                           *, long_running: bool = False) -> Any:
        """A vendor call whose business refusal the caller handles (raises BusinessFailure).
        ``long_running``: an activity that pages through much data and heartbeats as it goes."""
        self.attributes.before_step()
        try:
            return await workflow.execute_activity_method(
                activity, arg, task_queue=task_queue, retry_policy=VENDOR_RETRY, summary=activity_name(activity),
                start_to_close_timeout=LONG_CALL_TIMEOUT if long_running else VENDOR_CALL_TIMEOUT,
                heartbeat_timeout=LONG_CALL_HEARTBEAT if long_running else None)
        except ActivityError as error:
            cause = error.cause
            if isinstance(cause, ApplicationError) and cause.type == BUSINESS_RULE_VIOLATION:
                details = cause.details[0] if cause.details else {"code": "VENDOR_REFUSED", "reason": cause.message}
                raise BusinessFailure(BusinessProblem.model_validate(details)) from error
            raise

    async def _local(self, activity: Callable[..., Awaitable[Any]], arg: Any = None) -> Any:
        """A local activity on finsync's own store or rule files."""
        self.attributes.before_step()
        args = [] if arg is None else [arg]
        return await workflow.execute_local_activity_method(
            activity, args=args, start_to_close_timeout=LOCAL_TIMEOUT, retry_policy=LOCAL_RETRY)

    # --- the finance-event feed ---------------------------------------------------------------
    def _emit(self, kind: FinanceEventType, summary: str, *, amount: Money | None = None,
              data: dict[str, Any] | None = None, entity_code: str | None = None) -> None:
        """Queue a finance event for the feed; ``_flush_events`` writes the queue in one go.
        ``entity_code``: the event's entity, where it is not the process's (a payment run's file)."""
        self.event_seq += 1
        info = workflow.info()
        self.pending_events.append(FinanceEvent(
            event_id=f"{info.workflow_id}/{info.run_id}/{self.event_seq}", type=kind, occurred_at=workflow.now(),
            process=self.PROCESS, business_key=self.business_key, workflow_id=info.workflow_id,
            correlation_id=self.correlation_id or info.workflow_id, entity_code=entity_code or self.entity_code,
            amount=amount, summary=summary, data=data or {}))

    async def _flush_events(self) -> None:
        """Write queued events before every wait and at the end: the feed never lags a resting process."""
        if self.pending_events:
            batch, self.pending_events = self.pending_events, []
            await self._local(BookkeepingActivities.record_events, EventBatch(events=batch))


def _first_error(error: Exception) -> str:
    if isinstance(error, ValidationError) and error.errors():
        first = error.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc']) or 'payload'}: {first['msg']}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__
