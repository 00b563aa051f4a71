"""The tenant's workers: the first n employees of the generated workforce (sandboxes/kit/workforce.py),
n being the workforce's size, and, when the company-staff setting is on, the company file's named
employees (E1000, ...) after them. Both are settings of the sandbox (a ``Roster``); a pay run keeps
its own roster from when it was created.

Generated workers are generated once and kept in memory as far as they have been asked for, so
paging through 50,000 workers does not generate them again per page; the named ones are made once.
Each worker has a Workday ID (WID: 32 hex digits, derived from the seed and the worker id) besides
its Employee ID (``W000123`` or ``E2001``), which the payroll reports name workers by.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.engine import Connection

from sandboxes.kit.workforce import Employee, Workforce, worker_index
from sandboxes.workday import tables as t

WORKFORCE_SIZE = "employees"
COMPANY_STAFF = "company_staff"


class Roster(NamedTuple):
    """Who is on the payroll: the first ``employees`` generated workers, and the named ones if ``company_staff``."""
    employees: int
    company_staff: bool = False


class Staff:
    def __init__(self, workforce: Workforce) -> None:
        self.workforce = workforce
        self._employees: list[Employee] = []
        self._by_wid: dict[str, Employee] = {}
        self.named = tuple(workforce.company_staff())
        self._named_by_key = {key: employee for employee in self.named
                              for key in (employee.worker_id, self.wid(employee))}

    def first(self, count: int) -> list[Employee]:
        """The first ``count`` generated workers."""
        if count > len(self._employees):
            self._employees += [self.workforce.employee(i) for i in range(len(self._employees), count)]
        return self._employees[:count]

    def headcount(self, roster: Roster) -> int:
        return roster.employees + (len(self.named) if roster.company_staff else 0)

    def workers(self, roster: Roster, stop: int | None = None) -> list[Employee]:
        """The roster's workers in payroll order (generated, then named), the first ``stop`` of them if given."""
        generated = self.first(roster.employees if stop is None else min(stop, roster.employees))
        if not roster.company_staff:
            return generated
        return generated + list(self.named[:None if stop is None else max(stop - roster.employees, 0)])

    def wid(self, employee: Employee) -> str:
        return hashlib.blake2b(f"{self.workforce.seed}:{employee.worker_id}".encode(), digest_size=16).hexdigest()

    def find(self, key: str, roster: Roster) -> Employee | None:
        """A worker of the roster by its WID or its Employee ID."""
        named = self._named_by_key.get(key)
        if named is not None:
            return named if roster.company_staff else None
        size = roster.employees
        index = worker_index(key)
        if index is not None:
            return self.first(size)[index] if index < size else None
        if len(self._by_wid) < size:
            self._by_wid = {self.wid(employee): employee for employee in self.first(size)}
        found = self._by_wid.get(key)
        return found if found is not None and found.index < size else None


def current_roster(conn: Connection) -> Roster:
    """The tenant's roster as the settings have it now."""
    return Roster(workforce_size(conn), _setting(conn, COMPANY_STAFF) == "true")


def workforce_size(conn: Connection) -> int:
    value = _setting(conn, WORKFORCE_SIZE)
    return int(value) if value is not None else 0


def set_workforce_size(conn: Connection, size: int) -> None:
    _set(conn, WORKFORCE_SIZE, str(size))


def set_company_staff(conn: Connection, on: bool) -> None:
    _set(conn, COMPANY_STAFF, "true" if on else "false")


def _setting(conn: Connection, key: str) -> str | None:
    return conn.execute(select(t.setting.c.value).where(t.setting.c.key == key)).scalar_one_or_none()


def _set(conn: Connection, key: str, value: str) -> None:
    conn.execute(insert(t.setting).values(key=key, value=value)
                 .on_conflict_do_update(index_elements=["key"], set_={"value": value}))
