"""finsync's custom search attributes: what makes a process findable in the Temporal Web UI.

Examples: every expense that needs attention in the German entity, and every requisition with an
invoice on AP hold from one supplier:
  FinsyncProcess = 'expense' AND FinsyncBusinessStatus = 'EXCEPTION' AND FinsyncLegalEntity = 'DE01'
  FinsyncProcess = 'procurement' AND FinsyncExceptionReason = 'INVOICE_MISMATCH' AND FinsyncCounterparty = 'SUP-100'
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

PROCESS = SearchAttributeKey.for_keyword("FinsyncProcess")
BUSINESS_STATUS = SearchAttributeKey.for_keyword("FinsyncBusinessStatus")
LEGAL_ENTITY = SearchAttributeKey.for_keyword("FinsyncLegalEntity")
SOURCE_SYSTEM = SearchAttributeKey.for_keyword("FinsyncSourceSystem")
EXCEPTION_REASON = SearchAttributeKey.for_keyword("FinsyncExceptionReason")
BUSINESS_KEY = SearchAttributeKey.for_keyword("FinsyncBusinessKey")
FUNCTIONAL_AMOUNT = SearchAttributeKey.for_float("FinsyncFunctionalAmount")
COUNTERPARTY = SearchAttributeKey.for_keyword("FinsyncCounterparty")   # the supplier's number (procurement)

ALL: list[SearchAttributeKey[Any]] = [
    PROCESS, BUSINESS_STATUS, LEGAL_ENTITY, SOURCE_SYSTEM, EXCEPTION_REASON, BUSINESS_KEY, FUNCTIONAL_AMOUNT,
    COUNTERPARTY]


def dev_server_flags() -> list[str]:
    """``--search-attribute`` flags that register these on ``temporal server start-dev``."""
    kinds = {1: "Text", 2: "Keyword", 3: "Int", 4: "Double", 5: "Bool", 6: "Datetime", 7: "KeywordList"}
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={kinds[int(key.indexed_value_type)]}"]
    return flags
