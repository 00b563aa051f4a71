"""The budget driver, ``PUT /_sandbox/budgets``: set one budget amount (a test makes a budget
insufficient with it). Not NetSuite's API: budgets are read through SuiteQL (table ``budgets``).

Body: ``{"subsidiary": {"id": "1"}, "account": {"id": "630"}, "department": {"id": "10"},
"accountingPeriod": {"id": "27"}, "amount": 500.00}``; the amount is in the subsidiary's currency,
0 for no budget.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from sandboxes.netsuite import documents
from sandboxes.netsuite import tables as t
from sandboxes.netsuite.errors import NetSuiteError
from sandboxes.netsuite.validation import active_subsidiary, amount, body_object, known_currency, required_ref


def set_budget(conn: Connection, body: Any) -> dict[str, str]:
    """Create or change the budget the body names; the row as SuiteQL reads it."""
    body = body_object(body)
    subsidiary_id = required_ref(body, "subsidiary", "subsidiary", "Subsidiary")
    account_id = required_ref(body, "account", "account", "Account")
    department_id = required_ref(body, "department", "department", "Department")
    period_id = required_ref(body, "accountingPeriod", "accountingPeriod", "Accounting Period")
    value = amount(body, "amount", "amount")
    subsidiary = active_subsidiary(conn, subsidiary_id)
    currency = known_currency(conn, subsidiary["currency"])
    for table, record_id, path in ((t.account, account_id, "account"),
                                   (t.accountingperiod, period_id, "accountingPeriod")):
        if t.by_id(conn, table, record_id) is None:
            raise NetSuiteError(400, f"Invalid {path} reference key {record_id}.", "INVALID_KEY_OR_REF", path)
    department = t.by_id(conn, t.department, department_id)
    if department is None or department["subsidiary"] != subsidiary_id:
        raise NetSuiteError(400, f"Invalid department reference key {department_id} for subsidiary {subsidiary_id}.",
                            "INVALID_KEY_OR_REF", "department")
    places = currency["currencyprecision"]
    if value is None or value < 0 or value != value.quantize(Decimal(1).scaleb(-places)):
        raise NetSuiteError(400, f"A budget amount is a number of {currency['symbol']} of at least 0 with at most "
                                 f"{places} decimal places.", "INVALID_FLD_VALUE", "amount")
    b = t.budgets.c
    key = {"subsidiary": subsidiary_id, "account": account_id, "department": department_id,
           "accountingperiod": period_id}
    row = {**key, "amount": documents.money(value, places), "currency": subsidiary["currency"]}
    existing = conn.execute(select(b.id).where(*(b[name] == v for name, v in key.items()))).scalar_one_or_none()
    if existing is None:
        conn.execute(insert(t.budgets).values(**row))
    else:
        conn.execute(update(t.budgets).where(b.id == existing).values(**row))
    return {name: str(v) for name, v in row.items()}
