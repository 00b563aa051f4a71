"""`finsync setup`, the one-shot step compose runs before the worker and the gateway: it creates the
integration store's tables and registers finsync's search attributes; run again, it changes nothing."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from sqlalchemy import create_engine, inspect
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.common import SearchAttributeKey
from temporalio.testing import WorkflowEnvironment

from tests.conftest import _binary
from tests.deploy.helpers import finsync
from workflows.common import search

NAMES = [cast(SearchAttributeKey[Any], key).name for key in search.ALL]
STORE_TABLES = {"finance_event", "expense_fingerprint", "payment_route", "webhook_receipt", "bank_report"}


async def test_setup_prepares_the_store_and_the_namespace_once(tmp_path):
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    async with await WorkflowEnvironment.start_local(dev_server_existing_path=_binary("temporal"),
                                                     dev_server_log_level="error") as env:
        address = env.client.service_client.config.target_host
        first = await asyncio.to_thread(finsync, tmp_path, "setup", FINSYNC_TEMPORAL__ADDRESS=address,
                                        FINSYNC_STORE_URL=store_url)
        assert first.returncode == 0, first.stderr
        assert "procurement poll schedule finsync-procurement-poll: created (every 60 s)" in first.stdout.splitlines()
        assert STORE_TABLES <= set(inspect(create_engine(store_url)).get_table_names())
        registered = await env.client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=env.client.namespace))
        assert set(NAMES) <= set(registered.custom_attributes)

        again = await asyncio.to_thread(finsync, tmp_path, "setup", FINSYNC_TEMPORAL__ADDRESS=address,
                                        FINSYNC_STORE_URL=store_url)
        assert again.returncode == 0, again.stderr
        assert f"0 added, {len(NAMES)} present" in again.stdout
