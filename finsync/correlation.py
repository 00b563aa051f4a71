"""The correlation id born at the webhook, carried through workflow, activities and vendor calls."""

from __future__ import annotations

import logging
import uuid
from contextvars import ContextVar

current: ContextVar[str | None] = ContextVar("finsync_correlation_id", default=None)


def new_id() -> str:
    return uuid.uuid4().hex


def get() -> str:
    """The id of the work in hand, or a fresh one for work nobody correlated."""
    value = current.get()
    return value if value else new_id()


class CorrelationFilter(logging.Filter):
    """Adds ``%(correlation_id)s`` to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = current.get() or "-"
        return True


def install_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(CorrelationFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # One line per vendor request is noise at INFO and costs throughput; failures still log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
