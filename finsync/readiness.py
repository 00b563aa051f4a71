"""Is the local stack ready to take reports? What ``finsync demo`` checks before creating any.

Reports created while a part is missing are not lost, but they do not move either (no webhook
reaches the gateway, or no worker runs the workflow), and the demo would wait for them in vain.
Each check that fails says in one line which part is missing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError

from connectors import registry
from connectors.errors import VendorError
from finsync.config import Settings

# A polling worker renews its long poll at least once a minute; an older poller has gone.
POLLER_FRESH = timedelta(seconds=90)
START_THE_STACK = "start the local stack with `finsync dev`"


class NotReady(Exception):
    """A part of the stack is missing; the message is one line."""


def gateway_url(settings: Settings) -> str:
    return f"http://{settings.gateway.host}:{settings.gateway.port}"


async def check(settings: Settings, client: Client) -> None:
    """Raise NotReady for the first missing part. Temporal itself is reachable (``client``)."""
    await _gateway_answers(settings)
    await _webhooks_reach_the_gateway(settings)
    await _worker_polls(settings, client)


async def _gateway_answers(settings: Settings) -> None:
    url = gateway_url(settings) + "/health"
    try:
        async with httpx.AsyncClient(timeout=3) as http:
            answered = (await http.get(url)).status_code == 200
    except httpx.HTTPError:
        answered = False
    if not answered:
        raise NotReady(f"not ready: the gateway does not answer at {url}; {START_THE_STACK}")


async def _webhooks_reach_the_gateway(settings: Settings) -> None:
    expected = gateway_url(settings) + "/webhooks/expense"
    platform = registry.build(settings.expense)
    try:
        subscriptions = (await platform.request("GET", "/events/v4/subscriptions")).json()
    except VendorError as error:
        raise NotReady(f"not ready: the expense platform at {settings.expense.base_url} does not answer ({error}); "
                       f"{START_THE_STACK}") from error
    finally:
        await platform.aclose()
    endpoints = [(s.get("webHookConfig") or {}).get("endpoint") for s in subscriptions if isinstance(s, dict)]
    if expected not in endpoints:
        raise NotReady(f"not ready: the expense platform has no webhook subscription for {expected} "
                       f"(it has: {', '.join(map(str, endpoints)) or 'none'}); finsync dev registers it at start")


async def _worker_polls(settings: Settings, client: Client) -> None:
    queue = settings.temporal.workflow_task_queue
    try:
        described = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
            namespace=client.namespace, task_queue=TaskQueue(name=queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW), timeout=timedelta(seconds=5))
    except RPCError as error:
        raise NotReady(f"not ready: Temporal did not describe task queue {queue} ({error.message})") from error
    now = datetime.now(UTC)
    if not any(now - poller.last_access_time.ToDatetime(UTC) < POLLER_FRESH for poller in described.pollers):
        raise NotReady(f"not ready: no worker polls task queue {queue} on {settings.temporal.address}; "
                       f"{START_THE_STACK} (or run `finsync worker`)")
