"""Inbound business events and the API's answer to them."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tray_agent.models.decisions import DecisionAction


class InboundEvent(BaseModel):
    """A business event from a machine sender (CRM, shop, helpdesk, alerting, Tray callbacks)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=200, description="Sender's unique id; the idempotency key")
    type: str = Field(
        min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_.-]*$", description="e.g. lead.created"
    )
    source: str = Field(min_length=1, max_length=100, description="Sending system, e.g. hubspot")
    occurred_at: AwareDatetime = Field(description="When it happened, ISO 8601 with a timezone")
    customer_id: str | None = Field(default=None, max_length=200)
    data: dict[str, Any] = Field(default_factory=dict, description="The event's payload")


class EventAccepted(BaseModel):
    """202 answer: what the agent decided, and the Tray execution it started, if any."""

    decision_id: str
    action: DecisionAction
    workflow: str | None = None
    execution_id: str | None = None
    reason: str | None = None
    brain: str | None = None  # "policy" or "llm"
    review_id: str | None = None  # set when the decision waits for a person
    status: str | None = None  # the work's state: done, held, in_review, acting, ignored, failed …
    work_id: str | None = None  # GET /work/{work_id}: where the work is, its attempts and incident


class ErrorBody(BaseModel):
    error: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
