"""NetSuite's error body: ``type``/``title``/``status`` plus ``o:errorDetails``."""

from __future__ import annotations

from http import HTTPStatus

from sandboxes.kit.jsonio import DecimalJSONResponse, dumps

ERROR_MEDIA_TYPE = "application/vnd.oracle.resource+json; type=error"

# The RFC 9110 section NetSuite links as ``type`` for each status.
_RFC9110_SECTIONS = {400: "15.5.1", 401: "15.5.2", 403: "15.5.4", 404: "15.5.5", 405: "15.5.6",
                     500: "15.6.1", 502: "15.6.3", 503: "15.6.4"}

# Sandbox assumption (the REST 429 body is unverified): this code, with the wording of
# SuiteTalk's "concurrent request limit exceeded" fault.
CONCURRENCY_DETAIL = "Concurrent request limit exceeded. Request blocked."
CONCURRENCY_CODE = "CONCURRENCY_LIMIT_EXCEEDED"


class NetSuiteError(Exception):
    """A refusal rendered as NetSuite renders it; ``path`` is the ``o:errorPath`` at fault."""

    def __init__(self, status: int, detail: str, code: str, path: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.code, self.path = status, detail, code, path

    def response(self) -> DecimalJSONResponse:
        return DecimalJSONResponse(error_body(self.status, self.detail, self.code, self.path),
                                   status_code=self.status, media_type=ERROR_MEDIA_TYPE)


def error_body(status: int, detail: str, code: str, path: str | None = None) -> dict:
    if status == 429:
        type_url = "https://www.rfc-editor.org/rfc/rfc6585.html#section-4"
    else:
        type_url = f"https://www.rfc-editor.org/rfc/rfc9110.html#section-{_RFC9110_SECTIONS.get(status, '15.5.1')}"
    item = {"detail": detail, "o:errorCode": code}
    if path:
        item["o:errorPath"] = path
    return {"type": type_url, "title": HTTPStatus(status).phrase, "status": status, "o:errorDetails": [item]}


def render_error(status: int, retry_after: float | None) -> tuple[bytes, str]:
    """The kit's fault renderer: injected 429/5xx in NetSuite's shape."""
    if status == 429:
        body = error_body(429, CONCURRENCY_DETAIL, CONCURRENCY_CODE)
    elif status == 503:
        body = error_body(503, "The NetSuite service is temporarily unavailable. Try again later.", "UNEXPECTED_ERROR")
    else:
        body = error_body(status, "An unexpected error occurred. Error ID: sandbox-fault.", "UNEXPECTED_ERROR")
    return dumps(body).encode(), ERROR_MEDIA_TYPE


def not_found() -> NetSuiteError:
    return NetSuiteError(404, "The record instance does not exist. Provide a valid record instance ID.",
                         "NONEXISTENT_ID")


def invalid_login() -> NetSuiteError:
    return NetSuiteError(401, "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI "
                              "at Setup > Users/Roles > User Management > View Login Audit Trail.", "INVALID_LOGIN")
