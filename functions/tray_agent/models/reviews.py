"""Human review items: anything the agent will not do without a person's yes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from tray_agent.models.base import Model


class ReviewKind(StrEnum):
    DECISION = "decision"  # an agent decision held for approval (high risk, low confidence, bad data)
    PURCHASE_ORDER = "purchase_order"  # a parsed PO with discrepancies, paused in Step Functions
    RECOVERY = "recovery"  # a failed Tray execution the monitor could not classify


class ReviewStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ReviewItem(Model):
    review_id: str
    kind: ReviewKind
    status: ReviewStatus = ReviewStatus.PENDING
    created_at: datetime
    title: str
    reason: str
    findings: list[str] = Field(default_factory=list)
    # What would run on approval (a decision's calls, a PO, an execution to retry): editable on approve.
    payload: dict[str, Any] = Field(default_factory=dict)
    customer_id: str | None = None
    decision_id: str | None = None
    work_id: str | None = None  # the ledger item an approval moves on
    # Step Functions task token for a paused execution (kind purchase_order); never shown to reviewers.
    task_token: str | None = Field(default=None, exclude=True)
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution_note: str | None = None
    resolution_payload: dict[str, Any] | None = None


class ApproveRequest(Model):
    # A misspelt field must not be ignored (an unedited amount would run): 422 naming it.
    model_config = ConfigDict(extra="forbid")

    edited_payload: dict[str, Any] | None = Field(
        default=None, description="Replaces the item's payload before it runs (e.g. corrected PO lines)"
    )
    note: str | None = Field(default=None, max_length=2000)


class RejectRequest(Model):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)
