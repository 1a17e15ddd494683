"""The one mapping from errors to HTTP answers."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from tray_agent.errors import DuplicateInProgressError, StorageUnavailableError, TrayAgentError
from tray_agent.observability import logger


def _error_name(exc: TrayAgentError) -> str:
    return type(exc).__name__.removesuffix("Error") or "Error"


def error_payload(exc: TrayAgentError) -> dict[str, Any]:
    return {"error": _error_name(exc), "message": exc.message, "details": exc.details}


def error_response(exc: TrayAgentError) -> Response[str]:
    if exc.http_status >= 500:
        logger.error("request failed", error=type(exc).__name__, reason=exc.message)
    else:
        logger.info("request refused", error=type(exc).__name__, status=exc.http_status)
    retry_later = isinstance(exc, DuplicateInProgressError | StorageUnavailableError)
    headers = {"Retry-After": "1"} if retry_later else None
    return Response(
        status_code=exc.http_status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(error_payload(exc), default=str),
        headers=headers,
    )


def proxy_error_response(exc: TrayAgentError) -> dict[str, Any]:
    """The same answer as ``error_response``, as a raw API Gateway proxy result."""
    logger.info("request refused", error=type(exc).__name__, status=exc.http_status)
    headers = {"Content-Type": content_types.APPLICATION_JSON}
    if isinstance(exc, DuplicateInProgressError | StorageUnavailableError):
        headers["Retry-After"] = "1"
    return {
        "statusCode": exc.http_status,
        "headers": headers,
        "body": json.dumps(error_payload(exc), default=str),
        "isBase64Encoded": False,
    }


def validation_error_response(exc: RequestValidationError) -> Response[str]:
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        status, name, message = 400, "MalformedJson", "the request body is not valid JSON"
    else:
        status, name = 422, "InvalidEvent"
        message = "; ".join(_describe(error) for error in errors) or "the request is invalid"
    details = [
        {"location": list(e.get("loc", ())), "problem": e.get("msg"), "type": e.get("type")} for e in errors
    ]
    logger.info("request refused", error=name, status=status, problems=len(details))
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": name, "message": message, "details": {"problems": details}}, default=str),
    )


def _describe(error: dict[str, Any]) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
    return f"{location or 'body'}: {error.get('msg', 'invalid')}"
