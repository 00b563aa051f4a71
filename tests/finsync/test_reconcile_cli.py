"""``finsync reconcile`` as finance runs it: against the NetSuite sandbox (journals posted through the
connector) and an integration store holding the feed and the bank's reports, no Temporal needed."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import tomli_w

from canonical import (
    FinanceEvent,
    FinanceEventType,
    JournalEntry,
    JournalLine,
    Money,
    PaymentState,
    PaymentStatusReport,
    Side,
)
from connectors.netsuite import NetSuiteClient
from finsync.config import ErpVendorSettings
from finsync.store import IntegrationStore
from sandboxes.netsuite import create_app as create_netsuite
from tests.finsync.conftest import finsync, one_line_error
from tests.support.servers import free_port, serve

SANDBOX_TODAY = date(2026, 3, 15)    # March 2026 is open in the sandbox
DAY = date(2026, 3, 10)


@dataclass
class Books:
    config: Path
    store: IntegrationStore
    erp: NetSuiteClient

    async def journal(self, external_id: str, debit: str, credit: str, amount: str, day: date) -> str:
        posted = await self.erp.post_journal(JournalEntry(
            external_id=external_id, entity="US01", posting_date=day, memo="reconcile CLI test",
            lines=[JournalLine(side=Side.DEBIT, account=debit, amount=Money.of(amount, "USD"), entity="US01",
                               cost_center="CC-1000" if debit.startswith("6") else None),
                   JournalLine(side=Side.CREDIT, account=credit, amount=Money.of(amount, "USD"), entity="US01")]))
        return posted.erp_id

    async def paid_report(self, report_id: str, amount: str, *, booked: bool) -> None:
        """Posted, sent, debited by the bank on the day, paid; its settlement booked if ``booked``."""
        workflow_id, e2e = f"expense-concur-{report_id}", f"FSE-{report_id}-G0P1"
        expense_id = await self.journal(f"{workflow_id}:journal-0", "6120", "2150", amount, DAY - timedelta(days=3))
        events = [(FinanceEventType.POSTED, {"external_id": f"{workflow_id}:journal-0", "erp_id": expense_id}),
                  (FinanceEventType.PAYMENT_SENT, {"end_to_end_id": e2e, "message_id": f"FSM-{report_id}-G0P1"})]
        if booked:
            settlement_id = await self.journal(f"{e2e}:settlement", "2150", "1010", amount, DAY)
            events.append((FinanceEventType.SETTLEMENT_BOOKED, {
                "external_id": f"{e2e}:settlement", "erp_id": settlement_id, "end_to_end_id": e2e,
                "debited": amount, "debited_currency": "USD", "payable": amount, "fx_difference": "0"}))
        events.append((FinanceEventType.PAID, {}))
        at = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=10)
        self.store.route_payment(e2e, f"FSM-{report_id}-G0P1", workflow_id)
        self.store.append_events(FinanceEvent(
            event_id=f"{workflow_id}/run/{n}", type=kind, occurred_at=at + timedelta(minutes=n), process="expense",
            business_key=report_id, workflow_id=workflow_id, correlation_id=workflow_id, entity_code="US01",
            amount=Money.of(amount, "USD"), data=data) for n, (kind, data) in enumerate(events))
        self.store.record_bank_report(f"wh-{uuid.uuid4().hex}", PaymentStatusReport(
            message_id=f"FSM-{report_id}-G0P1", end_to_end_id=e2e, state=PaymentState.SETTLED, bank_status_code="BOOK",
            amount=Money.of(amount, "USD"), booking_date=DAY, bank_reference=f"BANK-{report_id}", source="camt.054"),
            workflow_id, "delivered")


def write_config(path: Path, store_url: str, erp_url: str) -> Path:
    path.write_text(tomli_w.dumps({"store_url": store_url, "erp": {"base_url": erp_url},
                                   "bank": {"base_url": f"http://127.0.0.1:{free_port()}"}}))
    return path


@pytest.fixture
async def books(tmp_path: Path) -> AsyncIterator[Books]:
    async with serve(create_netsuite(tmp_path / "netsuite.db", today=SANDBOX_TODAY)) as erp_url:
        store_url = f"sqlite:///{tmp_path / 'finsync.db'}"
        erp = NetSuiteClient.from_settings(ErpVendorSettings(base_url=erp_url))
        try:
            yield Books(write_config(tmp_path / "finsync.toml", store_url, erp_url), IntegrationStore(store_url), erp)
        finally:
            await erp.aclose()


async def test_a_day_with_differences_lists_each_with_its_documents(books):
    await books.paid_report("R1", "84.37", booked=False)     # paid before settlements were booked
    await books.paid_report("R2", "50.00", booked=True)

    result = await finsync(books.config, "reconcile", "--entity", "US01", "--date", "2026-03-10")

    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert first.startswith("US01 2026-03-10: 3 difference(s): 1 bank_account_movement, 1 debit_not_booked, "
                            "1 payable_open (2 report(s), 3 ERP journal(s), 2 bank debit(s))")
    table = result.stdout.split("\n", 1)[1].split()      # the table wraps long cells: its words, in order
    for row in (["payable_open", "Report", "R1", "is", "paid,"], ["debit_not_booked", "The", "bank", "debited"],
                ["bank_account_movement", "On", "2026-03-10"]):
        assert table[table.index(row[0]):table.index(row[0]) + len(row)] == row
    assert {"JE000001", "expense-concur-R1:journal-0)", "FSE-R1-G0P1", "BANK-R1", "JE000003"} <= set(table)
    assert "134.37 USD / 50.00 USD" in result.stdout and "0.00 USD / 84.37 USD" in result.stdout
    assert "report R2" not in result.stdout.lower()    # R2 agrees everywhere
    [event] = [e for e in books.store.events() if e.type == "reconciled"]
    assert (event.entity_code, event.business_key, event.summary) == ("US01", "US01:2026-03-10", first.split("  (")[0])
    kept = books.store.reconciliation(json.loads(event.data)["reconciliation_id"])
    assert kept is not None and kept.difference_count == 3 and kept.workflow_id is None


async def test_every_configured_entity_by_default_and_a_clean_day_in_one_line(books):
    await books.paid_report("R2", "50.00", booked=True)

    result = await finsync(books.config, "reconcile", "--date", "2026-03-10")

    assert result.exit_code == 0, result.output
    assert [line.split("  (reconciliation")[0] for line in result.stdout.splitlines()] == [
        "DE01 2026-03-10: clean: feed, ERP and bank agree (0 report(s), 0 ERP journal(s), 0 bank debit(s))",
        "US01 2026-03-10: clean: feed, ERP and bank agree (1 report(s), 2 ERP journal(s), 1 bank debit(s))"]


@pytest.mark.parametrize(("args", "says"), [
    (["--entity", "XX01"], "unknown entity 'XX01'; configured: DE01, US01 ([bank] debtor_accounts)"),
    (["--date", "2026-13-01"], "--date '2026-13-01' is not a date (YYYY-MM-DD)"),
    (["--date", "2999-01-01"], "2999-01-01 has not begun yet"),
])
async def test_a_wrong_entity_or_date_is_one_line(books, args, says):
    assert says in one_line_error(await finsync(books.config, "reconcile", *args))
    assert books.store.events() == []


async def test_an_erp_that_does_not_answer_is_one_line_and_nothing_is_kept(books, tmp_path):
    down = write_config(tmp_path / "down.toml", str(books.store.engine.url), f"http://127.0.0.1:{free_port()}")
    line = one_line_error(await finsync(down, "reconcile", "--entity", "US01", "--date", "2026-03-10"))
    assert line.startswith("US01 2026-03-10 not reconciled: netsuite: ")
    assert books.store.events() == []


async def test_a_store_that_is_not_there_is_one_line(books, tmp_path):
    elsewhere = write_config(tmp_path / "elsewhere.toml", f"sqlite:///{tmp_path / 'nothing' / 'finsync.db'}",
                             "http://127.0.0.1:9")
    assert "no integration store at" in one_line_error(await finsync(elsewhere, "reconcile", "--entity", "US01"))
