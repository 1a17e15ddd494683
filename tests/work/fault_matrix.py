"""The fault-injection matrix: every storage call and every Tray call of a path fails in turn.

Paths: an inbound event, an approval, and a monitor tick that retries a failed run (the PO
pipeline's faults are tested step by step in tests/po_pipeline/test_pipeline_hold_rerun.py).

Shared by the test suite (tests/work/test_fault_matrix.py) and ``make bench``
(bench_fault_matrix.py). Faults are injected into our own boto3 clients (a botocore
``before-call`` hook raising what DynamoDB/S3 would raise, or a dropped connection) and into the
Tray simulator (5xx, 429 with a long Retry-After, a connection reset before or after Tray acted,
a read timeout after Tray acted). For every case the work is then redelivered and swept, with
the fault gone, and judged:

- lost: no visible terminal state (done / ignored / rejected / failed) after redelivery and sweep,
  or no decision record readable through the API;
- duplicate Tray runs: more runs that took effect than the work asked for, or two runs that
  share one attempt key;
- 5xx answers other than 503 (a "try again" with Retry-After is the honest answer to our own
  storage failing; a 500 never is).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError

from tests.conftest import new_event, work_key
from tray_agent.data import aws
from tray_local.simulator import Fault

LEAD_WEBHOOK = "/webhooks/5c1f0d2e-lead-enrichment"
REFUND_WEBHOOK_WORKFLOW = "issue_refund"
LEASE_S = 0.3


@dataclass
class CaseResult:
    case: str
    answers: list[int] = field(default_factory=list)
    final_state: str | None = None
    lost: bool = False
    duplicate_runs: int = 0
    server_errors: int = 0


@dataclass(frozen=True)
class Case:
    name: str
    path: str  # "event" or "approval"
    inject: Callable[[Any], Any]  # returns a context manager factory


class StorageFault:
    """Fails the ``nth`` call (1-based) of our DynamoDB/S3 clients after ``arm()``."""

    def __init__(self, nth: int, kind: str) -> None:
        self.nth = nth
        self.kind = kind
        self.calls = 0
        self.fired = False

    def __call__(self, model: Any = None, **_: Any) -> None:
        self.calls += 1
        if self.calls == self.nth and not self.fired:
            self.fired = True
            operation = getattr(model, "name", "call")
            if self.kind == "connection":
                raise EndpointConnectionError(endpoint_url="https://dynamodb.local")
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, operation)


@contextmanager
def storage_hook(hook: Callable[..., None]) -> Iterator[None]:
    clients = [aws.dynamodb().meta.client, aws.client("s3")]
    for client in clients:
        client.meta.events.register("before-call", hook)
    try:
        yield
    finally:
        for client in clients:
            client.meta.events.unregister("before-call", hook)


def count_storage_calls(run: Callable[[], Any]) -> int:
    counter = StorageFault(nth=10**9, kind="none")
    with storage_hook(counter):
        run()
    return counter.calls


def _lead() -> dict[str, Any]:
    return new_event()  # each a different lead: identical ones would be near-duplicates


def _refund() -> dict[str, Any]:
    return new_event(
        "refund.requested",
        customer_id="cust-matrix",
        source="zendesk",
        data={"amount": 50, "currency": "EUR"},
    )


def _effective_runs(env: Any, prefix: str) -> list[Any]:
    env.simulator.wait_idle()
    return [
        e
        for e in env.simulator.executions()
        if (e.idempotency_key or "").startswith(prefix) and e.status != "failed"
    ]


def _all_runs(env: Any, prefix: str) -> list[Any]:
    return [e for e in env.simulator.executions() if (e.idempotency_key or "").startswith(prefix)]


def _settle(env: Any, send: Callable[[], Any], result: CaseResult, sweep: Callable[[], Any]) -> None:
    """Redeliver and sweep with the fault gone until the work is finished (bounded)."""
    for _ in range(4):
        time.sleep(LEASE_S + 0.05)  # a crashed worker's lease expires
        answer = send()
        result.answers.append(answer.status)
        sweep()
        if answer.status == 202 and answer.body.get("status") in ("done", "ignored", "rejected", "failed"):
            return


def _judge(env: Any, result: CaseResult, event: dict[str, Any], expected_runs: int) -> None:
    prefix = work_key(event["id"])
    work_id = prefix.rstrip(".")
    work = env.api("GET", f"/work/{work_id}")
    result.final_state = work.body.get("state") if work.status == 200 else None
    terminal = result.final_state in ("done", "ignored", "rejected", "failed")
    decision_ok = False
    if work.status == 200 and work.body.get("decision_id"):
        decision = env.api("GET", f"/decisions/{work.body['decision_id']}")
        decision_ok = decision.status == 200 and decision.body["outcome"] not in ("pending",)
    result.lost = not (terminal and decision_ok)
    effective = _effective_runs(env, prefix)
    keys = [e.idempotency_key for e in _all_runs(env, prefix)]
    result.duplicate_runs = max(0, len(effective) - expected_runs) + (len(keys) - len(set(keys)))
    result.server_errors = sum(1 for status in result.answers if status >= 500 and status != 503)


def run_event_case(env: Any, sweep: Callable[[], Any], name: str, fault: Any) -> CaseResult:
    result = CaseResult(case=name)
    event = _lead()

    def send() -> Any:
        return env.api("POST", "/events", event)

    if isinstance(fault, StorageFault):
        with storage_hook(fault):
            result.answers.append(send().status)
    else:
        env.simulator.inject_fault(fault)
        result.answers.append(send().status)
        env.simulator._faults.clear()
    _settle(env, send, result, sweep)
    _judge(env, result, event, expected_runs=1)
    return result


def run_approval_case(env: Any, sweep: Callable[[], Any], name: str, fault: Any) -> CaseResult:
    result = CaseResult(case=name)
    event = _refund()
    accepted = env.api("POST", "/events", event).body
    review_id = accepted["review_id"]

    def approve() -> Any:
        return env.api("POST", f"/reviews/{review_id}/approve", {})

    if isinstance(fault, StorageFault):
        with storage_hook(fault):
            result.answers.append(approve().status)
    else:
        env.simulator.inject_fault(fault)
        result.answers.append(approve().status)
        env.simulator._faults.clear()
    for _ in range(4):
        time.sleep(LEASE_S + 0.05)
        again = approve()  # a reviewer clicking again: 409 once the approval is recorded
        result.answers.append(again.status)
        time.sleep(LEASE_S + 0.05)
        sweep()
        work = env.api("GET", f"/work/{accepted['work_id']}").body
        if work.get("state") in ("done", "rejected", "failed"):
            break
    _judge(env, result, event, expected_runs=1)
    return result


TRAY_FAULTS: list[tuple[str, Fault]] = [
    ("tray-503", Fault(kind="status", status=503, times=1)),
    ("tray-500", Fault(kind="status", status=500, times=1)),
    # Longer than the request waits (the matrix's client makes one attempt): held until it passes.
    ("tray-429-retry-after", Fault(kind="status", status=429, retry_after=1, times=1)),
    ("tray-reset-before", Fault(kind="reset", times=1)),
    ("tray-reset-after-acting", Fault(kind="reset", after_processing=True, times=1)),
    ("tray-timeout-after-acting", Fault(kind="delay", delay_s=1.5, after_processing=True, times=1)),
    ("tray-401", Fault(kind="status", status=401, times=1)),
]


def cases(env: Any) -> Iterator[tuple[str, str, Any]]:
    """(name, path, fault): every storage call of each path, twice (error, dropped connection), and Tray's."""
    event_calls = count_storage_calls(lambda: env.api("POST", "/events", _lead()))
    for nth in range(1, event_calls + 1):
        for kind in ("error", "connection"):
            yield f"event-storage-{kind}-{nth}", "event", StorageFault(nth, kind)
    for name, fault in TRAY_FAULTS:
        yield f"event-{name}", "event", Fault(**{**fault.__dict__, "path_prefix": "/webhooks/"})

    accepted = env.api("POST", "/events", _refund()).body
    approval_calls = count_storage_calls(
        lambda: env.api("POST", f"/reviews/{accepted['review_id']}/approve", {})
    )
    for nth in range(1, approval_calls + 1):
        for kind in ("error", "connection"):
            yield f"approval-storage-{kind}-{nth}", "approval", StorageFault(nth, kind)
    for name, fault in TRAY_FAULTS:
        yield f"approval-{name}", "approval", Fault(**{**fault.__dict__, "path_prefix": "/webhooks/"})


