"""Failure callbacks: what Tray's alerting workflow posts, and what the agent answers.

Apart from the monitor's models so that the API's cold start does not load them for a route.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from tray_agent.models.base import Model


class FailingStep(Model):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=256)
    connector: str | None = Field(default=None, max_length=128)  # the service behind it ("salesforce")


class CallbackError(Model):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=128)  # Tray's error code ("CONNECTOR_ERROR", "HTTP_429")
    message: str = Field(max_length=8192)
    service_code: str | None = Field(default=None, max_length=128)  # the service's own code ("HTTP_503")
    retry_after_s: float | None = Field(default=None, ge=0, le=86400)  # a rate limit's hint


class TrayFailureCallback(Model):
    """What Tray's alerting workflow posts for one failed execution (``POST /callbacks/tray-failure``).

    Tray's alerting trigger hands the alerting workflow the failed workflow, the execution and
    the failing step with its error; its HTTP step posts these fields, signed.
    """

    model_config = ConfigDict(extra="forbid")

    workflow_id: str = Field(min_length=1, max_length=256)
    workflow_name: str | None = Field(default=None, max_length=256)
    execution_id: str = Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9_.:-]+$")
    failed_at: datetime | None = None
    step: FailingStep | None = None
    error: CallbackError


class CallbackAnswer(Model):
    """What the callback did with the failure (202), also the answer a repeated callback gets."""

    execution_id: str
    root_id: str | None = None
    workflow: str | None = None
    failure_class: str | None = None  # models/monitor.py FailureClass
    reason: str | None = None
    # A recovery action (retried, chunked, held, review, deferred …), "already_handled" (the tick
    # or an earlier callback has it), or "not_failed" (Tray's record says the run did not fail).
    action: str
    detail: str = ""
    handled_by: str = "callback"  # "callback" or "tick"
    decision_id: str | None = None
    new_execution_ids: list[str] = Field(default_factory=list)
    due_at: datetime | None = None  # deferred or held: when the tick's queue runs it
