"""Concur's fixed vocabularies as the demo company has them configured."""

from __future__ import annotations

from decimal import Decimal

TOPIC = "public.concur.expense.report"

APPROVAL_STATUS_NAMES = {
    "A_NOTF": "Not Submitted",
    "A_EXTV": "Pending External Validation",
    "A_PEND": "Submitted & Pending Approval",
    "A_APPR": "Approved",
    "A_RESU": "Sent Back to Employee",
}

PAYMENT_STATUS_NAMES = {
    "P_NOTP": "Not Paid",
    "P_PROC": "Processing Payment",
    "P_PAID": "Paid",
}

# Expense types of the demo company's policy (code -> name). In Concur the id is the code.
EXPENSE_TYPES = {
    "AIRFR": "Airfare",
    "LODNG": "Hotel",
    "BRKFT": "Breakfast",
    "LUNCH": "Lunch",
    "DINNR": "Dinner",
    "TAXIX": "Taxi",
    "CARRT": "Car Rental",
    "TRAIN": "Train",
    "PARKG": "Parking",
    "OFCSP": "Office Supplies",
    "ENTER": "Entertainment",
    "MILEG": "Personal Car Mileage",
    "MISCL": "Miscellaneous",
}

# Reclaimable VAT rates by tax code (sandbox assumption: Concur's tax configuration is per
# company; these are the demo company's).
TAX_RATES = {
    "DE19": Decimal("0.19"),
    "DE7": Decimal("0.07"),
    "GB20": Decimal("0.20"),
    "FR20": Decimal("0.20"),
    "NL21": Decimal("0.21"),
}

FI_TRANSACTION_TYPES = {"expense", "invoice", "cashadvance", "payroll", "obligation"}

# FI payment confirmation processingStatusCode: completely paid, partially paid, reversal, obsolete.
PROCESSING_STATUS_CODES = {"CP", "PP", "RE", "OB"}