@contextmanager
def monitor_world(env: Any) -> Iterator[Any]:
    """A Tray of its own and a fresh monitor table: the tick sees only this case's failure."""
    from tray_local.simulator import TraySimulator

    with (
        TraySimulator(time_factor=0.01, seed=7) as sim,
        env.reconfigured(
            TRAY_AGENT_TRAY_API_BASE_URL=sim.base_url,
            TRAY_AGENT_TRAY_WEBHOOK_BASE_URL=sim.base_url,
            TRAY_AGENT_TRAY_MASTER_TOKEN=sim.master_token,
            TRAY_AGENT_TRAY_USER_TOKEN=sim.user_token,
            TRAY_AGENT_MONITOR_TABLE=f"monitor-{uuid.uuid4().hex[:10]}",
        ) as settings,
    ):
        from tray_local.local_aws import create_tables

        create_tables(settings)
        yield sim


def _seed_failure(sim: Any) -> Any:
    from tray_local.demo_monitor import failed_execution

    failed = failed_execution(
        sim,
        "support_ticket_triage",
        code="STEP_TIMEOUT",
        message="Zendesk step timed out",
        created_at=datetime.now(UTC) - timedelta(minutes=2),
    )
    sim.seed_executions([failed])
    return failed


def run_monitor_case(env: Any, name: str, fault: Any) -> CaseResult:
    """A tick that retries a timed-out run fails at one storage call; later ticks finish the job."""
    from tray_agent.domain.monitor.recovery import decision_id_for
    from tray_local.demo_monitor import run_tick

    result = CaseResult(case=name)
    with monitor_world(env) as sim:
        failed = _seed_failure(sim)
        moment = datetime.now(UTC) + timedelta(seconds=1)
        with storage_hook(fault):
            try:
                run_tick(moment)
                result.answers.append(200)
            except Exception:
                result.answers.append(503)
        for minutes in (5, 10, 15):
            run_tick(moment + timedelta(minutes=minutes))
        sim.wait_idle()
        retries = [e for e in sim.executions() if e.retry_of == failed.id]
        decision = env.api("GET", f"/decisions/{decision_id_for(failed.id)}")
        result.final_state = decision.body.get("outcome") if decision.status == 200 else None
        result.lost = not retries or result.final_state != "triggered"
        result.duplicate_runs = max(0, len(retries) - 1)
    return result


def monitor_cases(env: Any) -> Iterator[tuple[str, Any]]:
    from tray_local.demo_monitor import run_tick

    with monitor_world(env) as sim:
        _seed_failure(sim)
        calls = count_storage_calls(lambda: run_tick(datetime.now(UTC) + timedelta(seconds=1)))
    for nth in range(1, calls + 1):
        yield f"monitor-storage-error-{nth}", StorageFault(nth, "error")


def run_matrix(env: Any, sweep: Callable[[], Any]) -> list[CaseResult]:
    results = []
    for name, path, fault in list(cases(env)):
        runner = run_event_case if path == "event" else run_approval_case
        results.append(runner(env, sweep, name, fault))
    for name, fault in list(monitor_cases(env)):
        results.append(run_monitor_case(env, name, fault))
    return results
