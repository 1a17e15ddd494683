"""Decisions: what a brain chose to do with an event, and what came of it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class DecisionAction(StrEnum):
    TRIGGER = "trigger"  # run one workflow with the event's data
    TRANSFORM_AND_TRIGGER = "transform_and_trigger"  # reshape the data first, then run
    CHAIN = "chain"  # run several workflows in order
    REVIEW = "review"  # a person decides
    IGNORE = "ignore"  # duplicate, spam, irrelevant: recorded with a reason


class Outcome(StrEnum):
    TRIGGERED = "triggered"
    IN_REVIEW = "in_review"
    IGNORED = "ignored"
    FAILED = "failed"
    REJECTED = "rejected"


Brain = Literal["policy", "llm"]


class WorkflowCall(BaseModel):
    """One planned Tray workflow run."""

    model_config = ConfigDict(frozen=True)

    workflow: str
    input: dict[str, Any] = Field(default_factory=dict)


class Decision(BaseModel):
    """The one decision model both brains produce."""

    action: DecisionAction
    calls: list[WorkflowCall] = Field(default_factory=list)
    reason: str
    confidence: float = Field(default=1.0, ge=0, le=1)
    brain: Brain = "policy"
    rule: str | None = None  # the policy rule that matched, when the policy decided

    @property
    def first_workflow(self) -> str | None:
        return self.calls[0].workflow if self.calls else None


class ExecutionRef(BaseModel):
    workflow: str
    execution_id: str | None
    status_code: int


class DecisionRecord(BaseModel):
    """The audit record of one decision, as stored and as served by GET /decisions/{id}."""

    decision_id: str
    event_id: str
    event_type: str
    source: str
    customer_id: str | None = None
    created_at: datetime
    decision: Decision
    outcome: Outcome
    executions: list[ExecutionRef] = Field(default_factory=list)
    error: str | None = None

    @property
    def first_execution_id(self) -> str | None:
        return self.executions[0].execution_id if self.executions else None
