"""The execution monitor's models: failure classes, work items, workflow health, a tick's report."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from tray_agent.models.base import Model


class FailureClass(StrEnum):
    """What kind of failure a failed Tray execution is (issue 6's recovery table)."""

    RATE_LIMITED = "rate_limited"  # HTTP 429: wait for the hint, then retry
    TRANSIENT = "transient"  # 5xx, STEP_TIMEOUT, connection reset: retry with backoff
    DATA_MISMATCH = "data_mismatch"  # Salesforce picklist: map the value, retry with modified input
    PAYLOAD_TOO_LARGE = "payload_too_large"  # split into chunks of 200 records, run each
    AUTH = "auth"  # AUTH_REFRESH_FAILED, 401: never retried, escalated once
    DISABLED = "disabled"  # WORKFLOW_DISABLED: never retried, escalated once
    OUTAGE = "outage"  # a service failing across workflows: circuit open, retries held
    UNKNOWN = "unknown"  # the agent decides, else a person


class Classification(Model):
    model_config = ConfigDict(frozen=True)

    failure_class: FailureClass
    reason: str
    service: str | None = None  # the connector behind the failure ("salesforce", "netsuite")
    code: str | None = None
    retry_after_s: float | None = None
    # Data mismatch: the target system's field ("Account.Industry") and the rejected value.
    field: str | None = None
    value: str | None = None
    auth_name: str | None = None  # auth failures: the authentication that needs re-connecting


class RecoveryAction(StrEnum):
    RETRIED = "retried"
    RETRIED_MODIFIED = "retried_modified"
    CHUNKED = "chunked"
    DEFERRED = "deferred"  # due later (backoff, rate-limit hint, per-workflow cap)
    HELD = "held"  # the service's circuit is open
    PROBED = "probed"  # retried as the open circuit's probe
    ESCALATED = "escalated"
    REVIEW = "review"
    SKIPPED = "skipped"  # already escalated / nothing to do
    FAILED = "failed"  # the recovery call itself failed; stays queued


class WorkItem(Model):
    """One failed execution chain waiting for recovery, keyed by its root execution.

    Stored until recovered (the queue nothing is lost from): a retry that fails again shows up
    in a later tick and replaces ``execution_id`` with the new failure, ``attempt`` + 1.
    """

    root_id: str  # the first failed execution of the chain
    execution_id: str  # the latest failed execution (what a retry retries)
    workflow_id: str
    workflow_name: str
    attempt: int = 0  # retries the monitor already made for this chain
    classification: Classification
    failed_at: datetime
    due_at: datetime
    caused_by_event: str | None = None  # the agent's event when the agent triggered the root run
    errors: int = 0  # recovery calls Tray refused (not failed runs): past the cap, a person decides


class ServiceCounts(Model):
    calls: int = 0  # steps that reached the service (succeeded or failed)
    server_errors: int = 0  # 5xx-like failures from it
    workflows: list[str] = Field(default_factory=list)


class WindowCounts(Model):
    """What one tick's scan counted for a workflow."""

    workflow_name: str
    runs: int = 0
    failures: int = 0
    recovered: int = 0  # failed runs fixed by a successful retry
    escalated: int = 0  # failed runs held behind an incident that is escalated on its own
    last_success_at: datetime | None = None


class Checkpoint(Model):
    """The scan's position: the window being read, Tray's page cursor and what was counted so far.

    Written once per page, after the page's work items: a tick that dies re-reads at most one
    page and counts nothing twice.
    """

    since: datetime
    until: datetime
    page_cursor: str | None = None
    scanned: bool = False  # the window is fully read and its counts committed
    pages: int = 0
    executions: int = 0
    counts: dict[str, WindowCounts] = Field(default_factory=dict)  # by workflow id
    services: dict[str, ServiceCounts] = Field(default_factory=dict)


class WorkflowHealth(Model):
    """A workflow's failure rates for the dashboard and the daily summary."""

    workflow_id: str
    workflow_name: str
    # Tick buckets: [window end (epoch ms), runs, failures], the last 24 hours.
    buckets: list[tuple[int, int, int]] = Field(default_factory=list)
    # [window end (epoch ms), failures fixed by a retry, failures escalated as an incident]
    recovered_buckets: list[tuple[int, int]] = Field(default_factory=list)
    escalated_buckets: list[tuple[int, int]] = Field(default_factory=list)
    hour_recovered: int = 0
    hour_escalated: int = 0
    day_recovered: int = 0
    tick_runs: int = 0
    tick_failures: int = 0
    hour_runs: int = 0
    hour_failures: int = 0
    day_runs: int = 0
    day_failures: int = 0
    last_success_at: datetime | None = None
    threshold: float = 0.1
    alert_open: bool = False
    incident_id: str | None = None
    incident_opened_at: datetime | None = None
    # While an alert is open: since when the rate has been below the threshold, with enough runs.
    below_since: datetime | None = None
    updated_at: datetime | None = None

    @staticmethod
    def _rate(failures: int, runs: int) -> float:
        return round(failures / runs, 4) if runs else 0.0

    @property
    def tick_rate(self) -> float:
        return self._rate(self.tick_failures, self.tick_runs)

    @property
    def hour_rate(self) -> float:
        return self._rate(self.hour_failures, self.hour_runs)

    @property
    def paging_rate(self) -> float:
        """The hour's rate of failures nobody has fixed or escalated yet: those are counted, not paged."""
        unhandled = self.hour_failures - self.hour_recovered - self.hour_escalated
        return self._rate(max(0, unhandled), self.hour_runs)

    @property
    def day_rate(self) -> float:
        return self._rate(self.day_failures, self.day_runs)

    def summary(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow_name,
            "tick": {"runs": self.tick_runs, "failures": self.tick_failures, "rate": self.tick_rate},
            "hour": {
                "runs": self.hour_runs,
                "failures": self.hour_failures,
                "recovered": self.hour_recovered,
                "rate": self.hour_rate,
                "unrecovered_rate": self.paging_rate,
            },
            "day": {
                "runs": self.day_runs,
                "failures": self.day_failures,
                "recovered": self.day_recovered,
                "rate": self.day_rate,
            },
            "last_success_at": self.last_success_at.isoformat() if self.last_success_at else None,
            "threshold": self.threshold,
            "alert_open": self.alert_open,
        }


class Circuit(Model):
    service: str
    opened_at: datetime
    reason: str
    probes: int = 0


class AlertKind(StrEnum):
    RAISED = "raised"
    CLEARED = "cleared"
    ESCALATION = "escalation"
    CIRCUIT_OPENED = "circuit_opened"
    CIRCUIT_CLOSED = "circuit_closed"


class Alert(Model):
    kind: AlertKind
    key: str  # the incident: one alert per key and kind
    severity: str  # the ops_alert_notification enum: info, warning, critical
    title: str
    details: dict[str, Any] = Field(default_factory=dict)


class Recovery(Model):
    """What the monitor did with one failed execution (also recorded as a decision)."""

    execution_id: str
    root_id: str
    workflow_name: str
    failure_class: FailureClass
    action: RecoveryAction
    detail: str
    decision_id: str | None = None
    new_execution_ids: list[str] = Field(default_factory=list)


class TickReport(Model):
    status: str = "completed"  # or "skipped" when another tick holds the lease
    since: datetime | None = None
    until: datetime | None = None
    pages: int = 0
    executions: int = 0
    failures: int = 0
    health: list[WorkflowHealth] = Field(default_factory=list)
    alerts: list[Alert] = Field(default_factory=list)
    recoveries: list[Recovery] = Field(default_factory=list)
    queued: int = 0  # work items left for later ticks
    open_circuits: list[str] = Field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """What the handler returns and logs: counts, never payloads."""
        actions: dict[str, int] = {}
        for recovery in self.recoveries:
            actions[recovery.action.value] = actions.get(recovery.action.value, 0) + 1
        return {
            "status": self.status,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "pages": self.pages,
            "executions": self.executions,
            "failures": self.failures,
            "alerts": [f"{a.kind.value}:{a.key}" for a in self.alerts],
            "recoveries": actions,
            "queued": self.queued,
            "open_circuits": self.open_circuits,
        }
