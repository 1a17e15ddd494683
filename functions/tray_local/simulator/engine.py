"""The simulator's state and execution engine: workflows, runs, processed ids, rate limit.

Everything here is thread-safe: the HTTP server serves each request on its own thread and
runs that take time run on theirs.
"""

from __future__ import annotations

import bisect
import json
import math
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tray_agent import clock
from tray_agent.models.workflows import ProcessedIdsCheck, TriggerMode, WorkflowTool
from tray_agent.tray.models import Execution
from tray_local.simulator.catalog import SALESFORCE_PICKLISTS
from tray_local.simulator.loops import run_loop
from tray_local.simulator.scripts import STEP_DATA_LIMIT_BYTES, StepScript, WorkflowScript, timeout_for


def utc_now() -> datetime:
    return clock.utc_now()  # the process's clock: a simulated day moves Tray's timestamps too


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass
class SimWorkflow:
    tool: WorkflowTool
    workflow_id: str
    webhook_path: str | None
    mode: TriggerMode
    enabled: bool = True
    script: WorkflowScript = field(default_factory=WorkflowScript)
    processed_ids_check: ProcessedIdsCheck | None = None
    authentications: tuple[str, ...] = ()  # the auths its connector steps use


# The step a workflow with ``processed_ids_check`` runs after its trigger (Tray's Data Storage).
PROCESSED_IDS_STEP = StepScript(name="processed_ids_check", connector="storage")


@dataclass
class StepRecord:
    name: str
    connector: str
    status: str = "running"
    started_at: datetime | None = None
    finished_at: datetime | None = None
    logs: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None

    def wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "connector": self.connector,
            "status": self.status,
            "startedAt": iso(self.started_at),
            "finishedAt": iso(self.finished_at),
            "logs": list(self.logs),
            "error": self.error,
        }


@dataclass
class ExecutionRecord:
    id: str
    workflow_id: str
    workflow_name: str
    input: dict[str, Any]
    created_at: datetime
    status: str = "running"
    output: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    steps: list[StepRecord] = field(default_factory=list)
    finished_at: datetime | None = None
    retry_of: str | None = None
    # The Idempotency-Key header the request carried: recorded for tests, never deduplicated on.
    idempotency_key: str | None = None
    # Set when the processed-ids check found this run's key already processed by that execution:
    # the run ended there, with no side effect.
    duplicate_of: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def task_credits(self) -> int:
        """Tray bills a task credit per step run."""
        return len(self.steps)

    @property
    def took_effect(self) -> bool:
        """A run that got past the processed-ids check and did not fail (its side effects happened)."""
        return self.status == "succeeded" and self.duplicate_of is None

    @property
    def sort_key(self) -> tuple[str, str]:
        return (iso(self.created_at) or "", self.id)

    def wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "workflowId": self.workflow_id,
            "workflowName": self.workflow_name,
            "status": self.status,
            "input": self.input,
            "output": self.output,
            "error": self.error,
            "steps": [step.wire() for step in self.steps],
            "createdAt": iso(self.created_at),
            "finishedAt": iso(self.finished_at),
            "retryOf": self.retry_of,
            "idempotencyKey": self.idempotency_key,
        }


@dataclass(frozen=True)
class CallRecord:
    method: str
    path: str
    status: int


