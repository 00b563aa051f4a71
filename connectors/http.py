"""The one HTTP client every connector builds on.

It owns what is the same for all vendors: OAuth2 token caching and refresh, timeouts, the
correlation-id header, and sorting HTTP failures into the error taxonomy. A vendor subclass
says how to get a token and how to read its error bodies.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
from opentelemetry import propagate, trace
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from canonical.problems import BusinessProblem
from connectors.errors import (
    AmbiguousWriteError,
    RateLimitedError,
    TransientVendorError,
    VendorError,
    VendorRejectedError,
)
from finsync import correlation

log = logging.getLogger(__name__)
# Spans for every vendor request, each carried to the vendor as W3C traceparent; no-ops (and no
# header) until the deployment installs an OpenTelemetry SDK (finsync/telemetry.py).
tracer = trace.get_tracer("finsync.connectors")

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
READ_ATTEMPTS = 3
QUICK_RETRY_LIMIT = 2.0   # seconds: a vendor asking to wait longer gets Temporal's retry instead


def _quick_retry(error: BaseException) -> bool:
    return isinstance(error, TransientVendorError) and (error.retry_after or 0) <= QUICK_RETRY_LIMIT


def _read_retry_wait(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome else None
    asked = getattr(error, "retry_after", None) or 0
    return max(asked, wait_exponential_jitter(multiplier=0.2, max=QUICK_RETRY_LIMIT)(state))


@dataclass
class Token:
    value: str
    expires_at: float  # monotonic seconds

    def fresh(self, margin: float = 60.0) -> bool:
        return time.monotonic() < self.expires_at - margin


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def url_path(template: str, **segments: str) -> str:
    """``template`` with each ``{name}`` replaced by that value as one whole path segment.

    Every id a connector puts in a URL comes from data (an event, a vendor's answer), so each is
    percent-encoded in full: a ``/``, ``?``, ``#`` or ``%`` in it stays inside its segment. An empty
    value, ``.`` or ``..`` would still change the path (a dot segment is resolved away), so
    those are refused.
    """
    for name, value in segments.items():
        if value in ("", ".", ".."):
            raise ValueError(f"{name} {value!r} cannot be a URL path segment")
    return template.format(**{name: quote(value, safe="") for name, value in segments.items()})


def exact_json(value: Any) -> str:
    """JSON text with each Decimal written as the number it is (vendors take amounts as numbers)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{exact_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(exact_json(v) for v in value) + "]"
    if isinstance(value, float):
        raise TypeError("money never travels as a float; use Decimal")
    return json.dumps(value)


def json_decimal(response: httpx.Response) -> Any:
    """Parse a JSON body with numbers as Decimal: money never passes through float."""
    return response.json(parse_float=Decimal)


class VendorClient:
    """Base for a vendor's async client. Subclasses implement ``fetch_token`` (or ``authorization``) and
    ``rejection``."""

    vendor = "vendor"
    correlation_header = "X-Correlation-ID"

    def __init__(self, base_url: str, *, timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, transport=transport)
        self._token: Token | None = None
        self._token_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- what a vendor subclass provides -------------------------------------------------
    async def fetch_token(self, http: httpx.AsyncClient) -> Token:
        raise NotImplementedError

    def rejection(self, response: httpx.Response) -> VendorError:
        """Turn a 4xx (other than 401/404/429) into a BusinessRuleError or VendorRejectedError."""
        return VendorRejectedError(self.vendor, BusinessProblem(
            code="VENDOR_REJECTED", system=self.vendor,
            reason=f"{self.vendor} refused the request ({response.status_code}): {response.text[:300]}"),
            status=response.status_code)

    async def authorization(self) -> str:
        """The ``Authorization`` header of every request: an OAuth2 bearer token unless the vendor
        authenticates otherwise (SAP's communication user: HTTP Basic)."""
        return f"Bearer {await self.token()}"

    # --- the shared mechanics --------------------------------------------------------------
    async def post_token_form(self, http: httpx.AsyncClient, url: str, form: dict[str, str], *, refused: str,
                              check: str) -> Any:
        """The token endpoint's JSON answer to ``form``. A 400 or 401 is configuration, not data: it
        is retried (TransientVendorError "``refused`` (the vendor's words); check ``check``") so work
        resumes once the settings are fixed."""
        try:
            response = await http.post(url, headers={self.correlation_header: correlation.get()}, data=form)
        except httpx.TransportError as exc:
            raise TransientVendorError(self.vendor, f"token request to {url} failed: {exc!r}") from exc
        if response.status_code in (400, 401):
            raise TransientVendorError(self.vendor, f"{refused} ({response.text[:200]}); check {check}",
                                       status=response.status_code)
        return json_decimal(self._check(response, (200,), False))

    async def token(self) -> str:
        async with self._token_lock:
            if self._token is None or not self._token.fresh():
                self._token = await self.fetch_token(self._http)
            return self._token.value

    async def request(self, method: str, path: str, *, ok: tuple[int, ...] = (200,), allow_404: bool = False,
                      read_only: bool | None = None, **kwargs: Any) -> httpx.Response:
        """Send a request; return the response if its status is in ``ok`` (or 404 if allowed).

        A read (GET, or a POST the caller marks ``read_only`` such as a query) is retried here a
        few times on a transient failure, so one flaky request does not fail a whole activity
        that reads page after page. Writes are never retried here: that is the activity's job,
        with a lookup first.
        """
        read_only = method.upper() in SAFE_METHODS if read_only is None else read_only
        if not read_only:
            return await self._send(method, path, ok, allow_404, False, kwargs)
        async for attempt in AsyncRetrying(retry=retry_if_exception(_quick_retry), wait=_read_retry_wait,
                                           stop=stop_after_attempt(READ_ATTEMPTS), reraise=True):
            with attempt:
                return await self._send(method, path, ok, allow_404, True, dict(kwargs))
        raise AssertionError("unreachable")

    async def _send(self, method: str, path: str, ok: tuple[int, ...], allow_404: bool, read_only: bool,
                    kwargs: dict[str, Any]) -> httpx.Response:
        with tracer.start_as_current_span(f"{self.vendor} {method}", kind=trace.SpanKind.CLIENT) as span:
            span.set_attribute("http.request.method", method)
            span.set_attribute("url.path", path)
            span.set_attribute("finsync.correlation_id", correlation.current.get() or "")
            trace_headers: dict[str, str] = {}
            propagate.inject(trace_headers)   # W3C traceparent: the vendor's side joins this trace
            kwargs["headers"] = {**(kwargs.get("headers") or {}), **trace_headers}
            response = await self._send_authorized(method, path, ok, allow_404, read_only, kwargs)
            span.set_attribute("http.response.status_code", response.status_code)
            return response

    async def _send_authorized(self, method: str, path: str, ok: tuple[int, ...], allow_404: bool, read_only: bool,
                               kwargs: dict[str, Any]) -> httpx.Response:
        extra_headers = kwargs.pop("headers", {})
        for attempt in (1, 2):  # a second try only after a 401, with a fresh token
            headers = {
                "Authorization": await self.authorization(),
                self.correlation_header: correlation.get(),
                "Accept": "application/json",
                **extra_headers,
            }
            try:
                response = await self._http.request(method, path, headers=headers, **kwargs)
            except httpx.TimeoutException as exc:
                raise self._lost(method, path, "timed out", read_only) from exc
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                raise self._lost(method, path, "connection dropped", read_only) from exc
            except httpx.TransportError as exc:  # connect errors: nothing was sent
                raise TransientVendorError(self.vendor, f"cannot reach {self.base_url}: {exc!r}") from exc
            if response.status_code == 401 and attempt == 1:
                self._token = None
                continue
            return self._check(response, ok, allow_404)
        raise AssertionError("unreachable")

    def _lost(self, method: str, path: str, what: str, read_only: bool) -> TransientVendorError:
        if read_only:
            return TransientVendorError(self.vendor, f"{method} {path} {what}")
        return AmbiguousWriteError(self.vendor, f"{method} {path} {what}; the write may have landed")

    def _check(self, response: httpx.Response, ok: tuple[int, ...], allow_404: bool) -> httpx.Response:
        status = response.status_code
        cid = response.headers.get(self.correlation_header)
        if status in ok or (allow_404 and status == 404):
            return response
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 429:
            raise RateLimitedError(self.vendor, "rate limited", retry_after=retry_after,
                                   status=status, correlation_id=cid)
        if status >= 500 or status in (401, 403, 408):
            # 401/403 after a fresh token: credentials or grants need fixing; keep retrying
            # so the process resumes by itself once they are.
            raise TransientVendorError(self.vendor, f"HTTP {status}: {response.text[:200]}",
                                       retry_after=retry_after, status=status, correlation_id=cid)
        error = self.rejection(response)
        error.status, error.correlation_id = status, cid
        raise error
