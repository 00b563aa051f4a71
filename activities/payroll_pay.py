"""Paying a payroll's net pay: one pain.001 per entity and debtor account, one transfer per employee,
and the bank statement that shows it left.

Thousands of transfers never pass through workflow history: the payees are read from the payroll
system into the store (``read_payees``, on its task queue; ``read_payee`` reads one employee again
after a rejection), the file is written from the store straight to disk, checked against the XSD
and uploaded from there (``send_net_pay``, on the bank's);
the workflow holds the file's MsgId and its counts. The bank answers in counts too; its rejected
transfers are read page by page into the store (``take_rejections``), and only those few employees,
with their names and amounts, reach the workflow (the payload codec encrypts them there).
"""

from __future__ import annotations

import asyncio
import functools
import os
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import business_error, is_retry, vendor_call
from canonical import (
    BankAccount,
    BulkPaymentFile,
    BusinessProblem,
    CreditTransfer,
    FileAcknowledgement,
    Money,
    PaymentFileTotals,
    ProblemCode,
)
from canonical.bank_reconciliation import (
    ExpectedBatch,
    ExpectedBookings,
    ExpectedTransfer,
    StatementReconciliation,
    reconcile_statement,
)
from canonical.keys import iso20022_id
from canonical.money import from_minor_units
from canonical.payroll import PayrollRunRef
from connectors.bank import validate_pain001, write_bulk_pain001
from connectors.errors import BusinessRuleError, NotFoundError, TransientVendorError
from connectors.interfaces import FileBank, PayrollProvider
from finsync.config import DebtorAccount, EntityAccounts

if TYPE_CHECKING:
    from finsync.store import IntegrationStore  # handed in by worker.py: workflows import this module

PAYEES_PAGE = 5000
REJECTIONS_SHOWN = 200   # rejected employees the workflow parks one by one; the count covers the rest


class EntityRun(BaseModel):
    run: PayrollRunRef
    entity: str
    currency: str


class WorkerPayee(BaseModel):
    """One employee of the entity, whose bank details are read again alone (after a rejection)."""

    run: PayrollRunRef
    entity: str
    worker_id: str


class NetPayRequest(BaseModel):
    """The entity's net pay for the run, as one file; ``only_worker`` pays one employee again after
    a rejection, ``rejected_except`` every employee the bank rejected but those named (they are
    paid on their own); ``attempt`` makes the MsgId and EndToEndIds new."""

    run: PayrollRunRef
    entity: str
    currency: str
    only_worker: str | None = None
    rejected_except: list[str] | None = None
    attempt: int = 0


class NetPayFile(BaseModel):
    """The file as sent and the bank's first word on it, in numbers."""

    message_id: str
    payment_info_id: str
    debtor_account: str
    count: int
    control_sum: Money
    acknowledgement: FileAcknowledgement
    without_bank_details: list[str] = []   # worker ids left out: the payroll system has no account for them


class FileRequest(BaseModel):
    message_id: str


class RejectedEmployee(BaseModel):
    """An employee whose net pay the bank rejected: employee data, carried only encrypted."""

    worker_id: str
    name: str
    amount: Money
    reason_code: str | None = None


class Rejections(BaseModel):
    count: int
    employees: list[RejectedEmployee]       # the first REJECTIONS_SHOWN


class StatementRequest(BaseModel):
    files: list[NetPayFile]          # every net-pay file of the entity: the first, and any sent again
    run: PayrollRunRef
    entity: str
    booking_date: date


def net_pay_ids(run: PayrollRunRef, entity: str, attempt: int = 0, worker: str | None = None) -> tuple[str, str]:
    """(MsgId, PmtInfId) of the entity's net-pay file: the same for every attempt of one step."""
    step = f"net{attempt}" + (worker or "")
    return iso20022_id("NP", f"{run.run_id}v{run.version}{entity}", step), iso20022_id("NPB", f"{run.run_id}{entity}", step)


def end_to_end_id(run: PayrollRunRef, worker_id: str, attempt: int = 0) -> str:
    return iso20022_id("NP", f"{run.run_id}v{run.version}{worker_id}", f"p{attempt}")


