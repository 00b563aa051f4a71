"""The demo company's facts (seed/company.toml), as plain data for a sandbox to seed from."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

SEED_FILE = Path(__file__).resolve().parent.parent / "seed" / "company.toml"


@dataclass(frozen=True)
class Period:
    name: str          # "Nov 2026"
    start: date
    end: date
    closed: bool


def load_company(path: Path = SEED_FILE) -> dict[str, Any]:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + (day.month - 1) - months_back
    return date(index // 12, index % 12 + 1, 1)


def accounting_periods(today: date, months_before: int = 24, months_after: int = 12) -> list[Period]:
    """Monthly periods around ``today``; every month before the current one is closed."""
    periods = []
    for back in range(months_before, -months_after - 1, -1):
        start = month_start(today, back)
        end = date.fromordinal(month_start(today, back - 1).toordinal() - 1)
        periods.append(Period(start.strftime("%b %Y"), start, end, closed=back > 0))
    return periods


def fx_rate_rows(company: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """One row per (from, to, effective date): the last listed rate is this month's."""
    rows = []
    for pair in company.get("fx_rates", []):
        rates = pair["rates"]
        for i, rate in enumerate(rates):
            rows.append({"from": pair["from"], "to": pair["to"], "rate": rate,
                         "effective": month_start(today, len(rates) - 1 - i)})
    return rows
