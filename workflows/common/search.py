"""finsync's custom search attributes: what makes a process findable in the Temporal Web UI.

Example: every expense that needs attention in the German entity:
  FinsyncProcess = 'expense' AND FinsyncBusinessStatus = 'EXCEPTION' AND FinsyncLegalEntity = 'DE01'
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

ALL: list[SearchAttributeKey[Any]] = [
    PROCESS, BUSINESS_STATUS, LEGAL_ENTITY, SOURCE_SYSTEM, EXCEPTION_REASON, BUSINESS_KEY, FUNCTIONAL_AMOUNT]


def dev_server_flags() -> list[str]:
    """``--search-attribute`` flags that register these on ``temporal server start-dev``."""
    kinds = {1: "Text", 2: "Keyword", 3: "Int", 4: "Double", 5: "Bool", 6: "Datetime", 7: "KeywordList"}
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={kinds[int(key.indexed_value_type)]}"]
    return flags