class PayrollPayeeActivities:
    """On the payroll system's task queue."""

    def __init__(self, provider: PayrollProvider, store: IntegrationStore) -> None:
        self.provider = provider
        self.store = store

    @activity.defn(name="payroll.read_payees")
    async def read_payees(self, request: EntityRun) -> int:
        """Where each of the entity's employees is paid, from the payroll system into the store."""
        cursor: str | None = None
        read = 0
        while True:
            async with vendor_call():
                payees, cursor = await self.provider.payees_page(request.entity, cursor, PAYEES_PAGE)
            await asyncio.to_thread(self.store.store_payees, request.run.key, payees)
            read += len(payees)
            activity.heartbeat(read)
            if cursor is None:
                return read

    @activity.defn(name="payroll.read_payee")
    async def read_payee(self, request: WorkerPayee) -> bool:
        """Where one employee is paid now, from the payroll system into the store, replacing what it
        held (a corrected account); False when the payroll system has no bank details for them (the
        store is left as it was)."""
        async with vendor_call():
            payee = await self.provider.payee(request.entity, request.worker_id)
        if payee is None:
            return False
        await asyncio.to_thread(self.store.store_payees, request.run.key, [payee])
        return True


class PayrollBankActivities:
    """On the bank's task queue."""

    def __init__(self, bank: FileBank, store: IntegrationStore, accounts: EntityAccounts, spool: Path) -> None:
        self.bank = bank
        self.store = store
        self.accounts = accounts
        self.spool = spool          # where files are written before they are sent (never kept)

    def _debtor(self, entity: str, currency: str) -> DebtorAccount:
        account = self.accounts.get(entity, {}).get(currency)
        if account is None:
            raise business_error(BusinessRuleError("finsync", BusinessProblem(
                code=ProblemCode.PAYOUT_ACCOUNT_MISSING, system="finsync", subject=f"{entity} {currency}",
                reason=f"No payroll account pays {currency} for {entity}: configure [bank.debtor_accounts.payroll]")))
        return account

    @activity.defn(name="payroll.send_net_pay")
    async def send_net_pay(self, request: NetPayRequest) -> NetPayFile:
        """Write, check and send the file once (its MsgId is the step's); a retry asks the bank first."""
        debtor = self._debtor(request.entity, request.currency)
        message_id, payment_info_id = net_pay_ids(request.run, request.entity, request.attempt, request.only_worker)
        payment_file = BulkPaymentFile(
            message_id=message_id, payment_info_id=payment_info_id, debtor_entity=request.entity,
            debtor_name=debtor.name, currency=request.currency, requested_execution_date=request.run.payment_date,
            debtor_account=BankAccount(holder_name=debtor.name, bic=debtor.bic, iban=debtor.iban,
                                       account_number=debtor.account_number),
            service_level="SEPA" if request.currency == "EUR" and debtor.iban else None)
        path, transfers, missing, sent = await asyncio.to_thread(self._write, request, payment_file)
        try:
            async with vendor_call():
                acknowledgement = await self.bank.send_batch_file(transfers, path, lookup_first=is_retry())
        finally:
            await asyncio.to_thread(path.unlink, True)
        # A file sent again (one refused whole, or one employee's) carries the transfers from now on.
        await asyncio.to_thread(functools.partial(self.store.record_transfers, sent, again=request.attempt > 0))
        return NetPayFile(message_id=message_id, payment_info_id=payment_info_id,
                          debtor_account=payment_file.debtor_account.account_id, count=transfers.count,
                          control_sum=Money.of(transfers.control_sum, request.currency),
                          acknowledgement=acknowledgement, without_bank_details=missing)

    def _write(self, request: NetPayRequest,
               payment_file: BulkPaymentFile) -> tuple[Path, PaymentFileTotals, list[str], list[dict]]:
        """The file written from the store into the spool, checked against the XSD: (where it is,
        its totals, the workers left out, the transfer rows to record)."""
        self.spool.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f"{payment_file.message_id}.", suffix=".xml", dir=self.spool)
        os.close(fd)
        path = Path(name)
        missing: list[str] = []
        sent: list[dict] = []

        rejected = None
        if request.rejected_except is not None:
            rejected = self.store.rejected_workers(request.run.key, request.entity) - set(request.rejected_except)

        def transfers() -> Iterator[CreditTransfer]:
            for employee, payee in self.store.net_pay_due(request.run.key, request.entity):
                if request.only_worker is not None and employee.worker_id != request.only_worker:
                    continue
                if rejected is not None and employee.worker_id not in rejected:
                    continue
                if payee is None:
                    missing.append(employee.worker_id)
                    continue
                amount = Money.of(from_minor_units(employee.net_minor, request.currency), request.currency)
                e2e = end_to_end_id(request.run, employee.worker_id, request.attempt)
                sent.append({"run_key": request.run.key, "worker_id": employee.worker_id, "entity": request.entity,
                             "end_to_end_id": e2e, "message_id": payment_file.message_id,
                             "amount_minor": employee.net_minor, "currency": request.currency, "state": "SENT"})
                yield CreditTransfer(end_to_end_id=e2e, amount=amount, remittance_info=f"Net pay {request.run.run_id}",
                                     creditor=BankAccount(holder_name=payee.name, bic=payee.bic, iban=payee.iban,
                                                          account_number=payee.account_number))

        try:
            if request.only_worker is not None and self.store.payee(request.run.key, request.only_worker) is None:
                raise business_error(BusinessRuleError("payroll", BusinessProblem(
                    code=ProblemCode.BANK_DETAILS_MISSING, system="payroll", subject=request.only_worker,
                    reason=f"The payroll system still has no bank account for employee {request.only_worker}: "
                           "add the payment election there, then retry.")))
            totals = write_bulk_pain001(path, payment_file, transfers())
            validate_pain001(path)
        except ApplicationError:
            path.unlink(missing_ok=True)
            raise
        except ValueError as error:   # InvalidPaymentFile is one too: a defect, never sent
            path.unlink(missing_ok=True)
            raise ApplicationError(f"net pay file {payment_file.message_id} not written: {error}",
                                   type="InvalidPaymentFile", non_retryable=True) from error
        return path, totals, missing, sent

    @activity.defn(name="payroll.file_status")
    async def file_status(self, request: FileRequest) -> FileAcknowledgement:
        async with vendor_call():
            found = await self.bank.file_status(request.message_id)
        if found is None:
            raise TransientVendorError("bank", f"the bank does not list file {request.message_id} yet")
        return found

    @activity.defn(name="payroll.take_rejections")
    async def take_rejections(self, request: FileRequest) -> Rejections:
        """The file's rejected transfers, page by page, marked in the store; the first few employees named."""
        reasons: dict[str, str | None] = {}
        cursor: str | None = None
        while True:
            async with vendor_call():
                page = await self.bank.rejections(request.message_id, cursor)
            reasons.update({rejection.end_to_end_id: rejection.reason_code for rejection in page.rejections})
            cursor = page.next_cursor
            activity.heartbeat(len(reasons))
            if cursor is None:
                break
        payments = await asyncio.to_thread(self.store.reject_transfers, reasons)
        shown = []
        for payment in sorted(payments, key=lambda p: p.worker_id)[:REJECTIONS_SHOWN]:
            payee = await asyncio.to_thread(self.store.payee, payment.run_key, payment.worker_id)
            shown.append(RejectedEmployee(worker_id=payment.worker_id, name=payee.name if payee else payment.worker_id,
                                          amount=Money.of(from_minor_units(payment.amount_minor, payment.currency),
                                                          payment.currency),
                                          reason_code=payment.reason_code))
        return Rejections(count=len(reasons), employees=shown)

    @activity.defn(name="payroll.reconcile_statement")
    async def reconcile_statement(self, request: StatementRequest) -> StatementReconciliation:
        """The day's statement of the paying account against the entity's net-pay files: each booked
        as one batch (or transfer by transfer), balances that add up, what is missing or unknown."""
        account = request.files[0].debtor_account
        async with vendor_call():
            try:
                statement = await self.bank.statement(account, request.booking_date)
            except NotFoundError as error:   # the day's statement is not out yet: ask again later
                raise TransientVendorError("bank", f"no statement of {request.booking_date} yet") from error
        batches = []
        for sent in request.files:
            currency = sent.control_sum.currency
            settled = await asyncio.to_thread(self.store.settled_transfers, request.run.key, sent.message_id)
            batches.append(ExpectedBatch(
                message_id=sent.message_id, payment_info_id=sent.payment_info_id, debtor_account=account,
                currency=currency, instructed_count=sent.count, instructed_total=sent.control_sum,
                transactions=[ExpectedTransfer(end_to_end_id=e2e, amount=Money.of(from_minor_units(minor, currency),
                                                                                  currency))
                              for e2e, minor in settled]))
        result = reconcile_statement(statement, ExpectedBookings(account_id=account, batches=batches))
        # The account pays other runs and processes too: their files are theirs to reconcile, not unknown.
        theirs = await asyncio.to_thread(self.store.files_sent, {u.message_id for u in result.unknown if u.message_id})
        return result.model_copy(update={"unknown": [u for u in result.unknown if u.message_id not in theirs]})
