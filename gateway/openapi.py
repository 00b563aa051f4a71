"""The gateway's OpenAPI document: the Standard Webhooks headers, each vendor's event body, and
the answers (202, 200 for a duplicate, problem+json refusals).

The bodies are read from the raw bytes (the signature covers them exactly), so the framework
never sees them as parameters; ``webhook_operation`` describes them, and ``install`` adds the
models they name to the document's components.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from gateway.problems import MEDIA_TYPE, ProblemDetails
from gateway.routing import Routed
from gateway.verify import TIMESTAMP_PATTERN, WEBHOOK_ID_PATTERN


class WebhookAccepted(BaseModel):
    webhook_id: str
    routed: list[Routed]


class WebhookDuplicate(BaseModel):
    webhook_id: str
    outcome: Literal["duplicate"]


WEBHOOK_HEADERS = [
    {"name": "webhook-id", "in": "header", "required": True, "schema": {"type": "string", "pattern": f"^{WEBHOOK_ID_PATTERN}$"},
     "description": "The message id, the same on every retry: finsync handles each id once."},
    {"name": "webhook-timestamp", "in": "header", "required": True,
     "schema": {"type": "string", "pattern": f"^{TIMESTAMP_PATTERN}$"},
     "description": "Unix seconds of this attempt; refused if further than the tolerance from now."},
    {"name": "webhook-signature", "in": "header", "required": True, "schema": {"type": "string"},
     "example": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
     "description": "Space-separated v1,<base64 HMAC-SHA256 of id.timestamp.body>, one per active secret."},
]

REFUSALS = {
    400: "A webhook header is missing or malformed.",
    401: "The signature matches no active secret, or the timestamp is stale.",
    413: "The body is larger than the gateway accepts.",
    422: "The body is not a valid event, or an id in it is not in the vendor's format.",
    503: "finsync could not act on the event now; retry later (the event was not taken).",
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def webhook_operation(body: type[BaseModel] | str) -> dict[str, Any]:
    """Keyword arguments for a webhook route: its headers, its body (the event's model, or what an
    XML body is) and its answers."""
    content = ({"text/xml": {"schema": {"type": "string", "description": body}}} if isinstance(body, str)
               else {"application/json": {"schema": _ref(body)}})
    return {
        "status_code": 202,
        "openapi_extra": {
            "parameters": WEBHOOK_HEADERS,
            "requestBody": {"required": True, "content": content},
        },
        "responses": {
            202: {"description": "Verified and handed to its workflow (or found to need nothing).",
                  "content": {"application/json": {"schema": _ref(WebhookAccepted)}}},
            200: {"description": "A webhook id already handled: nothing is done again.",
                  "content": {"application/json": {"schema": _ref(WebhookDuplicate)}}},
            **{status: {"description": description, "content": {MEDIA_TYPE: {"schema": _ref(ProblemDetails)}}}
               for status, description in REFUSALS.items()},
        },
    }


def install(app: FastAPI, bodies: list[type[BaseModel]]) -> None:
    """Generate the document once, with the models the webhook operations name."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            models: list[type[BaseModel]] = [*bodies, WebhookAccepted, WebhookDuplicate, ProblemDetails]
            for model in models:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(schema.pop("$defs", {}))
                schemas[model.__name__] = schema
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
