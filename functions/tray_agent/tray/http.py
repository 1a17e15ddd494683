"""The one place that sends HTTP to Tray: rate limit, bounded retries, error mapping.

Every surface client (webhooks, workflows, GraphQL, Platform) sends through one
``TrayHttp``, which owns the container's single ``httpx.Client`` and ``TokenBucket``.

Retries are only where repeating cannot do harm:

- ``RetrySafety.IDEMPOTENT`` (reads): retried on 429, 5xx, timeouts and broken connections.
- ``RetrySafety.REJECTED_ONLY`` (anything that acts: triggers, execute, retry, a billable
  connector call; Tray deduplicates none of them on a header): retried only when Tray certainly
  did not act: 429, 503 without an execution (Tray refused the request), or a connection that
  never opened. Otherwise the error says ``outcome_unknown`` when the request may have acted.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

import httpx

from tray_agent.observability import logger
from tray_agent.tray.errors import (
    TrayError,
    TrayRateLimitedError,
    TrayServerError,
    TrayTimeoutError,
    TrayTransportError,
    error_class_for,
)
from tray_agent.tray.ratelimit import TokenBucket

# Sent on every call that acts, so Tray's logs show the attempt; Tray does not deduplicate on it.
IDEMPOTENCY_HEADER = "Idempotency-Key"
HTTP_SERVICE_UNAVAILABLE = 503
MAX_ERROR_MESSAGE_CHARS = 500


class RetrySafety(StrEnum):
    IDEMPOTENT = "idempotent"
    REJECTED_ONLY = "rejected_only"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay_s: float = 0.2
    max_delay_s: float = 5.0
    # A Retry-After longer than this is not waited for: the caller gets the 429 and decides.
    max_retry_after_s: float = 30.0


def encode_json(payload: object) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


class TrayHttp:
    def __init__(
        self,
        client: httpx.Client,
        limiter: TokenBucket,
        policy: RetryPolicy | None = None,
        *,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.limiter = limiter
        self.policy = policy or RetryPolicy()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._sleep = sleep

    def request(
        self,
        operation: str,
        method: str,
        url: str,
        *,
        safety: RetrySafety,
        token: str | None = None,
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        """Send one logical call (with bounded retries); a non-2xx final answer raises a TrayError."""
        request_headers = dict(headers or {})
        if body is not None:
            request_headers["Content-Type"] = "application/json"
        if token:
            request_headers["Authorization"] = f"Bearer {token}"
        extra: dict[str, Any] = {}
        if timeout is not None:
            extra["timeout"] = timeout
        attempt = 0
        while True:
            attempt += 1
            self.limiter.acquire()
            try:
                response = self.client.request(
                    method, url, content=body, params=params, headers=request_headers, **extra
                )
            except httpx.TransportError as exc:
                failure = _transport_error(operation, exc)
                failure.outcome_unknown = not _never_sent(exc)
                if attempt < self.policy.max_attempts and _may_repeat_after(exc, safety):
                    self._back_off(operation, attempt, failure.code, self._jittered(attempt))
                    continue
                raise failure from exc
            if response.is_success:
                return response
            error = response_error(operation, response, token=token)
            error.outcome_unknown = _maybe_acted(error)
            delay = self._retry_delay(error, attempt, safety)
            if delay is None:
                raise error
            self._back_off(operation, attempt, error.code, delay)

    def _retry_delay(self, error: TrayError, attempt: int, safety: RetrySafety) -> float | None:
        if attempt >= self.policy.max_attempts:
            return None
        if isinstance(error, TrayRateLimitedError):
            retry_after = error.retry_after_s
            if retry_after is None:
                return self._jittered(attempt)
            if retry_after > self.policy.max_retry_after_s:
                return None
            self.limiter.pause(retry_after)
            # Spread the waiting threads so they do not all come back in the same millisecond.
            return retry_after + self._rng.uniform(0, self.policy.base_delay_s)
        # An error tied to an execution is that run's outcome: repeating would run it again.
        refused = error.status_code == HTTP_SERVICE_UNAVAILABLE
        if (
            isinstance(error, TrayServerError)
            and not error.execution_id
            and (safety is RetrySafety.IDEMPOTENT or refused)
        ):
            return self._jittered(attempt)
        return None

    def _jittered(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        ceiling = min(self.policy.max_delay_s, self.policy.base_delay_s * 2 ** (attempt - 1))
        return self._rng.uniform(0, ceiling)

    def _back_off(self, operation: str, attempt: int, code: str, delay_s: float) -> None:
        logger.warning(
            "tray call retried",
            extra={"operation": operation, "attempt": attempt, "code": code, "delay_s": round(delay_s, 3)},
        )
        self._sleep(delay_s)


def _may_repeat_after(exc: httpx.TransportError, safety: RetrySafety) -> bool:
    return safety is RetrySafety.IDEMPOTENT or _never_sent(exc)


def _never_sent(exc: httpx.TransportError) -> bool:
    """The request never left: Tray cannot have acted on it."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _maybe_acted(error: TrayError) -> bool:
    """A 5xx answer not tied to a run, other than 503 (a refusal), leaves the outcome open."""
    return (
        isinstance(error, TrayServerError)
        and not error.execution_id
        and error.status_code is not None
        and error.status_code != HTTP_SERVICE_UNAVAILABLE
    )


def _transport_error(operation: str, exc: httpx.TransportError) -> TrayTransportError:
    if isinstance(exc, httpx.TimeoutException):
        return TrayTimeoutError(f"no answer in time ({type(exc).__name__})", operation=operation)
    return TrayTransportError(f"connection failed ({type(exc).__name__})", operation=operation)


def response_error(operation: str, response: httpx.Response, *, token: str | None = None) -> TrayError:
    """The typed error for a non-2xx answer, from Tray's code in the body or else the status."""
    code, message, execution_id, details = _parse_error_body(response)
    status = response.status_code
    cls = error_class_for(status, code)
    text = f"HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
    if token:
        text = text.replace(token, "***")
    kwargs: dict[str, Any] = {
        "operation": operation,
        "code": code if code and code != f"HTTP_{status}" else None,
        "status_code": status,
        "execution_id": execution_id,
        "details": details,
    }
    if cls is TrayRateLimitedError:
        kwargs["retry_after_s"] = parse_retry_after(response.headers.get("Retry-After"))
    if cls is TrayServerError and kwargs["code"] is None and status == 503:
        kwargs["code"] = "SERVICE_UNAVAILABLE"
    return cls(text, **kwargs)


def _parse_error_body(response: httpx.Response) -> tuple[str | None, str, str | None, dict[str, object]]:
    try:
        body = response.json()
    except ValueError:
        return None, response.text[:MAX_ERROR_MESSAGE_CHARS].strip(), None, {}
    if not isinstance(body, dict):
        return None, "", None, {}
    error = body.get("error")
    code: str | None = None
    message = str(body.get("message") or "")
    if isinstance(error, dict):
        code = _str_or_none(error.get("code"))
        message = str(error.get("message") or message)
    elif isinstance(error, str):
        code = error
    execution_id = _str_or_none(body.get("executionId") or body.get("execution_id"))
    details: dict[str, object] = {}
    for key in ("serviceCode", "step", "connector", "limitBytes"):
        if key in body:
            details[key] = body[key]
    return code, message[:MAX_ERROR_MESSAGE_CHARS], execution_id, details


def _str_or_none(value: object) -> str | None:
    return str(value) if value is not None else None


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (RFC 9110 allows delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
