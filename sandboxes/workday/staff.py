"""The tenant's workers: the first n employees of the generated workforce (sandboxes/kit/workforce.py),
n being the workforce's size, a setting of the sandbox. Generated once and kept in memory as far as
they have been asked for, so paging through 50,000 workers does not generate them again per page.

Each worker has a Workday ID (WID: 32 hex digits, derived from the seed and the worker id) besides
its Employee ID (``W000123``), which the payroll reports name workers by.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.engine import Connection

from sandboxes.kit.workforce import Employee, Workforce, worker_index
from sandboxes.workday import tables as t

WORKFORCE_SIZE = "employees"


class Staff:
    def __init__(self, workforce: Workforce) -> None:
        self.workforce = workforce
        self._employees: list[Employee] = []
        self._by_wid: dict[str, Employee] = {}

    def first(self, count: int) -> list[Employee]:
        if count > len(self._employees):
            self._employees += [self.workforce.employee(i) for i in range(len(self._employees), count)]
        return self._employees[:count]

    def wid(self, employee: Employee) -> str:
        return hashlib.blake2b(f"{self.workforce.seed}:{employee.worker_id}".encode(), digest_size=16).hexdigest()

    def find(self, key: str, size: int) -> Employee | None:
        """A worker of a workforce of ``size`` by its WID or its Employee ID."""
        index = worker_index(key)
        if index is not None:
            return self.first(size)[index] if index < size else None
        if len(self._by_wid) < size:
            self._by_wid = {self.wid(employee): employee for employee in self.first(size)}
        found = self._by_wid.get(key)
        return found if found is not None and found.index < size else None


def workforce_size(conn: Connection) -> int:
    value = conn.execute(select(t.setting.c.value).where(t.setting.c.key == WORKFORCE_SIZE)).scalar_one_or_none()
    return int(value) if value is not None else 0


def set_workforce_size(conn: Connection, size: int) -> None:
    conn.execute(insert(t.setting).values(key=WORKFORCE_SIZE, value=str(size))
                 .on_conflict_do_update(index_elements=["key"], set_={"value": str(size)}))
