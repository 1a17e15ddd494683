"""Reading one window of executions: counts per workflow and service, and the failures' work items.

A list page carries each execution's error and step logs, so a success costs nothing beyond
its share of a page and a failure is classified without another request.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from tray_agent.domain.monitor.classify import classify, failure_of, is_server_error
from tray_agent.models.monitor import Checkpoint, FailureClass, ServiceCounts, WindowCounts, WorkItem
from tray_agent.tray import Execution

# Retries the monitor makes carry "monitor:<root>:<attempt>" (":c<n>" for one chunk of a split run).
MONITOR_KEY = re.compile(r"^monitor:(?P<root>[^:]+):(?P<attempt>\d+)(?::c(?P<chunk>\d+))?$")
# Runs the agent starts carry its attempt keys (domain/agent/work.py): "<work id>.a<n>.<call index>".
AGENT_KEY = re.compile(
    r"^(?P<event>(?:event|situation|recovery)-[0-9a-f]{32})\.a(?P<attempt>\d+)\.(?P<index>\d+)$"
)
# Steps that are Tray's own plumbing, not a service that can be in outage.
NOT_A_SERVICE = frozenset({"webhook", "script", "trigger", None})


def monitor_key(root_id: str, attempt: int, chunk: int | None = None) -> str:
    return f"monitor:{root_id}:{attempt}" + ("" if chunk is None else f":c{chunk}")


def chain_of(execution: Execution) -> tuple[str, int, str | None]:
    """(root id, retries already made, the agent event that caused the root run)."""
    key = execution.idempotency_key or ""
    match = MONITOR_KEY.match(key)
    if match:
        if match.group("chunk") is not None:
            # Each chunk of a split run is a chain of its own (its input is the chunk).
            return f"{match.group('root')}.c{match.group('chunk')}", 0, None
        return match.group("root"), int(match.group("attempt")), None
    agent = None if key.startswith("monitor") else AGENT_KEY.match(key)
    return execution.id, 0, agent.group("event") if agent else None


def backoff_due(
    item_failed_at: datetime,
    failure_class: FailureClass,
    attempt: int,
    *,
    base_s: float,
    retry_after_s: float | None,
) -> datetime:
    """When the next retry may run: the service's hint, else exponential backoff from the failure."""
    if failure_class is FailureClass.RATE_LIMITED:
        wait = retry_after_s if retry_after_s is not None else base_s
    elif failure_class is FailureClass.TRANSIENT:
        # The first retry at once (resolved within seconds), then 1x, 2x, 4x the base.
        wait = max(base_s * (2 ** (attempt - 1)) if attempt else 0.0, retry_after_s or 0.0)
    else:
        wait = 0.0
    return item_failed_at + timedelta(seconds=wait)


def count_page(
    checkpoint: Checkpoint, executions: list[Execution], *, backoff_base_s: float
) -> tuple[list[WorkItem], list[tuple[str, str]]]:
    """Add a page to the window's counts; return the failures' work items and the running runs."""
    work: list[WorkItem] = []
    running: list[tuple[str, str]] = []
    for execution in executions:
        if execution.status == "running":
            running.append((execution.id, execution.workflow_id))
            continue
        item = count_finished(checkpoint, execution, backoff_base_s=backoff_base_s)
        if item is not None:
            work.append(item)
    return work, running


def count_finished(checkpoint: Checkpoint, execution: Execution, *, backoff_base_s: float) -> WorkItem | None:
    checkpoint.executions += 1
    counts = checkpoint.counts.get(execution.workflow_id)
    if counts is None:
        counts = checkpoint.counts[execution.workflow_id] = WindowCounts(
            workflow_name=execution.workflow_name or execution.workflow_id
        )
    counts.runs += 1
    _count_services(checkpoint, execution)
    if execution.status == "succeeded":
        if execution.retry_of:  # a failure fixed by its retry (ours, from a callback or a tick)
            counts.recovered += 1
        finished = execution.finished_at or execution.created_at
        if counts.last_success_at is None or finished > counts.last_success_at:
            counts.last_success_at = finished
        return None
    counts.failures += 1
    return work_item_for(execution, counts.workflow_name, backoff_base_s=backoff_base_s)


def work_item_for(execution: Execution, workflow_name: str, *, backoff_base_s: float) -> WorkItem:
    """The recovery queue's item for one failed execution (the tick's scan and the callback)."""
    classification = classify(execution)
    root_id, attempt, event = chain_of(execution)
    failed_at = execution.finished_at or execution.created_at
    return WorkItem(
        root_id=root_id,
        execution_id=execution.id,
        workflow_id=execution.workflow_id,
        workflow_name=workflow_name,
        attempt=attempt,
        classification=classification,
        failed_at=failed_at,
        due_at=backoff_due(
            failed_at,
            classification.failure_class,
            attempt,
            base_s=backoff_base_s,
            retry_after_s=classification.retry_after_s,
        ),
        caused_by_event=event,
    )


def _count_services(checkpoint: Checkpoint, execution: Execution) -> None:
    for step in execution.steps:
        if step.connector in NOT_A_SERVICE or step.status == "running":
            continue
        assert step.connector is not None
        service = checkpoint.services.get(step.connector)
        if service is None:
            service = checkpoint.services[step.connector] = ServiceCounts()
        service.calls += 1
        error = step.error or (failure_of(execution) if step.status == "failed" else None)
        if step.status == "failed" and error is not None and is_server_error(error):
            service.server_errors += 1
            name = execution.workflow_name or execution.workflow_id
            if name not in service.workflows:
                service.workflows.append(name)
