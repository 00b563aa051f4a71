"""Translate connector errors into what Temporal should do about them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from canonical.problems import BUSINESS_RULE_VIOLATION
from connectors.errors import BusinessRuleError, TransientVendorError, VendorError
from finsync import correlation


def business_error(error: BusinessRuleError) -> ApplicationError:
    """Non-retryable: the workflow parks with ``details[0]``, a BusinessProblem."""
    return ApplicationError(error.problem.reason, error.problem, type=BUSINESS_RULE_VIOLATION, non_retryable=True)


@asynccontextmanager
async def vendor_call() -> AsyncIterator[None]:
    """Around a connector call: business refusals park the process, the rest is retried."""
    try:
        yield
    except BusinessRuleError as error:
        raise business_error(error) from error
    except TransientVendorError as error:
        delay = timedelta(seconds=error.retry_after) if error.retry_after else None
        # Expected, and Temporal retries it: this one line says so. BENIGN keeps the SDK from
        # logging a traceback for every attempt and from counting it as a failure in its metrics.
        activity.logger.warning(
            "%s: HTTP %s, retry after %s, attempt %d, correlation id %s; Temporal will retry: %s",
            error.vendor, error.status or "-", f"{error.retry_after:g}s" if error.retry_after is not None else "-",
            activity.info().attempt, error.correlation_id or correlation.current.get() or "-",
            " ".join(error.message.split()))   # vendor text may hold line breaks: kept to one line
        raise ApplicationError(str(error), type=type(error).__name__, next_retry_delay=delay,
                               category=ApplicationErrorCategory.BENIGN) from error
    except VendorError as error:
        raise ApplicationError(str(error), type=type(error).__name__) from error


def is_retry() -> bool:
    """Any attempt after the first: a write must look its record up before writing again."""
    return activity.info().attempt > 1
