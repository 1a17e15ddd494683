"""Classify a failed Tray execution from its error code, message and step logs (seed 001's table).

Pure functions: no I/O, so every rule is cheap to run on thousands of failures per tick.
"""

from __future__ import annotations

import re

from tray_agent.models.monitor import Classification, FailureClass
from tray_agent.tray import Execution, ExecutionError
from tray_agent.tray import errors as codes

_TRANSIENT_CODES = {
    codes.STEP_TIMEOUT,
    codes.SERVICE_UNAVAILABLE,
    codes.HTTP_5XX,
    codes.TIMEOUT,
    codes.TRANSPORT,
}
_HTTP_5XX = re.compile(r"\b(?:HTTP[ _]?)?5\d\d\b")
_HTTP_429 = re.compile(r"\b(?:HTTP[ _]?)?429\b|too many requests|rate limit", re.IGNORECASE)
_HTTP_401 = re.compile(r"\bHTTP[ _]?401\b|\b401 unauthori[sz]ed\b", re.IGNORECASE)
_CONNECTION = re.compile(r"connection (?:reset|refused|aborted)|ECONNRESET|timed out", re.IGNORECASE)
_PICKLIST = re.compile(r"(?P<field>[A-Za-z_][\w.]*): bad value for restricted picklist field: (?P<value>.+)$")
_AUTH_NAME = re.compile(r"authentication '(?P<name>[^']+)'|authentication (?P<id>[\w-]+)")
SERVER_ERROR_CODES = _TRANSIENT_CODES - {codes.STEP_TIMEOUT}


def failure_of(execution: Execution) -> ExecutionError | None:
    """The execution's error, else the first failed step's."""
    if execution.error is not None:
        return execution.error
    return next((step.error for step in execution.steps if step.error is not None), None)


def _step_text(execution: Execution) -> str:
    return " ".join(line for step in execution.steps if step.status == "failed" for line in step.logs)


def _service(execution: Execution, error: ExecutionError | None) -> str | None:
    if error is not None and error.connector:
        return error.connector
    return next((step.connector for step in execution.steps if step.status == "failed"), None)


def is_server_error(error: ExecutionError) -> bool:
    """A 5xx-like answer from the service (what counts towards an outage)."""
    if error.code in SERVER_ERROR_CODES:
        return True
    return bool(_HTTP_5XX.search(error.service_code or "") or _HTTP_5XX.search(error.message))


def classify(execution: Execution) -> Classification:  # noqa: PLR0911 - one answer per class
    error = failure_of(execution)
    service = _service(execution, error)
    if error is None:
        return Classification(
            failure_class=FailureClass.UNKNOWN, reason="failed without an error", service=service
        )
    code, service_code = error.code, error.service_code or ""
    text = f"{error.message} {_step_text(execution)}"
    common = {"service": service, "code": code}
    if code == codes.WORKFLOW_DISABLED:
        return Classification(
            failure_class=FailureClass.DISABLED, reason="the workflow is disabled", **common
        )
    if (
        code in (codes.AUTH_REFRESH_FAILED, "HTTP_401", "UNAUTHORIZED")
        or service_code in ("HTTP_401", "401")
        or (_HTTP_401.search(text))
    ):
        match = _AUTH_NAME.search(error.message)
        auth = (match.group("name") or match.group("id")) if match else str(error.details.get("authId") or "")
        return Classification(
            failure_class=FailureClass.AUTH,
            reason=f"authentication failed: {error.message}",
            auth_name=auth or service,
            **common,
        )
    if code == codes.PAYLOAD_TOO_LARGE:
        return Classification(
            failure_class=FailureClass.PAYLOAD_TOO_LARGE, reason="step data over Tray's 6 MB", **common
        )
    if code == codes.HTTP_429 or service_code in ("HTTP_429", "429") or _HTTP_429.search(error.message):
        return Classification(
            failure_class=FailureClass.RATE_LIMITED,
            reason="rate limited by the service",
            retry_after_s=error.retry_after_s,
            **common,
        )
    if codes.FIELD_CUSTOM_VALIDATION_EXCEPTION in (service_code, code) or (
        codes.FIELD_CUSTOM_VALIDATION_EXCEPTION in error.message
    ):
        field = str(error.details.get("field") or "")
        value = error.details.get("value")
        match = _PICKLIST.search(error.message)
        if match:
            field = field or match.group("field")
            value = value if value is not None else match.group("value").strip()
        return Classification(
            failure_class=FailureClass.DATA_MISMATCH,
            reason=f"{field or 'a field'} rejected value {value!r}",
            field=field or None,
            value=None if value is None else str(value),
            **common,
        )
    if code in _TRANSIENT_CODES or is_server_error(error) or _CONNECTION.search(text):
        return Classification(
            failure_class=FailureClass.TRANSIENT,
            reason=f"transient: {code} {service_code}".strip(),
            retry_after_s=error.retry_after_s,
            **common,
        )
    return Classification(failure_class=FailureClass.UNKNOWN, reason=f"{code}: {error.message}", **common)
