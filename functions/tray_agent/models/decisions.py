"""Decisions: what a brain chose to do with an event, and what came of it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict, Field

from tray_agent.models.base import Model
from tray_agent.models.followups import FollowUpPlan


class DecisionAction(StrEnum):
    TRIGGER = "trigger"  # run one workflow with the event's data
    TRANSFORM_AND_TRIGGER = "transform_and_trigger"  # reshape the data first, then run
    CHAIN = "chain"  # run several workflows in order
    RETRY = "retry"  # retry a failed Tray execution, optionally with modified input
    REVIEW = "review"  # a person decides
    IGNORE = "ignore"  # duplicate, spam, irrelevant: recorded with a reason


ACTING_ACTIONS = frozenset(
    {DecisionAction.TRIGGER, DecisionAction.TRANSFORM_AND_TRIGGER, DecisionAction.CHAIN, DecisionAction.RETRY}
)


class Outcome(StrEnum):
    PENDING = "pending"  # decided, its work not finished yet (the ledger says where it is)
    TRIGGERED = "triggered"
    HELD = "held"  # cannot run now (an incident): runs when Tray recovers
    IN_REVIEW = "in_review"
    IGNORED = "ignored"
    FAILED = "failed"
    REJECTED = "rejected"


Brain = Literal["policy", "llm"]


class WorkflowCall(Model):
    """One planned Tray workflow run (or, with ``retry_of``, a retry of a failed execution)."""

    model_config = ConfigDict(frozen=True)

    workflow: str
    input: dict[str, Any] = Field(default_factory=dict)
    retry_of: str | None = None  # execution id to retry; ``input`` then is the modified input (or {})


class Usage(Model):
    """What the model cost for one decision."""

    model: str = ""
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0  # part of prompt_tokens, billed lower
    reasoning_tokens: int = 0  # part of completion_tokens (hidden reasoning)
    # None: the model's price is unknown (tokens are still recorded); never a made-up 0.
    estimated_cost_usd: float | None = None
    prices_taken_on: str | None = None  # the date of the prices used ("configured": the settings')

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ToolCallRecord(Model):
    """One tool call the model made during its reasoning, and what it got back."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    ok: bool
    result: str  # truncated text the model saw


class InputFix(Model):
    """A value changed before the trigger, because the run would have failed on it."""

    workflow: str
    field: str
    before: str
    after: str
    source: str  # "monitor" / "reviewer" (learnt earlier), "picklist" (checked against Tray)


class Credits(Model):
    """Tray task credits of one decision: its runs' usual cost, and what it avoided.

    Estimates from each workflow's ``task_credits`` (its steps): ``avoided`` counts the runs
    not started (spam, duplicates, batched into one bulk run) and the failing runs not started
    (fixed before the trigger). The simulator's bill is the ground truth the benchmark uses.
    """

    spent: int = 0
    avoided: int = 0
    avoided_because: str | None = None


class Decision(Model):
    """The one decision model both brains produce."""

    action: DecisionAction
    calls: list[WorkflowCall] = Field(default_factory=list)
    reason: str
    confidence: float = Field(default=1.0, ge=0, le=1)
    brain: Brain = "policy"
    rule: str | None = None  # the policy rule that matched, when the policy decided
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)  # the LLM's reasoning trail
    usage: Usage | None = None  # tokens and cost, when a model was asked
    fallback_reason: str | None = None  # why the policy decided although a model is configured
    # Later checks to schedule once the calls went through (domain/agent/followups.py).
    follow_ups: list[FollowUpPlan] = Field(default_factory=list)
    fixes: list[InputFix] = Field(default_factory=list)  # what was fixed before the trigger
    credits: Credits | None = None

    @property
    def first_workflow(self) -> str | None:
        return self.calls[0].workflow if self.calls else None


class FinalDecision(Model):
    """The structured answer the LLM brain must end with."""

    model_config = ConfigDict(extra="ignore")

    action: Literal["trigger", "retry", "review", "ignore"]
    workflow: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    reason: str = Field(min_length=1, max_length=4000)
    confidence: float = Field(ge=0, le=1)
    retry_execution_id: str | None = None


class ExecutionRef(Model):
    workflow: str
    execution_id: str | None
    status_code: int


class DecisionRecord(Model):
    """The audit record of one decision, as stored and as served by GET /decisions/{id}."""

    decision_id: str
    work_id: str | None = None  # the ledger item (GET /work/{id}) that carries the decision out
    event_id: str
    event_type: str
    source: str
    customer_id: str | None = None
    created_at: datetime
    # What the brain was given: the event's (redacted) data and the customer context summary.
    inputs: dict[str, Any] = Field(default_factory=dict)
    decision: Decision
    outcome: Outcome
    executions: list[ExecutionRef] = Field(default_factory=list)
    error: str | None = None
    guardrail: str | None = None  # why the decision was held for review instead of executing
    review_id: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None

    @property
    def first_execution_id(self) -> str | None:
        return self.executions[0].execution_id if self.executions else None
