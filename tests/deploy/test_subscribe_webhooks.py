"""docker/subscribe_webhooks.py, compose's last one-shot step: it points the expense platform's, the
bank's, the procurement platform's and the payroll system's webhooks, and the S/4HANA sandbox's
confirmations, at the gateway, and running it again changes nothing."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sqlmodel import select

from finsync.config import settings
from sandboxes.bank.app import create_app as create_bank
from sandboxes.bank.subscription import subscription as bank_subscription
from sandboxes.concur.app import create_app as create_concur
from sandboxes.concur.models import ConcurSubscription
from sandboxes.coupa.app import create_app as create_coupa
from sandboxes.coupa.events import subscription as coupa_subscription
from sandboxes.kit.db import session, sqlite_engine
from sandboxes.s4hana import create_app as create_s4hana
from sandboxes.s4hana.processing import confirmation_callback
from sandboxes.workday.app import create_app as create_workday
from sandboxes.workday.events import subscription as workday_subscription
from tests.support.servers import serve

SCRIPT = Path(__file__).resolve().parents[2] / "docker" / "subscribe_webhooks.py"


def load_script():  # noqa: ANN201 - the module object
    spec = importlib.util.spec_from_file_location("subscribe_webhooks", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_every_vendor_posts_its_webhooks_to_the_gateway(tmp_path, monkeypatch):
    async with (serve(create_concur(tmp_path / "concur.db")) as concur, serve(create_bank(tmp_path / "bank.db")) as bank,
                serve(create_coupa(tmp_path / "coupa.db")) as coupa, serve(create_s4hana(tmp_path / "s4hana.db")) as s4hana,
                serve(create_workday(tmp_path / "workday.db")) as workday):
        monkeypatch.setenv("FINSYNC_EXPENSE__BASE_URL", concur)
        monkeypatch.setenv("FINSYNC_BANK__BASE_URL", bank)
        monkeypatch.setenv("FINSYNC_PROCUREMENT__BASE_URL", coupa)
        monkeypatch.setenv("FINSYNC_S4HANA__BASE_URL", s4hana)
        monkeypatch.setenv("FINSYNC_PAYROLL_PROVIDER__BASE_URL", workday)
        settings.cache_clear()
        script = load_script()
        await script.subscribe("http://gateway:8700/")
        await script.subscribe("http://gateway:8700")
    with session(sqlite_engine(tmp_path / "concur.db")) as db:
        endpoints = [s.endpoint for s in db.exec(select(ConcurSubscription))]
    assert endpoints == ["http://gateway:8700/webhooks/expense"]
    assert bank_subscription.endpoint(sqlite_engine(tmp_path / "bank.db")) == "http://gateway:8700/webhooks/bank"
    assert coupa_subscription.endpoint(sqlite_engine(tmp_path / "coupa.db")) == "http://gateway:8700/webhooks/procurement"
    assert confirmation_callback.endpoint(sqlite_engine(tmp_path / "s4hana.db")) \
        == "http://gateway:8700/callbacks/s4hana/journal-entry"
    assert workday_subscription.endpoint(sqlite_engine(tmp_path / "workday.db")) == "http://gateway:8700/webhooks/payroll"
