"""finsync's canonical finance objects: the contract between vendors and workflows.

Vendor shapes never cross this line: connectors translate to and from these models, and
workflows see nothing else.
"""

from canonical.events import FinanceEvent, FinanceEventType
from canonical.expense import (
    ApprovalStatus,
    ClaimedReport,
    ExpenseLine,
    ExpenseReport,
    PaymentStatus,
    ReportStatusChanged,
)
from canonical.journal import (
    JournalConfirmation,
    JournalEntry,
    JournalLine,
    PostedJournal,
    Side,
    UnbalancedJournalError,
)
from canonical.money import Money, currency_exponent, quantize
from canonical.parties import BankAccount, CompanyBankAccount, CostCenter, Employee, GLAccount, LegalEntity
from canonical.payment import (
    BatchAcknowledgement,
    BatchSubmission,
    BulkPaymentFile,
    CreditTransfer,
    FileAcknowledgement,
    GroupStatusReport,
    PaymentBatch,
    PaymentFileTotals,
    PaymentGroup,
    PaymentIdReused,
    PaymentInstruction,
    PaymentOrder,
    PaymentRequestState,
    PaymentState,
    PaymentStatusReport,
    RejectionPage,
    StatusCount,
    TransactionRejection,
    payment_run_batches,
)
from canonical.problems import BusinessProblem, ProblemCode, ProblemRaised
from canonical.reference import AccountingPeriod, CodingContext, CodingRequest, FxRate

__all__ = [
    "AccountingPeriod", "ApprovalStatus", "BankAccount", "BatchAcknowledgement", "BatchSubmission", "CompanyBankAccount",
    "BulkPaymentFile", "BusinessProblem", "ClaimedReport", "CodingContext", "CodingRequest", "CreditTransfer",
    "GroupStatusReport", "CostCenter", "Employee", "ExpenseLine", "ExpenseReport", "FileAcknowledgement", "FinanceEvent",
    "FinanceEventType", "FxRate", "GLAccount", "JournalConfirmation", "JournalEntry", "JournalLine", "LegalEntity", "Money",
    "PaymentBatch", "PaymentFileTotals", "PaymentGroup", "PaymentIdReused", "PaymentInstruction", "PaymentOrder",
    "PaymentRequestState", "PaymentState", "PaymentStatus", "PaymentStatusReport", "PostedJournal", "ProblemCode",
    "ProblemRaised", "RejectionPage", "ReportStatusChanged", "Side", "StatusCount", "TransactionRejection",
    "UnbalancedJournalError", "currency_exponent", "payment_run_batches", "quantize",
]
