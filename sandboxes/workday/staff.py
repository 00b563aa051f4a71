"""The tenant's workers: the first n employees of the generated workforce (sandboxes/kit/workforce.py),
n being the workforce's size, and after them the company file's named employees (E1000, ...) that
the company-staff setting chooses: all of them (true), none (false, as on a new tenant), or a list
of their Employee IDs (just those, in the company file's order). Both are settings of the sandbox
(a ``Roster``); a pay run keeps its own roster from when it was created.

Generated workers are generated once and kept in memory as far as they have been asked for, so
paging through 50,000 workers does not generate them again per page; the named ones are made once.
Each worker has a Workday ID (WID: 32 hex digits, derived from the seed and the worker id) besides
its Employee ID (``W000123`` or ``E2001``), which the payroll reports name workers by.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.engine import Connection

from sandboxes.kit.workforce import Employee, Workforce, worker_index
from sandboxes.workday import tables as t

WORKFORCE_SIZE = "employees"
COMPANY_STAFF = "company_staff"

# Which of the company file's named employees are on the payroll: all, none, or those Employee IDs.
CompanyStaff = bool | tuple[str, ...]


class Roster(NamedTuple):
    """Who is on the payroll: the first ``employees`` generated workers, and the named ones ``company_staff`` chooses."""
    employees: int
    company_staff: CompanyStaff = False


class Staff:
    def __init__(self, workforce: Workforce) -> None:
        self.workforce = workforce
        self._employees: list[Employee] = []
        self._by_wid: dict[str, Employee] = {}
        self.named = tuple(workforce.company_staff())
        self._named_by_id = {employee.worker_id: employee for employee in self.named}
        self._named_by_key = {**self._named_by_id, **{self.wid(employee): employee for employee in self.named}}

    def first(self, count: int) -> list[Employee]:
        """The first ``count`` generated workers."""
        if count > len(self._employees):
            self._employees += [self.workforce.employee(i) for i in range(len(self._employees), count)]
        return self._employees[:count]

    def choose(self, value: Any) -> CompanyStaff:
        """The company-staff setting from true, false or a list of named employees' ids (put in the
        company file's order); ValueError says in one line what is wrong with anything else."""
        if isinstance(value, bool):
            return value
        if not isinstance(value, list | tuple):
            raise ValueError("companyStaff must be true, false or a list of the company file's Employee IDs.")
        for wanted in value:
            if not isinstance(wanted, str) or wanted not in self._named_by_id:
                raise ValueError(f"companyStaff: the company file has no employee with Employee ID {wanted!r}.")
        return tuple(employee.worker_id for employee in self.named if employee.worker_id in value)

    def named_workers(self, roster: Roster) -> tuple[Employee, ...]:
        """The company file's named employees on the roster, in the company file's order."""
        chosen = roster.company_staff
        if isinstance(chosen, bool):
            return self.named if chosen else ()
        return tuple(employee for employee in self.named if employee.worker_id in chosen)

    def headcount(self, roster: Roster) -> int:
        return roster.employees + len(self.named_workers(roster))

    def workers(self, roster: Roster, stop: int | None = None) -> list[Employee]:
        """The roster's workers in payroll order (generated, then named), the first ``stop`` of them if given."""
        generated = self.first(roster.employees if stop is None else min(stop, roster.employees))
        named = self.named_workers(roster)
        return generated + list(named[:None if stop is None else max(stop - roster.employees, 0)])

    def wid(self, employee: Employee) -> str:
        return hashlib.blake2b(f"{self.workforce.seed}:{employee.worker_id}".encode(), digest_size=16).hexdigest()

    def find(self, key: str, roster: Roster) -> Employee | None:
        """A worker of the roster by its WID or its Employee ID."""
        named = self._named_by_key.get(key)
        if named is not None:
            return named if named in self.named_workers(roster) else None
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
    return Roster(workforce_size(conn), read_company_staff(_setting(conn, COMPANY_STAFF)))


def workforce_size(conn: Connection) -> int:
    value = _setting(conn, WORKFORCE_SIZE)
    return int(value) if value is not None else 0


def set_workforce_size(conn: Connection, size: int) -> None:
    _set(conn, WORKFORCE_SIZE, str(size))


def set_company_staff(conn: Connection, chosen: CompanyStaff) -> None:
    _set(conn, COMPANY_STAFF, stored_company_staff(chosen))


def stored_company_staff(chosen: CompanyStaff) -> str:
    """The setting as JSON text: ``true``, ``false`` or ``["E1001"]`` (the setting's and a run's column)."""
    return json.dumps(chosen if isinstance(chosen, bool) else list(chosen))


def read_company_staff(stored: Any) -> CompanyStaff:
    """The setting from its JSON text; also from nothing (never set: none) and from the 0 or 1 an
    older database's runs hold (none or all)."""
    value = json.loads(stored) if isinstance(stored, str) else stored
    return tuple(value) if isinstance(value, list) else bool(value)


def _setting(conn: Connection, key: str) -> str | None:
    return conn.execute(select(t.setting.c.value).where(t.setting.c.key == key)).scalar_one_or_none()


def _set(conn: Connection, key: str, value: str) -> None:
    conn.execute(insert(t.setting).values(key=key, value=value)
                 .on_conflict_do_update(index_elements=["key"], set_={"value": value}))
