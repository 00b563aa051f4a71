"""A pay run event from Workday (the sandbox's Standard Webhooks, sandboxes/workday/events.py), as
finsync reads it once the gateway has verified its signature (gateway/verify.py, the same check
for every source): ``{"type": "payroll.run.finalized", "timestamp": ..., "data": <the pay run>}``.

The run in ``data`` is what ``GET payRuns/{id}`` shows, so an event and the sweep's read of the
same state are the same ``PayrollRunEvent`` (the same ``event_id``). The type must agree with the
run's status: an event that says "finalized" about a reopened run is refused, not guessed at.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints, ValidationError

from canonical.payroll import PayrollRunEvent, PayrollRunState
from connectors.payloads import one_line
from connectors.workday.mapping import WorkdayRun, run_event

EVENT_STATES = {"payroll.run.finalized": PayrollRunState.FINALIZED, "payroll.run.reopened": PayrollRunState.REOPENED,
                "payroll.run.cancelled": PayrollRunState.CANCELLED}


class PayRunEvent(BaseModel):
    """``{"type": "payroll.run.finalized", "timestamp": "...", "data": {"id": "PAYRUN-000001", ...}}``."""

    type: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    timestamp: Any = None
    data: WorkdayRun


def parse_run_event(body: bytes) -> PayrollRunEvent:
    """The run event in ``body``; ValueError saying in one line what is wrong with it."""
    try:
        envelope = PayRunEvent.model_validate(json.loads(body))
    except ValidationError as error:
        raise ValueError(one_line(error.errors())) from None
    except (ValueError, RecursionError):   # RecursionError: nested deeper than json will read
        raise ValueError("the body is not JSON") from None
    announced = EVENT_STATES.get(envelope.type)
    if announced is None:
        raise ValueError(f"event type {envelope.type[:60]!r} is none of {', '.join(EVENT_STATES)}")
    try:
        event = run_event(envelope.data)
    except ValidationError as error:
        raise ValueError(one_line(error.errors())) from None
    if event is None or event.state is not announced:
        raise ValueError(f"a {envelope.type} event about a pay run whose status is {envelope.data.status[:40]!r}")
    return event