class SimRateLimiter:
    """Tray's side of the limit: a rolling 30 req/s with bursts to 50, answered with 429."""

    def __init__(self, rate_per_s: float, burst: int) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._tokens = float(burst)
        self._updated = time.monotonic()
        self._lock = threading.Lock()
        self.rejected = 0

    def try_acquire(self) -> float | None:
        """None when admitted; else the seconds until a request would be."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate_per_s)
            self._updated = now
            if self._tokens >= 1 - 1e-9:  # float refills can land a hair under a whole token
                self._tokens = max(0.0, self._tokens - 1)
                return None
            self.rejected += 1
            return (1 - self._tokens) / self.rate_per_s


class WorkflowFailedError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["message"])
        self.error = error


# An authentication's display name and whether it is still valid (None: no such authentication).
AuthState = Callable[[str], tuple[str, bool] | None]


@dataclass(frozen=True)
class ConnectorFault:
    """A connector failing some of its calls inside bulk loops (each iteration draws once)."""

    rate: float
    code: str = "CONNECTOR_ERROR"
    message: str = "the service returned an error"
    service_code: str | None = None
    retry_after_s: float | None = None


@dataclass(frozen=True)
class ServiceOutage:
    """A downstream service (a step's connector) answering 5xx while the outage lasts."""

    status: int = 503
    retry_after_s: float | None = None


class Engine:
    def __init__(
        self,
        workflows: Iterable[SimWorkflow],
        *,
        time_factor: float,
        seed: int,
        auth_state: AuthState | None = None,
    ) -> None:
        self.time_factor = time_factor
        self._auth_state = auth_state or (lambda _auth_id: None)
        self.service_outages: dict[str, ServiceOutage] = {}  # connector -> outage
        self.connector_faults: dict[str, ConnectorFault] = {}  # connector -> its failing share in loops
        self._rng = random.Random(seed)  # noqa: S311 - reproducible runs, not security
        self._lock = threading.RLock()
        self.workflows: dict[str, SimWorkflow] = {w.tool.name: w for w in workflows}
        self._by_id = {w.workflow_id: w for w in self.workflows.values()}
        self._by_path = {w.webhook_path: w for w in self.workflows.values() if w.webhook_path}
        self._executions: dict[str, ExecutionRecord] = {}
        self._ordered: list[tuple[tuple[str, str], ExecutionRecord]] = []
        # The Data Storage of processed ids: (workflow id, key) -> the execution that claimed it.
        self._processed: dict[tuple[str, str], str] = {}
        self._threads: list[threading.Thread] = []
        # Tray's alerting trigger: called once per run that ends failed (server.py wires it).
        self.on_failed: Callable[[ExecutionRecord], None] | None = None

    # -- lookup ---------------------------------------------------------------------------
    def workflow_by_id(self, workflow_id: str) -> SimWorkflow | None:
        return self._by_id.get(workflow_id)

    def workflow_by_path(self, path: str) -> SimWorkflow | None:
        return self._by_path.get(path)

    def workflow(self, name: str) -> SimWorkflow:
        try:
            return self.workflows[name]
        except KeyError:
            raise KeyError(f"no simulated workflow named {name!r}") from None

    def execution(self, execution_id: str) -> ExecutionRecord | None:
        with self._lock:
            return self._executions.get(execution_id)

    def executions(self) -> list[ExecutionRecord]:
        with self._lock:
            return [record for _, record in self._ordered]

    def chance(self, probability: float) -> bool:
        """One draw of the seeded RNG (reproducible outcomes)."""
        with self._lock:
            return self._rng.random() < probability

    # -- starting runs ----------------------------------------------------------------------
    def start(
        self,
        workflow: SimWorkflow,
        run_input: dict[str, Any],
        *,
        idempotency_key: str | None,
        retry_of: str | None = None,
    ) -> ExecutionRecord:
        """Start a run. Every call is a new run, as in Tray: no header deduplicates it (the
        ``Idempotency-Key`` value is only recorded). Only a workflow's own processed-ids check
        (``processed_ids_check``) ends a repeated run early, as one of its steps."""
        with self._lock:
            record = ExecutionRecord(
                id=f"exec-{uuid.uuid4().hex[:16]}",
                workflow_id=workflow.workflow_id,
                workflow_name=workflow.tool.name,
                input=run_input,
                created_at=utc_now(),
                retry_of=retry_of,
                idempotency_key=idempotency_key,
            )
            self._insert(record)
            if not workflow.enabled:
                self._finish_disabled(record)
                return record
            script = workflow.script
            # Decided now, under the lock, so a seeded simulator replays the same outcomes.
            fails = script.outcome == "fail" or (
                script.failure_rate > 0 and self._rng.random() < script.failure_rate
            )
        planned = sum(step.seconds for step in script.resolved_steps()) * self.time_factor
        if planned <= 0:
            self._run(record, workflow, script, fails)
        else:
            thread = threading.Thread(target=self._run, args=(record, workflow, script, fails), daemon=True)
            self._threads.append(thread)
            thread.start()
        return record

    def _insert(self, record: ExecutionRecord) -> None:
        bisect.insort(self._ordered, (record.sort_key, record), key=lambda item: item[0])
        self._executions[record.id] = record

    def _finish_disabled(self, record: ExecutionRecord) -> None:
        record.status = "failed"
        record.error = {
            "code": "WORKFLOW_DISABLED",
            "message": f"workflow {record.workflow_name} ({record.workflow_id}) is not enabled",
            "step": None,
            "connector": None,
        }
        record.finished_at = record.created_at
        record.done.set()
        self._failed(record)

    # -- running ----------------------------------------------------------------------------
    def _plan(self, workflow: SimWorkflow, steps: list[StepScript]) -> list[tuple[StepScript, int | None]]:
        """The steps to run with their index in the script; the processed-ids check (no index)
        goes right after the trigger step."""
        plan: list[tuple[StepScript, int | None]] = [(step, index) for index, step in enumerate(steps)]
        if workflow.processed_ids_check is not None:
            at = 1 if steps and steps[0].connector == "webhook" else 0
            plan.insert(at, (PROCESSED_IDS_STEP, None))
        return plan

    def _run(
        self, record: ExecutionRecord, workflow: SimWorkflow, script: WorkflowScript, fails: bool
    ) -> None:
        steps = script.resolved_steps()
        work_index = next((i for i, step in enumerate(steps) if step.connector != "webhook"), None)
        data_bytes = len(json.dumps(record.input))
        claim: tuple[str, str] | None = None
        loop_results: list[dict[str, Any]] | None = None  # a bulk run's per-record results
        try:
            for step, index in self._plan(workflow, steps):
                step_record = StepRecord(name=step.name, connector=step.connector, started_at=utc_now())
                with self._lock:
                    record.steps.append(step_record)
                step_record.logs.append(f"{step.name} started ({step.connector}), input {data_bytes} bytes")
                if index is None:
                    claim, earlier = self._check_processed(record, workflow, step_record)
                    if earlier is not None:
                        self._end_as_duplicate(record, step_record, earlier)
                        return
                else:
                    if index == work_index:
                        self._check_authentications(step, workflow)
                    self._check_step(record, step, index, data_bytes, script, fails)
                    if step.connector == "loop" and script.loop is not None:
                        loop_results = run_loop(self, record, script.loop)
                    self._sleep(step.seconds)
                data_bytes = step.output_bytes or data_bytes
                step_record.logs.append(f"{step.name} finished")
                step_record.status = "succeeded"
                step_record.finished_at = utc_now()
        except WorkflowFailedError as failure:
            current = record.steps[-1]
            current.status = "failed"
            current.finished_at = utc_now()
            current.error = failure.error
            current.logs.append(f"{current.name} failed: {failure.error['code']}: {failure.error['message']}")
            with self._lock:
                record.status = "failed"
                record.error = failure.error
                record.finished_at = utc_now()
                # The workflow's error branch deletes its claim, so a retry of this run can proceed.
                if claim is not None and self._processed.get(claim) == record.id:
                    del self._processed[claim]
        else:
            with self._lock:
                record.status = "succeeded"
                record.output = dict(script.output) if script.output is not None else {"ok": True}
                if loop_results is not None:
                    record.output["records"] = loop_results
                record.finished_at = utc_now()
        finally:
            record.done.set()
        if record.status == "failed":
            self._failed(record)

    def _failed(self, record: ExecutionRecord) -> None:
        if self.on_failed is not None:
            self.on_failed(record)

    def _check_processed(
        self, record: ExecutionRecord, workflow: SimWorkflow, step_record: StepRecord
    ) -> tuple[tuple[str, str] | None, str | None]:
        """The Data Storage check: (the claim this run now holds, the earlier execution if the key
        was already processed). A key whose run is running or succeeded is processed; a failed
        run released its key. The claim is atomic (Data Storage's atomic increment, in Tray)."""
        check = workflow.processed_ids_check
        assert check is not None
        value = record.input.get(check.key_field)
        if value is None:
            step_record.logs.append(f"no {check.key_field} in the input: not checked")
            return None, None
        key = (workflow.workflow_id, value if isinstance(value, str) else json.dumps(value, sort_keys=True))
        with self._lock:
            earlier_id = self._processed.get(key)
            earlier = self._executions.get(earlier_id) if earlier_id else None
            if earlier is not None and earlier.id != record.id and earlier.status != "failed":
                step_record.logs.append(f"{check.key_field} already processed by execution {earlier.id}")
                return None, earlier.id
            self._processed[key] = record.id
        step_record.logs.append(f"{check.key_field} not processed before: recorded")
        return key, None

    def _end_as_duplicate(self, record: ExecutionRecord, step_record: StepRecord, earlier: str) -> None:
        step_record.logs.append(f"{step_record.name} finished: duplicate of execution {earlier}, run ends")
        step_record.status = "succeeded"
        step_record.finished_at = utc_now()
        with self._lock:
            record.duplicate_of = earlier
            record.status = "succeeded"
            record.output = {"status": "duplicate", "duplicate_of": earlier}
            record.finished_at = utc_now()

    def _check_authentications(self, step: StepScript, workflow: SimWorkflow) -> None:
        for auth_id in workflow.authentications:
            state = self._auth_state(auth_id)
            if state is not None and not state[1]:
                raise WorkflowFailedError(
                    {
                        "code": "AUTH_REFRESH_FAILED",
                        "message": "OAuth token refresh failed after 3 retries for authentication "
                        f"'{state[0]}'",
                        "step": step.name,
                        "connector": step.connector,
                        "details": {"authId": auth_id},
                    }
                )

    def _check_step(  # noqa: PLR0917 - private, called once
        self,
        record: ExecutionRecord,
        step: StepScript,
        index: int,
        data_bytes: int,
        script: WorkflowScript,
        fails: bool,
    ) -> None:
        def failure(code: str, message: str, **extra: Any) -> WorkflowFailedError:
            error = {"code": code, "message": message, "step": step.name, "connector": step.connector}
            error.update({k: v for k, v in extra.items() if v is not None})
            return WorkflowFailedError(error)

        if data_bytes > STEP_DATA_LIMIT_BYTES:
            raise failure(
                "PAYLOAD_TOO_LARGE",
                f"step data is {data_bytes} bytes; "
                f"at most {STEP_DATA_LIMIT_BYTES} (6 MB) may pass between steps",
                details={"sizeBytes": data_bytes, "limitBytes": STEP_DATA_LIMIT_BYTES},
            )
        outage = self.service_outages.get(step.connector)
        if outage is not None:
            raise failure(
                "SERVICE_UNAVAILABLE",
                f"{step.connector} returned HTTP {outage.status} Service Unavailable",
                serviceCode=f"HTTP_{outage.status}",
                retryAfter=outage.retry_after_s,
            )
        limit = timeout_for(step.connector)
        if step.seconds > limit:
            self._sleep(limit)
            raise failure("STEP_TIMEOUT", f"{step.connector} operation did not finish within {limit:g} s")
        if step.connector == "salesforce":
            for field_name, picklist in script.picklist_fields.items():
                value = record.input.get(field_name)
                valid = SALESFORCE_PICKLISTS.get(picklist, [])
                if value is not None and value not in valid:
                    sf_field = picklist.split(".")[-1]
                    raise failure(
                        "CONNECTOR_ERROR",
                        f"FIELD_CUSTOM_VALIDATION_EXCEPTION: {sf_field}: bad value for restricted "
                        f"picklist field: {value}",
                        serviceCode="FIELD_CUSTOM_VALIDATION_EXCEPTION",
                        details={"field": picklist, "value": value},
                    )
        if fails and index == min(script.fail_after_steps, len(script.resolved_steps()) - 1):
            raise failure(
                script.error_code,
                script.error_message,
                serviceCode=script.service_code,
                retryAfter=script.retry_after_s,
            )

    def _sleep(self, seconds: float) -> None:
        scaled = seconds * self.time_factor
        if scaled > 0:
            time.sleep(scaled)

    # -- listing ----------------------------------------------------------------------------
    def list_page(
        self,
        *,
        since: datetime,
        until: datetime | None,
        status: str | None,
        workflow_id: str | None,
        limit: int,
        cursor: tuple[str, str] | None,
    ) -> tuple[list[ExecutionRecord], tuple[str, str] | None]:
        start_key = max((iso(since) or "", ""), cursor or ("", ""))
        until_iso = iso(until)
        items: list[ExecutionRecord] = []
        with self._lock:
            position = bisect.bisect_right(self._ordered, start_key, key=lambda item: item[0])
            for key, record in self._ordered[position:]:
                if until_iso is not None and key[0] >= until_iso:
                    break
                if status and record.status != status:
                    continue
                if workflow_id and record.workflow_id != workflow_id:
                    continue
                if len(items) == limit:
                    return items, items[-1].sort_key
                items.append(record)
        return items, None

    def seed(self, executions: Iterable[Execution]) -> int:
        """Add finished historical executions without running them (monitor tests, benchmarks)."""
        count = 0
        with self._lock:
            for execution in executions:
                record = ExecutionRecord(
                    id=execution.id,
                    workflow_id=execution.workflow_id,
                    workflow_name=execution.workflow_name or execution.workflow_id,
                    input=execution.input,
                    created_at=execution.created_at,
                    status=execution.status,
                    output=execution.output,
                    error=_wire_error(execution),
                    steps=[
                        StepRecord(
                            name=step.name,
                            connector=step.connector or "script",
                            status=step.status,
                            started_at=step.started_at,
                            finished_at=step.finished_at,
                            logs=list(step.logs),
                            error=_wire_error_model(step.error),
                        )
                        for step in execution.steps
                    ],
                    finished_at=execution.finished_at,
                    retry_of=execution.retry_of,
                    idempotency_key=execution.idempotency_key,
                )
                record.done.set()
                self._insert(record)
                count += 1
        return count

    def join(self, timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))


def _wire_error(execution: Execution) -> dict[str, Any] | None:
    return _wire_error_model(execution.error)


def _wire_error_model(error: Any) -> dict[str, Any] | None:
    if error is None:
        return None
    wire: dict[str, Any] = {
        "code": error.code,
        "message": error.message,
        "step": error.step,
        "connector": error.connector,
    }
    if error.service_code:
        wire["serviceCode"] = error.service_code
    if error.retry_after_s is not None:
        wire["retryAfter"] = error.retry_after_s
    if error.details:
        wire["details"] = error.details
    return wire


def retry_after_header(seconds: float) -> str:
    """Retry-After in whole seconds (RFC 9110), never 0."""
    return str(max(1, math.ceil(seconds)))


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def days_ago(days: float) -> datetime:
    return utc_now() - timedelta(days=days)
