"""The roles a vendor can play, as the activities see them.

Every write is idempotent: the caller passes keys derived from the workflow and step, and
``lookup_first=True`` (set on any attempt after the first) makes the connector look the record
up by that key before writing, which resolves a timeout whose outcome was unknown.
Errors follow ``connectors.errors``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Collection
from datetime import date, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from canonical import (
    BatchAcknowledgement,
    ClaimedReport,
    CodingContext,
    CodingRequest,
    ExpenseReport,
    FileAcknowledgement,
    JournalEntry,
    Money,
    PaymentBatch,
    PaymentFileTotals,
    PaymentInstruction,
    PaymentStatusReport,
    PostedJournal,
    RejectionPage,
    ReportStatusChanged,
    Side,
)
from canonical.money import total
from canonical.payroll import Payee, PayrollRunEvent, PayrollRunRef, RegisterTotals, ResultPage
from canonical.procurement import (
    BillPayment,
    BillReversal,
    BudgetCheck,
    BudgetRequest,
    Commitment,
    Invoice,
    PostedBill,
    PostedBillPayment,
    PostedCommitment,
    ProcurementChange,
    ProcurementChangeKind,
    PurchaseOrder,
    Receipt,
    Requisition,
    Supplier,
    VendorBill,
)
from canonical.statement import BankStatement


class ExpensePlatform(Protocol):
    """An expense platform (SAP Concur shape)."""

    source_system: str

    # ``owner_ref`` is the platform's own id for the report's owner (ExpenseReport.owner_ref,
    # ReportStatusChanged.owner_ref) when finsync knows it: it spares the connector a lookup.

    async def get_report(self, report_id: str, owner_ref: str | None = None) -> ExpenseReport:
        """Header and lines of one report, with the employee resolved to finsync's employee id."""

    async def pass_validation(self, report_id: str, comment: str, *, owner_ref: str | None = None,
                              lookup_first: bool = False) -> None:
        """finsync's policy check passed: release the report to its approver. Releasing a
        report that is already with its approver is a no-op, never a second approval."""

    async def send_back(self, report_id: str, reason: str, *, owner_ref: str | None = None) -> None:
        """Return the report to the employee with a reason they can act on."""

    async def claim_for_posting(self, report_id: str, owner_ref: str | None = None) -> ClaimedReport:
        """The approved report as it will be posted, taken off the ready-to-post queue.
        Claiming twice returns the same claim."""

    async def confirm_posting(self, claim: ClaimedReport, posted: PostedJournal) -> None:
        """Tell the platform the ERP document that holds this report."""

    async def confirm_payment(self, claim: ClaimedReport, payment: PaymentStatusReport) -> None:
        """Tell the platform the employee has been paid (the report becomes paid)."""

    def changed_reports(self, since: datetime | None) -> AsyncIterator[ReportStatusChanged]:
        """Reports waiting for a decision and approved reports not yet paid, changed on the
        platform after ``since`` (all of them if None), paged through the platform. Each is a
        status change stamped with the platform's modification time, its event id derived from
        the report, its status and that time: the same state read twice is the same event."""

    async def aclose(self) -> None: ...


class LedgerLine(BaseModel):
    """One line of a journal as the ERP holds it."""

    model_config = ConfigDict(frozen=True)

    account: str                     # the GL account number
    side: Side
    amount: Money


class LedgerJournal(BaseModel):
    """A journal read back from the ERP, lines included (for reconciliation)."""

    model_config = ConfigDict(frozen=True)

    erp_id: str
    document_number: str
    external_id: str | None = None   # None: not posted by an integration (entered by hand)
    entity: str
    posting_date: date
    currency: str
    lines: list[LedgerLine] = []

    def total(self) -> Money:
        """The sum of the debits, as a posted journal's amount is stated."""
        return total([line.amount for line in self.lines if line.side is Side.DEBIT], self.currency)

    def net(self, account: str) -> Money:
        """Debits less credits on one account."""
        return total([line.amount if line.side is Side.DEBIT else -line.amount
                      for line in self.lines if line.account == account], self.currency)


