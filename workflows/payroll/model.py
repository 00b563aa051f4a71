"""What goes in and out of the payroll workflows: the run (parent) and one child per legal entity."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel

from canonical import Money, PostedJournal
from canonical.journal import journal_workflow_id
from canonical.payroll import EntityPayroll, PayrollRunEvent, PayrollRunRef, RegisterTotals
from canonical.payroll_journal import journal_external_id
from workflows.common.exceptions import DatedResolution, OpenException, ResolutionAction
from workflows.common.status import TimelineEntry

PROCESS = "payroll"
SIGNAL_RUN_CHANGED = "payroll_run_changed"     # the provider reopened or cancelled the run
SIGNAL_ENTITY_PROGRESS = "entity_progress"     # a child tells the run where its entity stands
SIGNAL_ENTITY_DECISION = "entity_decision"     # the run tells a child to reverse or to finish


def workflow_id(run: PayrollRunRef) -> str:
    """One workflow per finalized version of a provider's run: a reopened run's next version is a
    workflow of its own, whatever the previous one is still doing (reversing, say)."""
    return f"payroll-{run.provider}-{run.run_id}-v{run.version}"


def entity_workflow_id(run: PayrollRunRef, entity: str) -> str:
    """Named after the journal it posts, so the ERP's asynchronous confirmation finds it."""
    return journal_workflow_id(journal_external_id(run, entity))


class PayrollQueues(BaseModel):
    """Where activities run (from configuration, fixed at start for determinism)."""

    provider: str = "finsync-payroll"
    bank: str = "finsync-bank"
    # ERP configuration section ("erp", "s4hana") -> its task queue; which section an entity posts
    # to is the payroll rulebook's ``ledgers``.
    ledgers: dict[str, str] = {"erp": "finsync-erp", "s4hana": "finsync-erp-sap"}


class PayrollInput(BaseModel):
    event: PayrollRunEvent          # the provider's "run finalized"
    queues: PayrollQueues = PayrollQueues()
    correlation_id: str = ""


class PayrollStatus(StrEnum):
    FINALIZED = "FINALIZED"          # the provider finalized the run: finsync took it
    READ = "READ"                    # results read into the store, every employee adds up
    TIED = "TIED"                    # the totals tie to the provider's register
    APPROVED = "APPROVED"            # no variance beyond the threshold, or a controller accepted it
    POSTING = "POSTING"              # the entities' journals are being posted, net pay paid, statements read
    POSTED = "POSTED"                # every entity's journal posted (or the entity stopped by finance)
    RECONCILED = "RECONCILED"        # every entity's net pay paid and found on the bank statement
    REVERSED = "REVERSED"            # the provider reopened or cancelled the run: its journals reversed
    SUPERSEDED = "SUPERSEDED"        # reopened or cancelled before anything was posted: nothing to undo
    COMPLETED = "COMPLETED"
    EXCEPTION = "EXCEPTION"
    CANCELLED = "CANCELLED"          # finance stopped it: nothing posted


class EntityStatus(StrEnum):
    PENDING = "PENDING"
    POSTED = "POSTED"                # the journal stands in the entity's ERP and reads back as built
    PAYING = "PAYING"                # the net-pay file is with the bank
    PAID = "PAID"                    # the bank decided every transfer (the rejected ones parked by employee)
    RECONCILED = "RECONCILED"        # the day's statement read against the file
    REVERSED = "REVERSED"            # its reversal stands too, referencing it
    KEPT = "KEPT"                    # reopened after net pay left: finance kept the journal
    COMPLETED = "COMPLETED"
    EXCEPTION = "EXCEPTION"
    CANCELLED = "CANCELLED"          # finance stopped this entity: nothing posted for it


class PayrollResolution(DatedResolution):
    """Accepting a variance needs a reason (``note``); the workflow also refuses the approver who
    finalized the run."""

    def missing(self) -> str | None:
        if self.action is ResolutionAction.ACCEPT_VARIANCE and not self.note.strip():
            return "accept_variance needs a reason (note)"
        return super().missing()


class EntityInput(BaseModel):
    run: PayrollRunRef
    payroll: EntityPayroll
    ledger: str                      # the ERP configuration section it posts to
    ledger_queue: str
    provider_queue: str = "finsync-payroll"
    bank_queue: str = "finsync-bank"
    pay_days_before: int = 1          # the file goes to the bank this many days before the payment date
    parent_workflow_id: str
    correlation_id: str = ""


class EntityDecision(BaseModel):
    """The run's word to a child once the run is settled: reverse (with why), or finish."""

    reverse: bool
    reason: str = ""
    posting_date: date | None = None   # the reversal's; default: the original's date or today if later


class NetPaySummary(BaseModel):
    """The entity's net-pay file and the bank's word on it, in numbers."""

    message_id: str
    transfers: int
    total: Money
    settled: int = 0
    rejected: int = 0
    statement: str = ""              # the reconciliation's one line, once the statement was read


class EntityProgress(BaseModel):
    """What a child tells its run: where the entity stands, and its journal."""

    entity: str
    status: EntityStatus
    journal: PostedJournal | None = None
    reversal: PostedJournal | None = None
    payment: NetPaySummary | None = None
    note: str = ""


class EntitySnapshot(BaseModel):
    entity: str
    status: EntityStatus
    ledger: str
    net_pay: Money
    journal: PostedJournal | None = None
    reversal: PostedJournal | None = None
    read_back_differences: list[str] = []
    payment: NetPaySummary | None = None
    net_pay_bookings: list[PostedJournal] = []   # each net-pay file's booking (Dr net pay payable, Cr bank)
    open_exceptions: list[OpenException] = []
    timeline: list[TimelineEntry] = []


class PayrollSnapshot(BaseModel):
    """The run's ``status`` query: where it stands and where each entity does."""

    run: PayrollRunRef
    status: PayrollStatus
    rows: int = 0
    totals: list[RegisterTotals] = []
    entities: dict[str, EntityProgress] = {}
    open_exceptions: list[OpenException] = []
    timeline: list[TimelineEntry] = []
