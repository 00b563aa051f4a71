"""What can go wrong talking to a vendor, sorted by what to do about it.

- ``TransientVendorError``: try again later (5xx, 429, maintenance, timeouts). Temporal's retry
  policy does the waiting; ``retry_after`` carries the vendor's own delay when it gave one.
- ``AmbiguousWriteError``: a write whose outcome is unknown (timeout after sending). Transient,
  but the next attempt must look the record up before writing again.
- ``BusinessRuleError``: the vendor refused on business grounds (closed period, inactive
  account). Retrying cannot help; a person has to fix data and resume.
- ``VendorRejectedError``: the vendor refused the request itself (a field it does not accept).
  Also not retryable; usually a mapping defect, shown to finance as such.
"""

from __future__ import annotations

from canonical.problems import BusinessProblem


class VendorError(Exception):
    def __init__(self, vendor: str, message: str, *, status: int | None = None,
                 correlation_id: str | None = None) -> None:
        super().__init__(f"{vendor}: {message}")
        self.vendor = vendor
        self.message = message
        self.status = status
        self.correlation_id = correlation_id


class TransientVendorError(VendorError):
    def __init__(self, vendor: str, message: str, *, retry_after: float | None = None, **kw) -> None:
        super().__init__(vendor, message, **kw)
        self.retry_after = retry_after


class RateLimitedError(TransientVendorError):
    pass


class AmbiguousWriteError(TransientVendorError):
    pass


class BusinessRuleError(VendorError):
    def __init__(self, vendor: str, problem: BusinessProblem, **kw) -> None:
        super().__init__(vendor, problem.reason, **kw)
        self.problem = problem


class VendorRejectedError(BusinessRuleError):
    pass


class NotFoundError(VendorError):
    """The record asked for does not exist (a lookup answer, not a failure of the call)."""
