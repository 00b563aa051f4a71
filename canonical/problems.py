"""A business problem: why a process stopped, in words finance can act on."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class BusinessProblem(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str                 # stable, searchable: COST_CENTER_INACTIVE, PERIOD_CLOSED, ...
    reason: str               # one finance-readable sentence
    system: str = "finsync"   # where it has to be fixed: "erp", "bank", "expense", "finsync"
    field: str | None = None  # the vendor field at fault, when the vendor said
    vendor_code: str | None = None
