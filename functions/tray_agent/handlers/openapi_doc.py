"""The API's OpenAPI document: Powertools' generated paths, plus what the code really does.

Powertools derives paths, parameters and bodies from the routes. Added here, from the code that
decides them so they cannot drift apart: the credentials each route needs
(``domain.auth.required_access``), the error answers (``http_errors``: one body,
``ErrorResponse``, for every status) and examples. The committed ``openapi.json`` is this
document; a test fails when they differ. Loaded only by ``GET /openapi.json``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from tray_agent.domain.auth import Access, required_access

TITLE = "tray-agent API"
VERSION = "1.0.0"
SIGNED: list[dict[str, list[str]]] = [{"hmacSignature": [], "hmacTimestamp": [], "hmacNonce": []}]
REVIEWER: list[dict[str, list[str]]] = [{"reviewerToken": []}]


class ErrorResponse(BaseModel):
    """Every error answer of the API, whatever its status."""

    error: str = Field(description="the error's name, e.g. Authentication, NotFound, InvalidEvent")
    message: str = Field(description="what is wrong, in words, naming the field when there is one")
    details: dict[str, Any] = Field(default_factory=dict, description="machine-readable specifics")


SECURITY_SCHEMES: dict[str, Any] = {
    "hmacSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Tray-Agent-Signature",
        "description": 'Machine senders: `v1=<hex HMAC-SHA256(secret, "{timestamp}.{nonce}." + raw body)>`, '
        "with X-Tray-Agent-Timestamp and X-Tray-Agent-Nonce. Older than 5 minutes, or a reused "
        "nonce: 401.",
    },
    "hmacTimestamp": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Tray-Agent-Timestamp",
        "description": "Unix seconds when the request was signed.",
    },
    "hmacNonce": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Tray-Agent-Nonce",
        "description": "Unique per request: 16-128 of A-Z a-z 0-9 _ -.",
    },
    "reviewerToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A reviewer's token; it names the reviewer recorded on approvals and rejections.",
    },
}

_DESCRIPTIONS = {
    400: "The body is not UTF-8, not JSON, or not base64 where it must be",
    401: "No valid credential for this route (unsigned, bad signature, replay, unknown token)",
    404: "No such resource, or no such route",
    409: "The resource is not in a state that allows this (or a duplicate is still in progress)",
    413: "The body is larger than the limit",
    422: "The body or a parameter is invalid; the message names the field",
    502: "Tray refused or failed the call that this request made",
    503: "Our storage is unavailable; retry after Retry-After seconds",
}
_ERROR_EXAMPLES = {
    400: ("MalformedJson", "the request body is not valid JSON", {"line": 1, "column": 2}),
    401: ("Authentication", "the request is not signed", {}),
    404: ("NotFound", "no decision with id 'dec-1'", {}),
    409: ("Conflict", "the review was already approved", {}),
    413: ("PayloadTooLarge", "request body exceeds the 1048576 byte limit", {"limit_bytes": 1048576}),
    422: ("InvalidEvent", "type: Field required", {"problems": []}),
    502: ("Upstream", "Tray answered 500", {}),
    503: ("StorageUnavailable", "storage is unavailable; retry shortly", {}),
}
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}

# Which routes can answer which errors beyond those every protected route can give.
_CONFLICTS = (
    ("POST", "/events"),
    ("POST", "/reviews/{review_id}/approve"),
    ("POST", "/reviews/{review_id}/reject"),
    ("POST", "/work/{work_id}/release"),
    ("POST", "/work/{work_id}/cancel"),
    ("POST", "/po/intake/{intake_id}/rerun"),
    ("POST", "/callbacks/tray-failure"),
)
_CALLS_TRAY = (
    ("POST", "/reviews/{review_id}/approve"),
    ("POST", "/work/{work_id}/release"),
    ("POST", "/callbacks/tray-failure"),
)
# Routes that look something up by a value of the body (404), not only by a path parameter.
_LOOKS_UP = (("POST", "/callbacks/tray-failure"),)
_REQUEST_EXAMPLES: dict[tuple[str, str], Any] = {
    ("POST", "/events"): {
        "id": "evt-2026-12-01-0001",
        "type": "lead.created",
        "source": "hubspot",
        "occurred_at": "2026-12-01T09:00:00Z",
        "data": {"email": "ann@smallco.io", "company": "SmallCo", "employees": 12},
    },
    ("POST", "/reviews/{review_id}/approve"): {"edited_payload": {"unit_price": "12.50"}},
    ("POST", "/reviews/{review_id}/reject"): {"reason": "the buyer cancelled the order"},
    ("POST", "/work/{work_id}/cancel"): {"reason": "sent to the wrong customer"},
}
_RESPONSE_EXAMPLES: dict[tuple[str, str], Any] = {
    ("POST", "/events"): {
        "decision_id": "8e9cd1c1-39fe-5ea3-a214-a9f5b3485d49",
        "action": "trigger",
        "workflow": "lead_enrichment",
        "execution_id": "exec-21ce10109d864133",
        "reason": "new lead from hubspot: standard enrichment and SMB routing",
        "status": "done",
        "work_id": "event:evt-2026-12-01-0001",
    },
    ("GET", "/health"): {"status": "ok"},
}


def _error_response(status: int) -> dict[str, Any]:
    name, message, details = _ERROR_EXAMPLES[status]
    response: dict[str, Any] = {
        "description": _DESCRIPTIONS[status],
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorResponse"},
                "example": {"error": name, "message": message, "details": details},
            }
        },
    }
    if status in (409, 503):
        response["headers"] = _RETRY_AFTER
    return response


def _security(access: Access) -> list[dict[str, list[str]]]:
    if access is Access.PUBLIC:
        return []
    if access is Access.SIGNED:
        return SIGNED
    if access is Access.REVIEWER:
        return REVIEWER
    return REVIEWER + SIGNED  # either credential


def _concrete(path: str) -> str:
    """A request path for a templated one, to ask ``required_access`` as a request would."""
    return path.replace("{", "").replace("}", "")


def build_openapi(generated: dict[str, Any]) -> dict[str, Any]:
    """Powertools' document, completed: security, the one error model, examples."""
    document = json.loads(json.dumps(generated))  # a deep copy we may edit
    document["info"]["description"] = (
        "tray-agent: inbound events → decisions → Tray workflows, purchase orders, reviews, the "
        "work ledger. Every error answer has the body `ErrorResponse`."
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for generated_only in ("HTTPValidationError", "ValidationError"):
        schemas.pop(generated_only, None)
    schemas["ErrorResponse"] = ErrorResponse.model_json_schema()
    document["components"]["securitySchemes"] = SECURITY_SCHEMES
    document.pop("security", None)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            key = (method.upper(), path)
            access = required_access(key[0], _concrete(path))
            operation["security"] = _security(access)
            responses = operation["responses"]
            responses.pop("422", None)
            statuses = [400, 413, 422, 503]  # any body may be refused; storage may fail
            if access is not Access.PUBLIC:
                statuses.append(401)
            if "{" in path or key in _LOOKS_UP:
                statuses.append(404)
            if key in _CONFLICTS:
                statuses.append(409)
            if key in _CALLS_TRAY:
                statuses.append(502)
            for status in sorted(statuses):
                responses[str(status)] = _error_response(status)
            if key in _REQUEST_EXAMPLES and "requestBody" in operation:
                operation["requestBody"]["content"]["application/json"]["example"] = _REQUEST_EXAMPLES[key]
            if key in _RESPONSE_EXAMPLES:
                for status, answer in responses.items():
                    if status.startswith("2") and "content" in answer:
                        answer["content"]["application/json"]["example"] = _RESPONSE_EXAMPLES[key]
    return document


def openapi_document(app: Any) -> dict[str, Any]:
    generated = json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION))
    return build_openapi(generated)


if __name__ == "__main__":  # python -m tray_agent.handlers.openapi_doc > openapi.json
    from tray_agent.handlers.api import app

    print(json.dumps(openapi_document(app), indent=2))  # noqa: T201 - the document is the output
