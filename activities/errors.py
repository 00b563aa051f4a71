"""Translate connector errors into what Temporal should do about them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from connectors.errors import BusinessRuleError, TransientVendorError, VendorError
from workflows.common.retry import BUSINESS_RULE_VIOLATION


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
        activity.logger.warning("transient vendor error, will retry: %s", error)
        raise ApplicationError(str(error), type=type(error).__name__, next_retry_delay=delay) from error
    except VendorError as error:
        raise ApplicationError(str(error), type=type(error).__name__) from error


def is_retry() -> bool:
    """Any attempt after the first: a write must look its record up before writing again."""
    return activity.info().attempt > 1
