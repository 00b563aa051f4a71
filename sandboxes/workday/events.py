"""Signed Standard Webhooks events for each change of a pay run's state.

Workday has no signed webhooks of its own for this (its outbound notifications are integrations
a tenant builds); the sandbox sends what finsync would want from one, as the other sandboxes do:

- ``payroll.run.finalized``: a version's results are final (and readable in the reports);
- ``payroll.run.reopened``: the version finalized last was taken back for correction;
- ``payroll.run.cancelled``: the run will never be paid.

``{"type": ..., "timestamp": ..., "data": <the pay run as GET payRuns/{id} shows it>}``: the run's
id, version, status, pay group, period, payment date, who finalized it and who acted last, never
any employee's data. Delivery is at least once (the kit's outbox); the ``webhook-id`` is the
receiver's idempotency key. Subscribe with ``PUT /ccx/api/v1/{tenant}/webhooks/subscription``
``{"endpoint": url}`` (any valid token; a sandbox addition).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from sandboxes.kit.webhooks import Subscription
from sandboxes.workday import tables as t
from sandboxes.workday.auth import bearer
from sandboxes.workday.bodies import json_object, text_value
from sandboxes.workday.context import WorkdayContext, workday
from sandboxes.workday.errors import WorkdayError

router = APIRouter(dependencies=[Depends(bearer)])
SUBSCRIPTION = "/ccx/api/v1/{tenant}/webhooks/subscription"
EVENT_TYPES = {"Finalized": "payroll.run.finalized", "Reopened": "payroll.run.reopened",
               "Cancelled": "payroll.run.cancelled"}
subscription = Subscription(t.webhook_subscription)


@router.put(SUBSCRIPTION)
async def put_subscription(tenant: str, request: Request) -> JSONResponse:
    endpoint = text_value(await json_object(request), "endpoint")
    if not endpoint.startswith(("http://", "https://")):
        raise WorkdayError(400, "invalid request: endpoint must be an http(s) URL.")
    subscription.subscribe(workday(request).engine, endpoint)
    return JSONResponse({"endpoint": endpoint})


@router.get(SUBSCRIPTION)
async def get_subscription(tenant: str, request: Request) -> JSONResponse:
    endpoint = subscription.endpoint(workday(request).engine)
    if endpoint is None:
        raise WorkdayError(404, "No webhook subscription.")
    return JSONResponse({"endpoint": endpoint})


def publish(ctx: WorkdayContext, run: dict[str, Any]) -> None:
    """Announce the run's new state to the subscribed endpoint, if any. Called after the change is committed."""
    subscription.publish(ctx, EVENT_TYPES[run["status"]], run)
