"""The demo's claims: a second run on the same day is new, the deliberate duplicate stays one."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

from finsync.demo import WEIGHTS, plan, run_tag
from finsync.store import expense_fingerprint

TODAY = date(2026, 12, 14)
ONE_OF_EACH_ROUND = sum(WEIGHTS)   # every case as often as its weight


def claims(run: str, count: int = ONE_OF_EACH_ROUND) -> Counter[str]:
    """The duplicate check's fingerprint of every expense line the demo would create."""
    return Counter(expense_fingerprint(case.employee, expense.transaction_date.isoformat(), Decimal(expense.amount),
                                       expense.currency, expense.vendor)
                   for case in plan(TODAY, count, run) for expense in case.expenses)


def test_a_second_run_shares_no_claim_with_the_first():
    first, second = claims(run_tag(1_800_000_000)), claims(run_tag(1_800_000_001))
    assert not set(first) & set(second)


def test_within_a_run_only_the_deliberate_duplicate_is_claimed_twice():
    repeated = {fingerprint: n for fingerprint, n in claims(run_tag(1_800_000_000)).items() if n > 1}
    assert len(repeated) == 1
    ((fingerprint, n),) = repeated.items()
    assert n == 2 and "|taxiberlin" in fingerprint


def test_run_tags_are_distinct_for_two_years_of_seconds():
    seconds = range(1_800_000_000, 1_800_000_000 + 2 * 365 * 86400, 9973)
    assert len({run_tag(t) for t in seconds}) == len(seconds)
    assert run_tag(1_800_000_000) != run_tag(1_800_000_001)
