"""A process's business status over time: what the ``status`` query and the Web UI show."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class TimelineEntry(BaseModel):
    at: datetime
    status: str           # the process's business status (its own StrEnum's value)
    note: str