class JournalLedger(Protocol):
    """The journal side of a general ledger: what posting a journal and reading it back take
    (NetSuite and SAP S/4HANA shapes alike). The payroll journal asks only this, so either ERP can
    hold an entity's payroll."""

    async def post_journal(self, entry: JournalEntry, *, lookup_first: bool = False) -> PostedJournal:
        """Post once, keyed by ``entry.external_id``; posting an existing key returns the existing one.
        An entry with ``reverses_external_id`` reverses that journal."""

    async def find_journal(self, external_id: str) -> PostedJournal | None: ...

    async def journals_by_external_id(self, external_ids: Collection[str]) -> list[LedgerJournal]:
        """The journals with these external ids, lines included; ids the ERP has none for are left out.
        A journal here is any document that posts: a journal entry, a vendor bill, credit or payment."""

    async def aclose(self) -> None: ...


class Erp(JournalLedger, Protocol):
    """A general ledger with the master data and day views expense reports need (NetSuite shape)."""

    async def coding_context(self, request: CodingRequest) -> CodingContext:
        """Master data one document needs, in as few calls as the ERP allows."""

    async def journals_on(self, entity: str, day: date) -> list[LedgerJournal]:
        """The entity's journals (any document that posts) dated ``day`` or entered on it, lines included."""


class FileBank(Protocol):
    """What paying thousands in one file needs of a bank (a payroll's net pay): the file sent and
    answered in numbers, its rejections read by page, the account's statement."""

    async def send_batch_file(self, totals: PaymentFileTotals, path: str | os.PathLike[str], *,
                              lookup_first: bool = False) -> FileAcknowledgement: ...

    async def file_status(self, message_id: str) -> FileAcknowledgement | None: ...

    async def rejections(self, message_id: str, cursor: str | None = None) -> RejectionPage: ...

    async def statement(self, account: str, day: date) -> BankStatement: ...

    async def aclose(self) -> None: ...


class Bank(Protocol):
    """A bank taking ISO 20022 credit transfers."""

    async def send_payment(self, instruction: PaymentInstruction, *, lookup_first: bool = False) -> PaymentStatusReport:
        """Submit once, keyed by MsgId/EndToEndId; a repeat is recognised, never paid twice."""

    async def send_batch(self, batch: PaymentBatch, *, lookup_first: bool = False) -> BatchAcknowledgement:
        """Submit one file for the batch, keyed by its MsgId; a repeat is recognised, never paid twice."""

    async def send_batch_file(self, totals: PaymentFileTotals, path: str | os.PathLike[str], *,
                              lookup_first: bool = False) -> FileAcknowledgement:
        """Upload a written pain.001 (``totals`` are its own) streamed from disk, keyed by its MsgId;
        a repeat is recognised, never paid twice. Answered in numbers, never per transaction."""

    async def file_status(self, message_id: str) -> FileAcknowledgement | None:
        """The bank's word on a whole file in numbers (None if it never got it)."""

    async def rejections(self, message_id: str, cursor: str | None = None) -> RejectionPage:
        """One page of a file's rejected transactions from ``cursor`` (None: the first page)."""

    async def payment_status(self, message_id: str, end_to_end_id: str) -> PaymentStatusReport:
        """The bank's current word on one transaction (state UNKNOWN if it never got it)."""

    async def statement(self, account: str, day: date) -> BankStatement:
        """The end-of-day statement (camt.053) of one of the company's accounts (IBAN, or account
        number) for ``day``. ``NotFoundError`` if the bank has none."""

    async def aclose(self) -> None: ...


