"""Dead letters: asynchronous work AWS could not run, and what a redrive did with each."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from tray_agent.models.base import Model


class DeadLetterQueue(StrEnum):
    # Lambda's on-failure destination: an invocation record (requestContext, requestPayload).
    FAILED_INVOCATIONS = "failed_invocations"
    # EventBridge's target DLQ: the original event, with RULE_ARN / TARGET_ARN / ERROR_CODE attributes.
    UNDELIVERED_EVENTS = "undelivered_events"


class DeadLetter(Model):
    queue: DeadLetterQueue
    message_id: str
    function: str | None = Field(description="The function the work was meant for")
    reason: str = Field(description="Why it failed, as Lambda or EventBridge recorded it")
    failed_at: datetime | None = None
    attempts: int | None = Field(default=None, description="Invocations or deliveries AWS tried")
    rule_arn: str | None = None
    times_received: int = Field(default=0, description="Reads of the message (listings count too)")
    payload: Any = Field(default=None, description="What a redrive re-submits, unchanged")
    problem: str | None = Field(default=None, description="Why this message cannot be redriven as it is")


class QueueListing(Model):
    queue: DeadLetterQueue
    waiting: int = Field(description="Messages in the queue (SQS's approximate count)")
    letters: list[DeadLetter]


class DeadLetterListing(Model):
    queues: list[QueueListing]


class RedriveRequest(Model):
    model_config = ConfigDict(extra="forbid")

    queue: DeadLetterQueue | None = Field(default=None, description="One queue; both when omitted")
    message_ids: list[str] | None = Field(
        default=None, min_length=1, max_length=100, description="Only these messages; all when omitted"
    )
    limit: int = Field(default=100, ge=1, le=500, description="At most this many messages read in one call")


class RedriveStatus(StrEnum):
    REDRIVEN = "redriven"  # re-submitted, accepted, and removed from its queue
    FAILED = "failed"  # left in its queue; ``reason`` says why


class RedriveResult(Model):
    queue: DeadLetterQueue | None = Field(description="None for a requested message that was not found")
    message_id: str
    function: str | None = None
    status: RedriveStatus
    reason: str | None = None


class RedriveReport(Model):
    redriven: int
    failed: int
    results: list[RedriveResult]
