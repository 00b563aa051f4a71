"""The payroll team, played against the Workday sandbox over HTTP: it sizes the workforce, creates
pay runs, plants faults, and finalizes, reopens or cancels runs as a named user. The demo and the
end-to-end tests use this to make things happen in "Workday" as people would. HTTP only (the
sandbox's ``/_sandbox`` routes, no token): no database access, no finsync imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import httpx


class DriverError(RuntimeError):
    """The sandbox refused what the person tried to do (its error says why)."""

    def __init__(self, response: httpx.Response) -> None:
        try:
            message = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            message = response.text
        super().__init__(f"{response.request.method} {response.request.url.path} -> {response.status_code}: {message}")
        self.status = response.status_code


class WorkdayDriver:
    def __init__(self, base_url: str, timeout: float = 300.0) -> None:
        # Finalizing a large run takes seconds: the timeout leaves it room.
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout)

    async def __aenter__(self) -> WorkdayDriver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None, expect: int = 200) -> Any:
        response = await self._http.request(method, path, json=body)
        if response.status_code != expect:
            raise DriverError(response)
        return response.json()

    async def set_workforce(self, employees: int, company_staff: bool | Sequence[str] = False) -> dict[str, Any]:
        """``employees`` generated workers, and the company file's named employees ``company_staff``
        chooses: all (true), none (false) or those Employee IDs."""
        chosen = company_staff if isinstance(company_staff, bool) else list(company_staff)
        return await self._call("PUT", "/_sandbox/workforce", {"employees": employees, "companyStaff": chosen})

    async def create_run(self, period_start: date, *, employees: int | None = None, period_end: date | None = None,
                         payment_date: date | None = None, pay_group: str | None = None,
                         faults: dict[str, Any] | None = None) -> dict[str, Any]:
        """A Draft pay run for the period (the month from ``period_start`` unless ``period_end``)."""
        body: dict[str, Any] = {"periodStart": period_start.isoformat(), "employees": employees, "payGroup": pay_group,
                                "periodEnd": period_end.isoformat() if period_end else None,
                                "paymentDate": payment_date.isoformat() if payment_date else None, "faults": faults}
        return await self._call("POST", "/_sandbox/payRuns", {k: v for k, v in body.items() if v is not None},
                                expect=201)

    async def plant_faults(self, run_id: str, faults: dict[str, Any]) -> dict[str, Any]:
        return await self._call("PUT", f"/_sandbox/payRuns/{run_id}/faults", faults)

    async def finalize(self, run_id: str, by: str) -> dict[str, Any]:
        return await self._call("POST", f"/_sandbox/payRuns/{run_id}/finalize", {"by": by})

    async def reopen(self, run_id: str, by: str) -> dict[str, Any]:
        return await self._call("POST", f"/_sandbox/payRuns/{run_id}/reopen", {"by": by})

    async def cancel(self, run_id: str, by: str) -> dict[str, Any]:
        return await self._call("POST", f"/_sandbox/payRuns/{run_id}/cancel", {"by": by})