class ProcurementPlatform(Protocol):
    """Requisitions, purchase orders, receipts and invoices (Coupa shape). Its documented
    integration is polling: ``changes`` reads what changed and ``mark_exported`` acknowledges it."""

    async def get_requisition(self, requisition_id: str) -> Requisition: ...

    async def get_supplier(self, supplier_id: str) -> Supplier: ...

    async def order_for_requisition(self, requisition_id: str) -> PurchaseOrder | None:
        """The purchase order the platform made from the approved requisition (None: not yet)."""
        ...

    async def issue_order(self, order_id: str) -> PurchaseOrder:
        """Send the order to the supplier; issuing an issued order changes nothing."""
        ...

    async def cancel_order(self, order_id: str) -> None: ...

    async def close_order(self, order_id: str) -> None: ...

    async def receipts(self, order_id: str) -> list[Receipt]: ...

    async def get_invoice(self, invoice_id: str) -> Invoice: ...

    async def void_invoice(self, invoice_id: str, reason: str) -> None: ...

    async def record_payment(self, invoice_id: str, amount: Money, paid_on: date, note: str) -> None:
        """Write the payment back to the invoice; a repeat with the same note records it once."""
        ...

    def changes(self, since: datetime | None) -> AsyncIterator[ProcurementChange]:
        """Approved requisitions, receipts and invoices changed after ``since`` and not yet
        exported, each with the requisition it belongs to."""
        ...

    async def change_of(self, kind: ProcurementChangeKind, document_id: str) -> ProcurementChange | None:
        """The change an event names (a webhook), read as ``changes`` reads it: the same version is
        the same change id. None for a document ``changes`` would not hand on."""
        ...

    async def mark_exported(self, change: ProcurementChange) -> None:
        """Acknowledge the change: the platform lists this version of the document no more."""
        ...

    async def aclose(self) -> None: ...


class ProcurementErp(Protocol):
    """The ERP's side of requisition-to-pay (NetSuite shape): budget, commitments, vendor bills and
    their payments. Writes are upserts by external id (``lookup_first`` as above)."""

    async def check_budget(self, request: BudgetRequest) -> BudgetCheck: ...

    async def supplier_known(self, supplier_number: str, entity_code: str) -> bool:
        """Whether the ERP has this supplier as an active vendor of the entity."""
        ...

    async def create_commitment(self, commitment: Commitment) -> PostedCommitment: ...

    async def release_commitment(self, external_id: str) -> None:
        """Close what is still open of the commitment (a cancelled or fully billed order)."""
        ...

    async def post_bill(self, bill: VendorBill, *, lookup_first: bool = False) -> PostedBill: ...

    async def reverse_bill(self, reversal: BillReversal, *, lookup_first: bool = False) -> PostedJournal: ...

    async def pay_bill(self, payment: BillPayment, *, lookup_first: bool = False) -> PostedBillPayment: ...


class PayrollProvider(Protocol):
    """A payroll system (Workday shape): runs, their results by page, their control totals and the
    employees' bank details. finsync only reads it, and adds reimbursements as pay inputs."""

    async def run(self, run_id: str) -> PayrollRunEvent:
        """The run's current state and version, as its last event would announce it."""
        ...

    def changed_runs(self, since: datetime | None) -> AsyncIterator[PayrollRunEvent]:
        """Runs finalized, reopened or cancelled after ``since`` (all if None): the sweep's source."""
        ...

    async def results_page(self, run: PayrollRunRef, cursor: str | None, page_size: int) -> ResultPage:
        """One page of the run's results. ``cursor`` None starts at the first page; a page's
        ``next_cursor`` resumes after it, also in another process (it is plain text)."""
        ...

    async def control_totals(self, run: PayrollRunRef) -> list[RegisterTotals]:
        """The provider's payroll register totals, one per entity and currency."""
        ...

    async def payees_page(self, entity: str, cursor: str | None, page_size: int) -> tuple[list[Payee], str | None]:
        """One page of the entity's employees with where their net pay goes, and the next cursor."""
        ...

    async def payee(self, entity: str, worker_id: str) -> Payee | None:
        """Where this one employee of the entity is paid now (None: no payment election into a bank
        account), read alone: after a rejection, finance corrects one account, not 50,000. A worker
        the provider does not know, or one of another entity, is a business refusal."""
        ...

    async def add_pay_input(self, worker_id: str, component: str, amount: Money, reference: str) -> None:
        """A one-off pay input for the employee's next run (a reimbursement), once per reference."""
        ...

    async def aclose(self) -> None: ...
