"""Register the gateway's webhook endpoints with the expense platform, the bank, the procurement
platform and the payroll system.

    python subscribe_webhooks.py http://gateway:8700

Each vendor keeps one subscription, replaced on every run, so running it again is harmless. The
vendors' endpoints and credentials come from finsync's settings (``FINSYNC_EXPENSE__*``,
``FINSYNC_BANK__*``, ``FINSYNC_PROCUREMENT__*``, ``FINSYNC_PAYROLL_PROVIDER__*``), as for the worker.
"""

from __future__ import annotations

import asyncio
import sys

from connectors import registry
from finsync.config import settings

PATHS = {"expense": "/webhooks/expense", "bank": "/webhooks/bank", "procurement": "/webhooks/procurement",
         "payroll_provider": "/webhooks/payroll"}


async def subscribe(gateway_url: str) -> None:
    config = settings()
    for role, path in PATHS.items():
        endpoint = gateway_url.rstrip("/") + path
        client = registry.build(getattr(config, role))
        try:
            await client.subscribe_webhook(endpoint)
        finally:
            await client.aclose()
        print(f"{role} webhooks go to {endpoint}")


if __name__ == "__main__":
    asyncio.run(subscribe(sys.argv[1]))
