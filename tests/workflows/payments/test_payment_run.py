"""The payment run on the time-skipping server, with its real activities on a real SQLite store and
the bank sandbox over HTTP: the due payments of several processes go in one file per debtor
account, each routed to its process; a file the bank refuses parks alone while the others go."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import TypeVar

import httpx
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.bookkeeping import BookkeepingActivities
from activities.payment_runs import PaymentQueueActivities, PaymentRunActivities
from canonical import (
    BankAccount,
    CreditTransfer,
    Money,
    PaymentInstruction,
    PaymentOrder,
    PaymentRequestState,
    PaymentState,
)
from connectors.bank import BankClient
from finsync.config import BankVendorSettings, Settings
from finsync.store import IntegrationStore
from sandboxes.bank import create_app
from sandboxes.kit.faults import FaultConfig
from tests.support.servers import serve
from tests.workflows.harness import record_history
from tests.workflows.payments.payer import Payer
from tests.workflows.polling import until
from worker import payment_owners
from workflows.common.exceptions import ParkedView, Resolution, ResolutionAction
from workflows.common.process import RESOLVE_EXCEPTION
from workflows.payments.model import FileOutcome, RunInput, RunOutcome
from workflows.payments.run import PaymentRunWorkflow

DE_EUR = BankAccount(holder_name="Finsync Demo GmbH", iban="DE02120300000000202051", bic="BYLADEM1001")
US_USD = BankAccount(holder_name="Finsync Demo Inc.", account_number="000123456789", bic="CHASUS33XXX")
KATRIN = BankAccount(holder_name="Katrin Vogel", iban="DE75512108001245126199", bic="COBADEFFXXX")
ACME = BankAccount(holder_name="Acme Supplies LLC", account_number="987654321", bic="CHASUS33XXX")
SUNDAY, MONDAY, TUESDAY = date(2026, 11, 22), date(2026, 11, 23), date(2026, 11, 24)
R1, R2 = "procurement-coupa-R1", "procurement-coupa-R2"
T = TypeVar("T")


def order(e2e: str, amount: str, *, day: date = MONDAY, us: bool = False) -> PaymentOrder:
    debtor, creditor, entity, currency = (US_USD, ACME, "US01", "USD") if us else (DE_EUR, KATRIN, "DE01", "EUR")
    return PaymentOrder(debtor_entity=entity, debtor_name=debtor.holder_name, debtor_account=debtor,
                        requested_execution_date=day,
                        transfer=CreditTransfer(end_to_end_id=e2e, creditor=creditor, amount=Money.of(amount, currency),
                                                remittance_info=f"Invoice {e2e}"))


@dataclass
class Stack:
    env: WorkflowEnvironment
    store: IntegrationStore
    bank_url: str
    queue: str

    async def run(self, workflow_id: str, as_of: date = MONDAY) -> WorkflowHandle[PaymentRunWorkflow, RunOutcome]:
        return await self.env.client.start_workflow(PaymentRunWorkflow.run, RunInput(bank_task_queue=self.queue, as_of=as_of),
                                                    id=workflow_id, task_queue=self.queue)

    async def at_bank(self) -> list[tuple[str, str]]:
        async with httpx.AsyncClient(base_url=self.bank_url) as admin:
            return sorted((p["messageId"], p["endToEndId"]) for p in (await admin.get("/_sandbox/payments")).json())

    async def injected(self) -> dict[str, int]:
        async with httpx.AsyncClient(base_url=self.bank_url) as admin:
            return (await admin.get("/_sandbox/faults")).json()["injected"]

    def states(self, *e2es: str) -> list[str]:
        return [getattr(self.store.payment_request(e2e), "state", "missing") for e2e in e2es]

    def routes(self, message_id: str) -> dict[str, str]:
        return {route.end_to_end_id: route.workflow_id for route in self.store.routes_in(message_id)}


@asynccontextmanager
async def stack(env: WorkflowEnvironment, tmp_path: Path, faults: FaultConfig | None = None) -> AsyncIterator[Stack]:
    """The run's worker on one task queue (its workflow, its activities, the bank's) against the sandbox."""
    queue = f"q-{uuid.uuid4().hex[:8]}"
    store = IntegrationStore(f"sqlite:///{tmp_path / 'store.db'}")
    async with serve(create_app(tmp_path / "bank.db", faults=faults, settle_after_seconds=3600)) as url:
        bank = BankClient.from_settings(BankVendorSettings(base_url=url, timeout_seconds=3))
        runs = PaymentRunActivities(bank, store, payment_owners(env.client))
        try:
            async with Worker(env.client, task_queue=queue, workflows=[PaymentRunWorkflow, Payer], activities=[
                    *BookkeepingActivities(store, Settings()).all(), PaymentQueueActivities(store).enqueue_payment,
                    runs.collect_due, runs.send_run_file, runs.withdraw_run_file]):
                yield Stack(env, store, url, queue)
        finally:
            await bank.aclose()


async def test_due_payments_of_two_processes_go_in_one_file_per_debtor_account_each_routed_to_its_process(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
    lost = FaultConfig(ambiguous_rate=1.0, path_pattern="/v1/payments$")   # every file's first answer is lost
    async with stack(time_skipping_env, tmp_path, lost) as s:
        for e2e, amount, owner, day, from_us in [("E1", "100.00", R1, MONDAY, False), ("E2", "50.25", R2, MONDAY, False),
                                            ("E3", "999.99", R1, MONDAY, True), ("E4", "0.75", R1, SUNDAY, False),
                                            ("E5", "10.00", R2, SUNDAY, True), ("E6", "7.00", R2, TUESDAY, False)]:
            s.store.enqueue_payment(order(e2e, amount, day=day, us=from_us), owner, "supplier_payments")

        first = await s.run("payment-run-2026-11-23T10")
        outcome = await first.result()

        de, us = outcome.files
        assert [(f.outcome, f.file.debtor_entity, f.file.debtor_account, f.file.count, f.file.control_sums)
                for f in outcome.files] == [
            (FileOutcome.SENT, "DE01", DE_EUR.iban, 3, {"EUR": Decimal("151.00")}),
            (FileOutcome.SENT, "US01", US_USD.account_number, 2, {"USD": Decimal("1009.99")})]
        assert s.routes(de.file.message_id) == {"E1": R1, "E2": R2, "E4": R1}   # each transfer to its own process
        assert s.routes(us.file.message_id) == {"E3": R1, "E5": R2}
        assert await s.at_bank() == sorted([(de.file.message_id, e) for e in ("E1", "E2", "E4")]
                                           + [(us.file.message_id, e) for e in ("E3", "E5")])   # each paid once ...
        assert await s.injected() == {"dropped_response": 2}                                  # ... though retried
        assert s.states("E1", "E2", "E3", "E4", "E5", "E6") == [PaymentRequestState.SENT] * 5 + [PaymentRequestState.QUEUED]

        events = s.store.events(workflow_id=first.id)   # in the order the files were sent: either may go first
        assert sorted((e.type, e.entity_code, e.amount, e.currency, *itemgetter("message_id", "count", "control_sums")(
                json.loads(e.data))) for e in events) == [
            ("payment_run", "DE01", "151.00", "EUR", de.file.message_id, 3, {"EUR": "151.00"}),
            ("payment_run", "US01", "1009.99", "USD", us.file.message_id, 2, {"USD": "1009.99"})]
        await record_history(first, "payment_run")

        second = await s.run("payment-run-2026-11-23T15")
        assert await second.result() == RunOutcome(run_key="payment-run-2026-11-23T15", as_of=MONDAY)
        assert s.store.events(workflow_id=second.id) == []
        assert s.states("E6") == [PaymentRequestState.QUEUED]   # due tomorrow: the next day's
        await record_history(second, "payment_run-nothing_due")


async def test_a_file_the_bank_refuses_parks_alone_and_withdrawn_its_processes_hear_it_rejected(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
    async with stack(time_skipping_env, tmp_path) as s:
        # The bank already holds a payment of 1.00 EUR under E-DE-2: a file repeating the id is refused.
        bank = BankClient.from_settings(BankVendorSettings(base_url=s.bank_url, timeout_seconds=3))
        try:
            await bank.send_payment(PaymentInstruction(
                message_id="EARLIER-1", end_to_end_id="E-DE-2", debtor_entity="DE01", debtor_name=DE_EUR.holder_name,
                debtor_account=DE_EUR, creditor=KATRIN, amount=Money.of("1.00", "EUR"), requested_execution_date=MONDAY))
        finally:
            await bank.aclose()
        for e2e in ("E-US-1", "E-US-2"):
            s.store.enqueue_payment(order(e2e, "20.00", us=True), R1, "supplier_payments")
        payer = await time_skipping_env.client.start_workflow(
            Payer.run, [order("E-DE-1", "70.00"), order("E-DE-2", "30.00")], id=R2, task_queue=s.queue)
        await until(reading(lambda: s.states("E-DE-1", "E-DE-2")), lambda st: "missing" not in st, str)

        run = await s.run("payment-run-2026-11-23T10")

        view = await until(lambda: run.query("parked_view", result_type=ParkedView),
                           lambda v: bool(v.open_exceptions), lambda v: f"{v}")
        [parked] = view.open_exceptions
        assert (parked.problem.code, parked.actions) == ("PAYMENT_ID_REUSED", [ResolutionAction.RETRY, ResolutionAction.CANCEL])
        de_file = parked.item
        assert de_file is not None and "finsync reused a payment id" in parked.problem.reason
        # The US file, after the refused one in the run, is not held back by it.
        await until(reading(lambda: s.states("E-US-1", "E-US-2")), lambda st: st == [PaymentRequestState.SENT] * 2, str)
        assert set(s.routes(s.store.payment_request("E-US-1").message_id or "").values()) == {R1}   # type: ignore[union-attr]

        # Retried as it is, the bank refuses it again: it parks again.
        await run.execute_update(RESOLVE_EXCEPTION, Resolution(action=ResolutionAction.RETRY, resolved_by="treasury",
                                                               item=de_file), result_type=str)
        await until(reading(lambda: [e.type for e in s.store.events(workflow_id=run.id)]),
                    lambda types: types.count("exception_raised") == 2, str)
        await run.execute_update(RESOLVE_EXCEPTION, Resolution(action=ResolutionAction.CANCEL, resolved_by="treasury",
                                                               item=de_file, note="E-DE-2 was paid singly"), result_type=str)
        outcome = await run.result()
        reports = await payer.result()

    assert [(f.outcome, f.file.debtor_entity, f.file.count) for f in outcome.files] == [
        (FileOutcome.WITHDRAWN, "DE01", 2), (FileOutcome.SENT, "US01", 2)]
    assert [(r.end_to_end_id, r.message_id, r.state, r.reason_code, r.amount) for r in reports] == [
        ("E-DE-1", de_file, PaymentState.REJECTED, "DUPL", Money.of("70.00", "EUR")),
        ("E-DE-2", de_file, PaymentState.REJECTED, "DUPL", Money.of("30.00", "EUR"))]
    assert all("finsync reused a payment id" in (r.reason_text or "") for r in reports)
    assert s.states("E-DE-1", "E-DE-2") == [PaymentRequestState.WITHDRAWN] * 2
    assert s.store.claim_due_payments("payment-run-2026-11-23T15", MONDAY) == []   # never sent by a later run
    events = [(e.type, json.loads(e.data).get("outcome"), json.loads(e.data).get("message_id"))
              for e in s.store.events(workflow_id=run.id)]
    assert events.count(("payment_run", "withdrawn", de_file)) == 1
    assert sum(1 for e in events if e[:2] == ("payment_run", "sent")) == 1
    await record_history(run, "payment_run")


def reading(read: Callable[[], T]) -> Callable[[], Awaitable[T]]:
    """A read of the store, for ``until``."""
    async def now() -> T:
        return read()
    return now
