"""Typed errors for every way a Tray call can fail (seed 001's documented codes and more).

Each error carries ``operation`` (which client call failed, e.g. ``webhooks.trigger``) and
``code`` (Tray's code, or ``HTTP_<status>`` / ``TIMEOUT`` / ``TRANSPORT``). Class names are
stable: Step Functions ``Retry``/``Catch`` clauses match them. No error ever carries a token.
"""

from __future__ import annotations

import re

from tray_agent.errors import UpstreamError

# The codes a failed Tray execution or response can carry (seed 001 "Error codes").
HTTP_429 = "HTTP_429"
STEP_TIMEOUT = "STEP_TIMEOUT"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
AUTH_REFRESH_FAILED = "AUTH_REFRESH_FAILED"
CONNECTOR_ERROR = "CONNECTOR_ERROR"
WORKFLOW_DISABLED = "WORKFLOW_DISABLED"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
HTTP_5XX = "HTTP_5XX"
TIMEOUT = "TIMEOUT"
TRANSPORT = "TRANSPORT"
FIELD_CUSTOM_VALIDATION_EXCEPTION = "FIELD_CUSTOM_VALIDATION_EXCEPTION"


class TrayError(UpstreamError):
    """A Tray call failed. ``operation`` names the call, ``code`` says why."""

    default_code = "TRAY_ERROR"

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        code: str | None = None,
        status_code: int | None = None,
        execution_id: str | None = None,
        details: dict[str, object] | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        self.operation = operation
        # The request may have reached Tray and taken effect (a timeout or a dropped connection
        # after sending, a 5xx other than 503): for a trigger, look for its run before sending again.
        self.outcome_unknown = outcome_unknown
        self.code = code or self.default_code
        self.status_code = status_code
        self.execution_id = execution_id
        super().__init__(f"{operation}: {message}", details=details)

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed later without anyone changing anything."""
        return False


class TrayBadRequestError(TrayError):
    """Tray rejected the request as invalid (HTTP 400)."""

    default_code = "HTTP_400"


class TrayUnauthorizedError(TrayError):
    """The bearer token is missing, invalid or lacks permission (HTTP 401/403)."""

    default_code = "HTTP_401"


class TrayNotFoundError(TrayError):
    default_code = "HTTP_404"


class TrayRateLimitedError(TrayError):
    """HTTP 429 from Tray, still there after the client's bounded retries."""

    default_code = HTTP_429

    def __init__(self, message: str, *, retry_after_s: float | None = None, **kwargs: object) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(message, **kwargs)  # type: ignore[arg-type]

    @property
    def retryable(self) -> bool:
        return True


class TrayRetryLaterError(TrayRateLimitedError):
    """A 429 whose Retry-After is longer than the caller can wait in place: hold the work and come back.

    Its message ends with ``(retry after N s)`` so a Step Functions state that only sees the
    error's name and message (a Catch's ``Cause``) can read the wait: ``retry_after_from_message``.
    """

    _SUFFIX = re.compile(r"\(retry after (\d+(?:\.\d+)?) s\)$")

    @classmethod
    def from_rate_limited(cls, error: TrayRateLimitedError) -> TrayRetryLaterError:
        wait = error.retry_after_s or 0.0
        text = error.message.removeprefix(f"{error.operation}: ")  # TrayError adds it back
        return cls(
            f"{text} (retry after {wait:.3f} s)",
            retry_after_s=wait,
            operation=error.operation,
            code=error.code,
            status_code=error.status_code,
            execution_id=error.execution_id,
            details=error.details,
        )

    @classmethod
    def retry_after_from_message(cls, message: str) -> float | None:
        found = cls._SUFFIX.search(message.strip())
        return float(found.group(1)) if found else None


class TrayPayloadTooLargeError(TrayError):
    """A body over Tray's limit: 1 MB for a webhook trigger, 6 MB between steps."""

    default_code = PAYLOAD_TOO_LARGE


class TrayStepTimeoutError(TrayError):
    """A connector step exceeded its timeout (45 s for standard connectors)."""

    default_code = STEP_TIMEOUT

    @property
    def retryable(self) -> bool:
        return True


class TrayAuthRefreshFailedError(TrayError):
    """Tray could not refresh a connector's OAuth token after its 3 retries."""

    default_code = AUTH_REFRESH_FAILED


class TrayConnectorError(TrayError):
    """The target system behind a connector returned an error (invalid data, permissions...)."""

    default_code = CONNECTOR_ERROR


class TrayWorkflowDisabledError(TrayError):
    """The workflow was triggered but is not enabled."""

    default_code = WORKFLOW_DISABLED


class TrayServerError(TrayError):
    """Tray answered 5xx."""

    default_code = HTTP_5XX

    @property
    def retryable(self) -> bool:
        return True


class TrayTransportError(TrayError):
    """No usable HTTP answer: connection refused or reset, protocol error."""

    default_code = TRANSPORT

    @property
    def retryable(self) -> bool:
        return True


class TrayTimeoutError(TrayTransportError):
    """The client's own timeout expired (connect, read or write)."""

    default_code = TIMEOUT


# Tray's codes in a response body or a failed execution, to the error class that names them.
ERROR_CLASS_BY_CODE: dict[str, type[TrayError]] = {
    HTTP_429: TrayRateLimitedError,
    STEP_TIMEOUT: TrayStepTimeoutError,
    PAYLOAD_TOO_LARGE: TrayPayloadTooLargeError,
    AUTH_REFRESH_FAILED: TrayAuthRefreshFailedError,
    CONNECTOR_ERROR: TrayConnectorError,
    FIELD_CUSTOM_VALIDATION_EXCEPTION: TrayConnectorError,
    WORKFLOW_DISABLED: TrayWorkflowDisabledError,
    SERVICE_UNAVAILABLE: TrayServerError,
    HTTP_5XX: TrayServerError,
}


ERROR_CLASS_BY_STATUS: dict[int, type[TrayError]] = {
    401: TrayUnauthorizedError,
    403: TrayUnauthorizedError,
    404: TrayNotFoundError,
    413: TrayPayloadTooLargeError,
    429: TrayRateLimitedError,
}


def error_class_for(status_code: int, code: str | None) -> type[TrayError]:
    """The most specific class for an HTTP answer: Tray's code first, then the status."""
    if code and code in ERROR_CLASS_BY_CODE:
        return ERROR_CLASS_BY_CODE[code]
    if status_code >= 500:
        return TrayServerError
    return ERROR_CLASS_BY_STATUS.get(status_code, TrayBadRequestError)
