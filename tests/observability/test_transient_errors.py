"""An expected, retried vendor error is one warning line in the worker's log, not a traceback."""

from __future__ import annotations

import logging

import pytest

from tests.observability.conftest import TelemetryStack, eventually


async def test_a_429_from_the_vendor_is_one_warning_line_and_the_retry_goes_through(
        telemetry_stack: TelemetryStack, caplog: pytest.LogCaptureFixture):
    stack = telemetry_stack
    report_id = await stack.draft("E1002")
    stack.concur_tap.throttle_once("PATCH", f"/reports/{report_id}/approve$")
    caplog.set_level(logging.INFO)
    await stack.submit("E1002", report_id)

    # The release to the approver is answered 429 once, then goes through on Temporal's retry.
    await eventually(lambda: _in_manager_queue(stack, report_id), "the report's release to its approver")
    (throttled,) = stack.concur_tap.throttled
    assert throttled.path == f"/expensereports/v4/reports/{report_id}/approve" and throttled.correlation_id

    assert [r.getMessage() for r in caplog.records if r.exc_info] == [], "a retried 429 logged a traceback"
    (line,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "429" in r.getMessage()]
    assert line.startswith(f"concur: HTTP 429, retry after 1s, attempt 1, correlation id {throttled.correlation_id}; "
                           "Temporal will retry"), line


async def _in_manager_queue(stack: TelemetryStack, report_id: str) -> bool:
    return any(h["reportId"] == report_id for h in await stack.concur.manager_queue("E1000"))
