"""What Tray answers, as typed models (wire names in camelCase are accepted as aliases)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

ExecutionStatus = Literal["running", "succeeded", "failed"]


class _TrayModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class ExecutionError(_TrayModel):
    """Why an execution (or one of its steps) failed."""

    code: str  # one of tray_agent.tray.errors' codes, e.g. "CONNECTOR_ERROR"
    message: str
    step: str | None = None
    connector: str | None = None  # the service behind the failing step, e.g. "salesforce"
    # The target system's own code when it gave one, e.g. "FIELD_CUSTOM_VALIDATION_EXCEPTION".
    service_code: str | None = Field(
        default=None, validation_alias=AliasChoices("service_code", "serviceCode")
    )
    retry_after_s: float | None = Field(
        default=None, validation_alias=AliasChoices("retry_after_s", "retryAfter")
    )
    details: dict[str, Any] = Field(default_factory=dict)


class ExecutionStep(_TrayModel):
    name: str
    connector: str | None = None
    status: ExecutionStatus
    started_at: datetime | None = Field(
        default=None, validation_alias=AliasChoices("started_at", "startedAt")
    )
    finished_at: datetime | None = Field(
        default=None, validation_alias=AliasChoices("finished_at", "finishedAt")
    )
    logs: list[str] = Field(default_factory=list)
    error: ExecutionError | None = None


class Execution(_TrayModel):
    id: str
    workflow_id: str = Field(validation_alias=AliasChoices("workflow_id", "workflowId"))
    workflow_name: str | None = Field(
        default=None, validation_alias=AliasChoices("workflow_name", "workflowName")
    )
    status: ExecutionStatus
    input: dict[str, Any] = Field(default_factory=dict)
    output: dict[str, Any] | None = None
    error: ExecutionError | None = None
    steps: list[ExecutionStep] = Field(default_factory=list)
    created_at: datetime = Field(validation_alias=AliasChoices("created_at", "createdAt"))
    finished_at: datetime | None = Field(
        default=None, validation_alias=AliasChoices("finished_at", "finishedAt")
    )
    retry_of: str | None = Field(default=None, validation_alias=AliasChoices("retry_of", "retryOf"))
    idempotency_key: str | None = Field(
        default=None, validation_alias=AliasChoices("idempotency_key", "idempotencyKey")
    )

    @property
    def finished(self) -> bool:
        return self.status != "running"

    @property
    def duplicate_of(self) -> str | None:
        """The earlier execution this run duplicated, when the workflow's processed-ids check
        ended it early (its reply is ``{"status": "duplicate", "duplicate_of": "<id>"}``)."""
        output = self.output or {}
        earlier = output.get("duplicate_of")
        return str(earlier) if output.get("status") == "duplicate" and earlier else None

    def raise_for_status(self, operation: str = "workflows.execution") -> Execution:
        """Raise the named TrayError for a failed run (Step Functions can match its class name)."""
        if self.status != "failed":
            return self
        from tray_agent.tray.errors import ERROR_CLASS_BY_CODE, TrayConnectorError, TrayRateLimitedError

        error = self.error or ExecutionError(code="CONNECTOR_ERROR", message="the execution failed")
        cls = ERROR_CLASS_BY_CODE.get(error.code, TrayConnectorError)
        details: dict[str, object] = {"step": error.step, "connector": error.connector}
        if error.service_code:
            details["serviceCode"] = error.service_code
        message = f"execution {self.id} of {self.workflow_name or self.workflow_id} failed: {error.message}"
        if cls is TrayRateLimitedError:
            raise TrayRateLimitedError(
                message,
                retry_after_s=error.retry_after_s,
                operation=operation,
                code=error.code,
                execution_id=self.id,
                details=details,
            )
        raise cls(message, operation=operation, code=error.code, execution_id=self.id, details=details)


class ExecutionPage(_TrayModel):
    """One page of ``list_executions``; ``next_cursor`` is None on the last page."""

    items: list[Execution]
    next_cursor: str | None = None


class TriggerResult(_TrayModel):
    """A webhook trigger's answer.

    In "auto respond" mode ``response`` is Tray's acknowledgement; in "await workflow and
    respond" mode it is the workflow's reply body.
    """

    execution_id: str | None = None
    status_code: int
    response: dict[str, Any] | None = None


class WorkflowSummary(_TrayModel):
    id: str
    name: str
    enabled: bool
    trigger_url: str | None = Field(default=None, validation_alias=AliasChoices("trigger_url", "triggerUrl"))


class ConnectorVersionRef(_TrayModel):
    version: str
    is_latest: bool = Field(default=False, validation_alias=AliasChoices("is_latest", "isLatest"))


class Connector(_TrayModel):
    name: str
    title: str | None = None
    description: str | None = None
    versions: list[ConnectorVersionRef] = Field(default_factory=list)


class ConnectorOperation(_TrayModel):
    name: str
    title: str | None = None
    description: str | None = None
    input_schema: dict[str, Any] = Field(
        default_factory=dict, validation_alias=AliasChoices("input_schema", "inputSchema")
    )
    output_schema: dict[str, Any] = Field(
        default_factory=dict, validation_alias=AliasChoices("output_schema", "outputSchema")
    )


class ConnectorVersion(_TrayModel):
    name: str
    version: str
    title: str | None = None
    operations: list[ConnectorOperation] = Field(default_factory=list)


class Authentication(_TrayModel):
    id: str
    name: str | None = None
    service_environment_id: str | None = Field(
        default=None, validation_alias=AliasChoices("service_environment_id", "serviceEnvironmentId")
    )
    scopes: list[str] = Field(default_factory=list)
    created_at: datetime | None = Field(
        default=None, validation_alias=AliasChoices("created_at", "createdAt")
    )


class Trigger(_TrayModel):
    name: str
    title: str | None = None
    description: str | None = None
    connector_name: str | None = Field(
        default=None, validation_alias=AliasChoices("connector_name", "connectorName")
    )
    input_schema: dict[str, Any] = Field(
        default_factory=dict, validation_alias=AliasChoices("input_schema", "inputSchema")
    )


class Subscription(_TrayModel):
    id: str
    trigger_name: str | None = Field(
        default=None, validation_alias=AliasChoices("trigger_name", "triggerName")
    )
    connector_name: str | None = Field(
        default=None, validation_alias=AliasChoices("connector_name", "connectorName")
    )
    status: str | None = None
    created_at: datetime | None = Field(
        default=None, validation_alias=AliasChoices("created_at", "createdAt")
    )
