"""The procurement demo's requisitions: every kind of outcome in a short demo, and only the case
meant to exceed the budget does."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from finsync.demo_procurement import WEIGHTS, cases, plan

SEEDED_BUDGET = Decimal("25000.00")   # the NetSuite sandbox's per department, account and month


def test_a_demo_of_thirty_shows_every_kind_of_requisition():
    assert {case.label for case in plan(30)} == {case.label for case in cases(0)}
    assert len(WEIGHTS) == len(cases(0))


def test_only_the_over_budget_case_exceeds_a_month_of_budget_on_its_own():
    over = set()
    for n in range(len(cases(0))):
        for case in cases(n):
            by_coding: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
            for line in case.lines:
                by_coding[(line.entity, line.cost_center, line.gl_account)] += Decimal(line.quantity) * Decimal(line.unit_price)
            if max(by_coding.values()) > SEEDED_BUDGET:
                over.add(case.label)
    assert over == {"server room build-out, over budget"}
