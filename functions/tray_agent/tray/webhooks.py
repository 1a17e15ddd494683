"""Trigger workflows by their webhook URL, in either of Tray's two webhook modes."""

from __future__ import annotations

from typing import Any

import httpx

from tray_agent.models.workflows import TriggerMode
from tray_agent.tray.endpoints import TrayEndpoints, resolve_webhook_url
from tray_agent.tray.errors import TrayPayloadTooLargeError
from tray_agent.tray.http import IDEMPOTENCY_HEADER, RetrySafety, TrayHttp, encode_json
from tray_agent.tray.models import TriggerResult

# Seed 001: a webhook trigger payload may be at most 1 MB.
WEBHOOK_MAX_BODY_BYTES = 1024 * 1024
# Seed 001: "await workflow and respond" holds the request for up to 5 minutes.
SYNC_TRIGGER_TIMEOUT_S = 300.0
EXECUTION_ID_HEADER = "X-Tray-Execution-Id"


class WebhookClient:
    def __init__(self, http: TrayHttp, endpoints: TrayEndpoints, *, timeout_s: float) -> None:
        self._http = http
        self._endpoints = endpoints
        self._timeout_s = timeout_s

    def trigger(
        self,
        url: str,
        payload: dict[str, Any],
        *,
        idempotency_key: str,
        mode: TriggerMode = TriggerMode.AUTO_RESPOND,
    ) -> TriggerResult:
        """POST ``payload`` to a workflow's webhook.

        ``AUTO_RESPOND`` returns once Tray accepted the event; ``AWAIT_RESPONSE`` returns the
        workflow's reply (a failed run raises the TrayError for its code). Tray's webhooks do not
        deduplicate (the key is sent as ``Idempotency-Key`` for Tray's logs only), so the call is
        repeated only when Tray certainly did not act; after a timeout or a dropped connection the
        error says ``outcome_unknown``: look for the run (``WorkflowsClient.find_execution_by_key``,
        for a workflow whose payload carries the key) before sending again.
        """
        operation = "webhooks.trigger"
        if not idempotency_key:
            raise ValueError("a webhook trigger needs an idempotency key")
        body = encode_json(payload)
        if len(body) > WEBHOOK_MAX_BODY_BYTES:
            raise TrayPayloadTooLargeError(
                f"payload is {len(body)} bytes; Tray accepts at most {WEBHOOK_MAX_BODY_BYTES} bytes "
                "(1 MB) on a webhook trigger, nothing was sent",
                operation=operation,
                details={"size_bytes": len(body), "limit_bytes": WEBHOOK_MAX_BODY_BYTES},
            )
        timeout = None
        if mode is TriggerMode.AWAIT_RESPONSE:
            timeout = httpx.Timeout(self._timeout_s, read=SYNC_TRIGGER_TIMEOUT_S + self._timeout_s)
        response = self._http.request(
            operation,
            "POST",
            resolve_webhook_url(url, self._endpoints),
            safety=RetrySafety.REJECTED_ONLY,
            body=body,
            headers={IDEMPOTENCY_HEADER: idempotency_key},
            timeout=timeout,
        )
        reply = _json_object(response)
        execution_id = response.headers.get(EXECUTION_ID_HEADER)
        if execution_id is None and reply is not None and mode is TriggerMode.AUTO_RESPOND:
            found = reply.get("executionId") or reply.get("execution_id")
            execution_id = str(found) if found else None
        return TriggerResult(execution_id=execution_id, status_code=response.status_code, response=reply)


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    if not response.content:
        return None
    try:
        body = response.json()
    except ValueError:
        return {"text": response.text}
    return body if isinstance(body, dict) else {"value": body}
