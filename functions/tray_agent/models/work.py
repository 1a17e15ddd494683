"""The work ledger's models: one record per accepted piece of work, its attempts, and incidents.

A work item is written *before* anything acts on it and moves through explicit states:

    received → decided → acting → done
                   ↘ in_review ↗      ↘ held (an incident) → acting …
                   ↘ ignored            ↘ failed (with its reason; re-runnable)
    in_review → rejected (a person said no)
    decided → batched (non-urgent: waits for a bulk run) → done | decided (retried alone)

``done``, ``ignored``, ``rejected`` and ``failed`` are terminal. ``held`` and ``in_review`` are
waiting for something outside the agent (a recovery, a person); everything else is mid-way and
owned by whoever holds the lease, or by the sweeper once the lease has expired.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from tray_agent.models.base import Model
from tray_agent.models.decisions import Decision, ExecutionRef, WorkflowCall


class WorkState(StrEnum):
    RECEIVED = "received"
    DECIDED = "decided"
    ACTING = "acting"
    DONE = "done"
    HELD = "held"
    IN_REVIEW = "in_review"
    IGNORED = "ignored"
    REJECTED = "rejected"
    FAILED = "failed"
    BATCHED = "batched"  # non-urgent: waits in the ledger for its workflow's bulk run (issue 9)


TERMINAL_STATES = frozenset({WorkState.DONE, WorkState.IGNORED, WorkState.REJECTED, WorkState.FAILED})
# Waiting for something outside the agent: a recovery (held) or a person (in_review).
WAITING_STATES = frozenset({WorkState.HELD, WorkState.IN_REVIEW, WorkState.BATCHED})
# Mid-way: the lease holder finishes them, or the sweeper once the lease has expired.
MOVING_STATES = frozenset({WorkState.RECEIVED, WorkState.DECIDED, WorkState.ACTING})


class AttemptStatus(StrEnum):
    SENDING = "sending"  # intent recorded; the Tray call may or may not have reached Tray
    SENT = "sent"  # every call of the attempt was accepted by Tray
    REFUSED = "refused"  # Tray said no (the next attempt gets a new key)
    UNKNOWN = "unknown"  # a timeout or a crash after sending: look for the run before sending again


class Attempt(Model):
    """One try at running the work's calls; its key is the Tray idempotency/attempt key."""

    number: int
    key: str  # ASCII, bounded: safe in headers, payloads and DynamoDB keys
    started_at: datetime
    status: AttemptStatus = AttemptStatus.SENDING
    error: str | None = None


class BatchMembership(Model):
    """Where a batched item is: queued for ``batch_key``'s bulk run, then in batch ``batch_id``."""

    batch_key: str  # the workflow whose batch policy queued it
    queued_at: datetime
    batch_id: str | None = None  # set when a flush took it (the batch record was written first)
    bulk_execution_id: str | None = None  # the bulk run that carried it
    record_status: str | None = None  # its record's result in the bulk run: succeeded | failed
    record_error: str | None = None
    retried_alone: bool = False  # its record failed: it runs alone, never batched again


class WorkKind(StrEnum):
    EVENT = "event"  # an inbound business event (POST /events)
    SITUATION = "situation"  # a decision the monitor asked the agent for
    RECOVERY = "recovery"  # a failed Tray execution the monitor holds until its cause is fixed
    FOLLOWUP = "followup"  # a later check the agent scheduled itself (domain/agent/followups.py)


class WorkItem(Model):
    """One accepted piece of work, as stored in the ledger and served by ``GET /work/{id}``."""

    work_id: str
    kind: WorkKind = WorkKind.EVENT
    origin_id: str  # the event id (any Unicode) or the situation id
    state: WorkState = WorkState.RECEIVED
    version: int = 0  # optimistic concurrency: every write is conditional on the version read
    created_at: datetime
    updated_at: datetime
    # Who owns a moving item until when; the sweeper takes over items whose lease has expired.
    lease_until: datetime | None = None
    event_type: str = ""
    source: str = ""
    customer_id: str | None = None
    decision_id: str | None = None
    decision: Decision | None = None  # raw (unmasked): what the brain decided
    review_id: str | None = None
    # The calls to run (raw, unmasked: the audit copy in the decisions table is masked).
    calls: list[WorkflowCall] = Field(default_factory=list)
    calls_done: int = 0  # a chain resumes after the calls that already ran
    executions: list[ExecutionRef] = Field(default_factory=list)
    attempts: list[Attempt] = Field(default_factory=list)
    reason: str | None = None  # why it is held, failed, ignored or in review
    incident_id: str | None = None  # the incident holding it
    approved_by: str | None = None
    # What the brain was given, redacted, for the audit record (kept so every audit write is whole).
    inputs: dict[str, Any] = Field(default_factory=dict)
    batch: BatchMembership | None = None  # non-urgent work waiting for (or carried by) a bulk run
    # The answer a sender gets for this work (the same for every redelivery).
    answer: dict[str, Any] | None = None

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def current_attempt(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    def summary(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"calls", "answer", "inputs", "decision"})


def work_id_for(kind: WorkKind, origin_id: str) -> str:
    """A bounded ASCII id for any origin id (event ids may be any Unicode, of any length)."""
    digest = hashlib.sha256(origin_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{kind.value}-{digest}"


class IncidentKind(StrEnum):
    AUTH = "auth"  # Tray (or a connector's) authentication failed
    WORKFLOW = "workflow"  # the workflow is disabled
    SERVICE = "service"  # Tray is failing or rate limiting longer than a request can wait


class Incident(Model):
    """Why held work cannot run, until recovery is observed. One escalation per incident."""

    incident_id: str
    key: str  # "auth:tray", "workflow:lead_enrichment", "service:tray": at most one open per key
    kind: IncidentKind
    reason: str
    opened_at: datetime
    escalated_at: datetime | None = None
    closed_at: datetime | None = None
    next_probe_at: datetime
    workflow_id: str | None = None  # a disabled workflow's Tray id: probed through GraphQL
    probes: int = 0
    held_items: int = 0  # held while it was open
    drained_items: int = 0  # run after it closed

    @property
    def open(self) -> bool:
        return self.closed_at is None
