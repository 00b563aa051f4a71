"""A business problem: why a process stopped, in words finance can act on.

Every condition has one code (``ProblemCode``), whichever system found it: the ERP refusing a
journal line and finsync's own coding check name an unknown cost center the same way, so the
remedies offered for it (workflows/common/remedies.py) are the same too. A problem carries its
subject, the value at fault and the line it sits on, so a remedy knows what it corrects.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

# The error type a business refusal travels as from an activity to its workflow: non-retryable,
# it parks the process with the BusinessProblem as its first detail.
BUSINESS_RULE_VIOLATION = "BusinessRuleViolation"


class ProblemCode(StrEnum):
    # master data the journal needs
    COST_CENTER_MISSING = "COST_CENTER_MISSING"
    COST_CENTER_UNKNOWN = "COST_CENTER_UNKNOWN"
    COST_CENTER_INACTIVE = "COST_CENTER_INACTIVE"
    COST_CENTER_WRONG_ENTITY = "COST_CENTER_WRONG_ENTITY"
    ACCOUNT_UNKNOWN = "ACCOUNT_UNKNOWN"
    ACCOUNT_INACTIVE = "ACCOUNT_INACTIVE"
    NO_ACCOUNT_MAPPING = "NO_ACCOUNT_MAPPING"
    ENTITY_UNKNOWN = "ENTITY_UNKNOWN"
    EMPLOYEE_INACTIVE = "EMPLOYEE_INACTIVE"
    FX_RATE_MISSING = "FX_RATE_MISSING"
    NOTHING_TO_REIMBURSE = "NOTHING_TO_REIMBURSE"
    JOURNAL_INVALID = "JOURNAL_INVALID"          # finsync could not build a valid entry from the report
    JOURNAL_UNBALANCED = "JOURNAL_UNBALANCED"    # an entry that bypassed validation, stopped before the ERP
    PERIOD_MISSING = "PERIOD_MISSING"
    PERIOD_CLOSED = "PERIOD_CLOSED"
    # paying
    BANK_DETAILS_MISSING = "BANK_DETAILS_MISSING"
    BANK_DETAILS_UNCHANGED = "BANK_DETAILS_UNCHANGED"
    PAYOUT_ACCOUNT_MISSING = "PAYOUT_ACCOUNT_MISSING"
    PAYMENT_REJECTED = "PAYMENT_REJECTED"
    BANK_SILENT = "BANK_SILENT"
    PAID_BUT_RECALLED = "PAID_BUT_RECALLED"
    PAYMENT_RETURNED = "PAYMENT_RETURNED"     # settled, then sent back by the employee's bank
    RETURN_NOT_BOOKED = "RETURN_NOT_BOOKED"   # finsync has no record of what the returned payment booked
    SETTLEMENT_AMOUNT_UNKNOWN = "SETTLEMENT_AMOUNT_UNKNOWN"   # the bank has not said what it debited
    FX_ACCOUNT_MISSING = "FX_ACCOUNT_MISSING"
    # the expense platform's report moved under finsync
    REPORT_RECALLED = "REPORT_RECALLED"
    REPORT_SENT_BACK = "REPORT_SENT_BACK"
    REPORT_NOT_SUBMITTED = "REPORT_NOT_SUBMITTED"
    REPORT_CANCELLED = "REPORT_CANCELLED"
    REPORT_NOT_FOUND = "REPORT_NOT_FOUND"
    # requisition-to-pay: the supplier, the budget, the supplier's invoice
    SUPPLIER_INACTIVE = "SUPPLIER_INACTIVE"
    SUPPLIER_ON_HOLD = "SUPPLIER_ON_HOLD"
    SUPPLIER_BANK_INVALID = "SUPPLIER_BANK_INVALID"   # no remit-to, or bank details finsync cannot pay to
    BUDGET_INSUFFICIENT = "BUDGET_INSUFFICIENT"
    INVOICE_MISMATCH = "INVOICE_MISMATCH"     # three-way match failed: the invoice is on AP hold
    INVOICE_DUPLICATE = "INVOICE_DUPLICATE"   # the supplier's invoice number was already billed this fiscal year
    SUPPLIER_UNKNOWN_IN_ERP = "SUPPLIER_UNKNOWN_IN_ERP"
    ORDER_MISSING = "ORDER_MISSING"           # no purchase order for an approved requisition
    ORDER_LINE_CLOSED = "ORDER_LINE_CLOSED"   # an invoice bills a purchase order line closed in the ERP
    BILL_SETTLED = "BILL_SETTLED"             # the bill is paid or credited in the ERP: it cannot change or be reversed
    # payroll: the run as the provider finalized it, and its journal per legal entity
    PAYROLL_EMPLOYEES_UNBALANCED = "PAYROLL_EMPLOYEES_UNBALANCED"   # earnings - deductions + reimbursements != net pay
    PAYROLL_CONTROL_TOTALS_DIFFER = "PAYROLL_CONTROL_TOTALS_DIFFER"  # finsync's sums do not tie to the register's
    PAYROLL_VARIANCE = "PAYROLL_VARIANCE"     # net pay moved against the previous period beyond the threshold
    PAY_COMPONENT_UNMAPPED = "PAY_COMPONENT_UNMAPPED"   # a pay component with no GL account in the payroll rules
    PAYROLL_LEDGER_MISSING = "PAYROLL_LEDGER_MISSING"   # no ERP configured for the entity's payroll journal
    JOURNAL_READ_BACK_DIFFERS = "JOURNAL_READ_BACK_DIFFERS"   # the ERP holds other amounts than finsync posted
    PAYROLL_SILENT = "PAYROLL_SILENT"          # a reimbursement handed to payroll, and no run has paid it
    PAYROLL_ACCOUNT_MISMATCH = "PAYROLL_ACCOUNT_MISMATCH"   # payroll would clear another account than the payable
    PAYROLL_REOPENED_AFTER_PAYMENT = "PAYROLL_REOPENED_AFTER_PAYMENT"   # reopened once net pay had left the bank


class BusinessProblem(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str                   # a ProblemCode, or a vendor refusal finsync has no better name for
    reason: str                 # one finance-readable sentence
    system: str = "finsync"     # where it has to be fixed: "erp", "bank", "expense", "procurement", "finsync"
    subject: str | None = None  # the value at fault: a cost center code, an account number, a date
    line_id: str | None = None  # the report line it sits on, when it is one line's problem
    field: str | None = None    # the vendor's field path, when the vendor named one
    vendor_code: str | None = None


class ProblemRaised(Exception):
    """A BusinessProblem on its way to whoever parks the process (subclassed per source)."""

    def __init__(self, problem: BusinessProblem) -> None:
        super().__init__(problem.reason)
        self.problem = problem
