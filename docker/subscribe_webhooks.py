"""Register the gateway's webhook endpoints with the expense platform, the bank, the procurement
platform and the payroll system, and the endpoint of S/4HANA's journal entry confirmations with the
S/4HANA sandbox.

    python subscribe_webhooks.py http://gateway:8700

Each vendor keeps one subscription, replaced on every run, so running it again is harmless. The
vendors' endpoints and credentials come from finsync's settings (``FINSYNC_EXPENSE__*``,
``FINSYNC_BANK__*``, ``FINSYNC_PROCUREMENT__*``, ``FINSYNC_S4HANA__*``, ``FINSYNC_PAYROLL_PROVIDER__*``), as
for the worker. A real S/4HANA tenant takes the endpoint in its communication arrangement
(SAP_COM_0002), which its administrator sets up: the script then only says which endpoint to enter.
"""

from __future__ import annotations

import asyncio
import sys

from connectors import registry
from finsync import launch
from finsync.config import settings
from gateway.app import S4HANA_CONFIRMATIONS

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
    print(await launch.register_s4hana_confirmations(config.s4hana.base_url, gateway_url.rstrip("/") + S4HANA_CONFIRMATIONS))


if __name__ == "__main__":
    asyncio.run(subscribe(sys.argv[1]))
