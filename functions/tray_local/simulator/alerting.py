"""Tray's alerting workflow, simulated: each failed run is posted, signed, to an alerting URL.

In Tray a workflow's settings name an alerting workflow; its alerting trigger receives the
failed workflow, the execution, the failing step and the error, and (as we configure it) an
HTTP step posts them to ``POST /callbacks/tray-failure`` signed as a machine sender. Here the
post happens in a thread of its own once the run has ended, as Tray runs the alerting workflow
asynchronously: the failed run's webhook answer never waits for it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from tray_agent.clock import epoch_s
from tray_agent.domain.auth import sign
from tray_local.simulator.engine import ExecutionRecord, iso

ALERTING_TIMEOUT_S = 30.0
ALL = "*"


@dataclass(frozen=True)
class AlertingTarget:
    url: str
    secret: str | None  # the machine senders' signing secret; None posts unsigned


@dataclass(frozen=True)
class AlertingDelivery:
    execution_id: str
    workflow_name: str
    status_code: int | None  # None: the post did not get an answer
    answer: dict[str, Any] | None
    sent_at: float  # time.monotonic() when the post started
    sent_wall: datetime  # the same moment on the wall clock (executions' created_at are wall times)
    elapsed_ms: float


def failure_payload(record: ExecutionRecord) -> dict[str, Any]:
    """The alerting trigger's data, in the shape ``TrayFailureCallback`` takes."""
    error = record.error or {"code": "UNKNOWN", "message": "failed without an error"}
    failing = next((step for step in reversed(record.steps) if step.status == "failed"), None)
    step_name = failing.name if failing else error.get("step")
    payload: dict[str, Any] = {
        "workflow_id": record.workflow_id,
        "workflow_name": record.workflow_name,
        "execution_id": record.id,
        "failed_at": iso(record.finished_at or record.created_at),
        "step": {"name": step_name, "connector": failing.connector if failing else error.get("connector")}
        if step_name
        else None,
        "error": {
            "code": error["code"],
            "message": error["message"],
            "service_code": error.get("serviceCode"),
            "retry_after_s": error.get("retryAfter"),
        },
    }
    return payload


class Alerting:
    def __init__(self) -> None:
        self._targets: dict[str, AlertingTarget] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._deliveries: list[AlertingDelivery] = []

    def set_url(self, url: str | None, *, workflow: str = ALL, secret: str | None = None) -> None:
        with self._lock:
            if url is None:
                self._targets.pop(workflow, None)
            else:
                self._targets[workflow] = AlertingTarget(url, secret)

    def deliveries(self) -> list[AlertingDelivery]:
        with self._lock:
            return list(self._deliveries)

    def on_failed(self, record: ExecutionRecord) -> None:
        with self._lock:
            target = self._targets.get(record.workflow_name) or self._targets.get(ALL)
            if target is None:
                return
            thread = threading.Thread(target=self._post, args=(target, record), daemon=True)
            self._threads.append(thread)
        thread.start()

    def deliver(self, record: ExecutionRecord) -> AlertingDelivery:
        """Run the alerting workflow for ``record`` now, in this thread (Tray's "re-run" of an
        alerting execution, or a failure from before the URL was set); a new signed request."""
        with self._lock:
            target = self._targets.get(record.workflow_name) or self._targets.get(ALL)
        if target is None:
            raise LookupError(f"no alerting URL for {record.workflow_name}")
        return self._post(target, record)

    def join(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                pending = [t for t in self._threads if t.is_alive()]
            if not pending or time.monotonic() >= deadline:
                return
            for thread in pending:
                thread.join(max(0.0, deadline - time.monotonic()))

    def _post(self, target: AlertingTarget, record: ExecutionRecord) -> AlertingDelivery:
        body = json.dumps(failure_payload(record)).encode()
        headers = {"content-type": "application/json"}
        if target.secret is not None:
            timestamp, nonce = str(int(epoch_s())), uuid.uuid4().hex
            headers |= {
                "X-Tray-Agent-Timestamp": timestamp,
                "X-Tray-Agent-Nonce": nonce,
                "X-Tray-Agent-Signature": sign(target.secret, timestamp, nonce, body),
            }
        started, started_wall = time.monotonic(), datetime.now(UTC)
        status: int | None = None
        answer: dict[str, Any] | None = None
        try:
            response = httpx.post(target.url, content=body, headers=headers, timeout=ALERTING_TIMEOUT_S)
            status = response.status_code
            parsed = response.json() if response.content else None
            answer = parsed if isinstance(parsed, dict) else None
        except (httpx.HTTPError, ValueError):
            pass  # Tray's alerting run failed; the monitor's tick is the safety net
        delivery = AlertingDelivery(
            execution_id=record.id,
            workflow_name=record.workflow_name,
            status_code=status,
            answer=answer,
            sent_at=started,
            sent_wall=started_wall,
            elapsed_ms=(time.monotonic() - started) * 1000,
        )
        with self._lock:
            self._deliveries.append(delivery)
        return delivery
