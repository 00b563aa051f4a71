"""How long finsync waits for vendors: retry transient failures for as long as it takes.

Business errors are raised as non-retryable ApplicationErrors (type BusinessRuleViolation) and
park the process; everything else (5xx, 429, timeouts) is retried here with backoff, and a
vendor's Retry-After arrives as ``next_retry_delay`` on the error.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

from canonical.problems import BUSINESS_RULE_VIOLATION

VENDOR_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=[BUSINESS_RULE_VIOLATION],
)

# Connector timeouts are ~10 s; one attempt may page through a few vendor calls.
VENDOR_CALL_TIMEOUT = timedelta(seconds=60)
# An activity paging through a large report (a payroll run's results) heartbeats after each page;
# a worker that dies is noticed within the heartbeat timeout, and the retry resumes where it stopped.
LONG_CALL_TIMEOUT = timedelta(minutes=30)
LONG_CALL_HEARTBEAT = timedelta(seconds=30)

LOCAL_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10))
LOCAL_TIMEOUT = timedelta(seconds=10)
