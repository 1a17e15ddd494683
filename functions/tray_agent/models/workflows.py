"""The workflows file: each Tray workflow the agent may run, described as a tool.

The same file drives the agent's tool registry and the local Tray simulator.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from tray_agent.errors import ConfigurationError
from tray_agent.models.base import Model


class TriggerMode(StrEnum):
    """How Tray answers a webhook trigger (seed 001)."""

    AUTO_RESPOND = "auto_respond"  # "Auto respond with HTTP 200": fire and forget
    AWAIT_RESPONSE = "await_response"  # "Await workflow and respond": synchronous, up to 5 min


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class WorkflowTrigger(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Absolute (https://….trayapp.io/…) or a path resolved against Settings.tray_webhook_base_url.
    webhook_url: str | None = None
    workflow_id: str | None = None
    mode: TriggerMode = TriggerMode.AUTO_RESPOND

    @model_validator(mode="after")
    def _needs_a_target(self) -> WorkflowTrigger:
        if not (self.webhook_url or self.workflow_id):
            raise ValueError("a trigger needs a webhook_url or a workflow_id")
        return self


DEFAULT_ATTEMPT_KEY_FIELD = "tray_agent_attempt_key"


class ProcessedIdsCheck(Model):
    """The workflow checks, as its first step, whether it already processed this attempt.

    Tray's webhook triggers do not deduplicate (seed 001 tells builders to track processed ids
    in Data Storage), so a workflow where a double run would hurt stores each ``key_field``
    value it has processed and ends a run whose key is already there. The agent puts the
    attempt's key into the payload under ``key_field``; a run that ends this way replies
    ``{"status": "duplicate", "duplicate_of": "<execution id>"}`` (``Execution.duplicate_of``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    key_field: str = Field(default=DEFAULT_ATTEMPT_KEY_FIELD, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class PicklistConstraint(Model):
    """An input field Tray writes into a restricted picklist (checked before every trigger).

    The valid values come from the Platform API (a connector's ``get_picklist_values``),
    cached with a TTL; a value outside them is mapped (learnt, or the closest valid value) or
    the run goes to a person, instead of being triggered just to fail.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    connector: str = "salesforce"
    field: str = Field(pattern=r"^[A-Za-z0-9_]+\.[A-Za-z0-9_]+$")  # "Object.Field"


class OffPeakWindow(Model):
    """A daily window in UTC ("22:00" to "06:00" wraps past midnight) when batches flush."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    end: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")

    def contains(self, moment: datetime) -> bool:
        now = (moment.astimezone(UTC) if moment.tzinfo else moment).time()
        start, end = time.fromisoformat(self.start), time.fromisoformat(self.end)
        if start <= end:
            return start <= now < end
        return now >= start or now < end  # wraps past midnight

    @property
    def start_hour_minute(self) -> tuple[int, int]:
        hour, minute = self.start.split(":")
        return int(hour), int(minute)


class BatchPolicy(Model):
    """Non-urgent runs of a workflow wait in the ledger and go to Tray as one run of its bulk form.

    A batch flushes when it holds ``max_items`` (the accept that fills it sends it), when its
    oldest item has waited ``max_wait_s``, or inside the ``off_peak`` window. An item whose input
    matches ``urgent_when`` (input field -> values, any match) never waits. Seed 001: chunks of
    200 records keep a step's data under Tray's 6 MB.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    bulk_workflow: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    records_field: str = Field(default="records", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    # Each record carries its work item's id under this field; the bulk run reports per record.
    record_id_field: str = Field(default="record_id", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    max_items: int = Field(default=200, ge=1, le=1000)
    max_wait_s: int = Field(default=900, ge=1)
    off_peak: OffPeakWindow | None = None
    urgent_when: dict[str, list[Any]] = Field(default_factory=dict)

    def urgent(self, run_input: dict[str, Any]) -> bool:
        return any(run_input.get(field) in values for field, values in self.urgent_when.items())


class WorkflowTool(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    description: str = Field(min_length=10)
    trigger: WorkflowTrigger
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    risk: RiskLevel = RiskLevel.LOW
    requires_approval: bool = False
    # Opt-in: the workflow runs the Data Storage check of processed ids (see ProcessedIdsCheck).
    processed_ids_check: ProcessedIdsCheck | None = None
    # Known constraints of the input (input field -> picklist), checked before each trigger.
    picklists: dict[str, PicklistConstraint] = Field(default_factory=dict)
    # Tray bills a task credit per step run: what one run of this workflow usually costs (its
    # steps, the trigger included). Used to account credits spent and avoided per decision.
    task_credits: int = Field(default=1, ge=1)
    # Batching for non-urgent work (issue 9): how runs of this workflow wait for a bulk run.
    batch: BatchPolicy | None = None
    # Local simulator only: how runs of this workflow behave (ignored by the deployed agent).
    simulation: dict[str, Any] | None = None


class WorkflowsFile(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    workflows: list[WorkflowTool]

    @model_validator(mode="after")
    def _unique_names(self) -> WorkflowsFile:
        names = [w.name for w in self.workflows]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate workflow names: {duplicates}")
        for workflow in self.workflows:
            if workflow.batch is not None and workflow.batch.bulk_workflow not in names:
                bulk = workflow.batch.bulk_workflow
                raise ValueError(f"workflow {workflow.name!r}: bulk_workflow {bulk!r} is not in the file")
        return self

    def by_name(self) -> dict[str, WorkflowTool]:
        return {w.name: w for w in self.workflows}


def load_workflows_file(path: Path) -> WorkflowsFile:
    try:
        return WorkflowsFile.model_validate(json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot load workflows file {path}: {exc}") from exc
