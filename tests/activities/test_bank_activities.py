"""The bank activity that sends a payment file, run by a workflow on the Temporal test server
against the bank sandbox: every transfer routed before the file leaves, the file sent once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.bank import BankActivities
from canonical import BankAccount, BatchSubmission, Money, PaymentOrder, PaymentState, payment_run_batches
from canonical.payment import CreditTransfer
from connectors.bank import BankClient
from finsync.config import BankVendorSettings
from finsync.store import IntegrationStore
from sandboxes.bank import create_app
from sandboxes.kit.faults import FaultConfig
from tests.activities.batch_sender import BatchSender
from tests.support.servers import serve

DE_DEBTOR = BankAccount(holder_name="Finsync Demo GmbH", iban="DE02120300000000202051", bic="BYLADEM1001")
KATRIN = BankAccount(holder_name="Katrin Vogel", iban="DE75512108001245126199", bic="COBADEFFXXX")


def submission(owners: dict[str, str]) -> BatchSubmission:
    (batch,) = payment_run_batches("RUN-ACT", [
        PaymentOrder(debtor_entity="DE01", debtor_name=DE_DEBTOR.holder_name, debtor_account=DE_DEBTOR,
                     requested_execution_date=date(2026, 11, 23) if n < 2 else date(2026, 11, 24),
                     transfer=CreditTransfer(end_to_end_id=f"E-ACT-{n}", creditor=KATRIN,
                                             amount=Money.of(f"{n + 1}0.00", "EUR")))
        for n in range(3)])
    return BatchSubmission(batch=batch, owners=owners)


async def test_a_batch_is_routed_per_transfer_then_sent_once_even_when_the_answer_is_lost(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
    store = IntegrationStore(f"sqlite:///{tmp_path / 'store.db'}")
    faults = FaultConfig(ambiguous_rate=1.0, path_pattern="/v1/payments$")   # every POST's answer is lost
    sent = submission(owners={"E-ACT-2": "requisition-R9"})
    async with serve(create_app(tmp_path / "bank.db", faults=faults, settle_after_seconds=30)) as url:
        bank = BankClient.from_settings(BankVendorSettings(base_url=url, timeout_seconds=3))
        try:
            async with Worker(time_skipping_env.client, task_queue="bank-test", workflows=[BatchSender],
                              activities=[BankActivities(bank, store).send_batch]):
                ack = await time_skipping_env.client.execute_workflow(
                    BatchSender.run, sent, id="payment-run-1", task_queue="bank-test")
        finally:
            await bank.aclose()
        async with httpx.AsyncClient(base_url=url) as admin:
            at_bank = (await admin.get("/_sandbox/payments")).json()
            injected = (await admin.get("/_sandbox/faults")).json()["injected"]

    groups = {tx.end_to_end_id: group.payment_info_id for group, tx in sent.batch.transfers()}
    assert injected == {"dropped_response": 1}             # the first attempt's answer was lost ...
    assert [(p["messageId"], p["endToEndId"]) for p in at_bank] == [(sent.batch.message_id, e2e) for e2e in groups]
    assert [(r.end_to_end_id, r.payment_info_id, r.state, r.source) for r in ack.reports] == [   # ... and read back
        (e2e, block, PaymentState.PENDING, "lookup") for e2e, block in groups.items()]
    routes = {r.end_to_end_id: (r.message_id, r.block, r.workflow_id) for r in store.routes_in(sent.batch.message_id)}
    assert routes == {e2e: (sent.batch.message_id, block, "requisition-R9" if e2e == "E-ACT-2" else "payment-run-1")
                      for e2e, block in groups.items()}
