"""Compare the workflows file (the agent's tools) with the workflows Tray actually has.

Reports workflows Tray has that the file lacks, tools whose workflow is disabled or gone in
Tray, and tools whose name or trigger URL changed. Read-only: nothing is rewritten.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from tray_agent.models.workflows import WorkflowTool
from tray_agent.tray.endpoints import TrayEndpoints, resolve_webhook_url
from tray_agent.tray.models import WorkflowSummary


class ToolChange(BaseModel):
    tool: str
    field: str  # "name" or "trigger_url"
    in_file: str | None
    in_tray: str | None


class SyncReport(BaseModel):
    missing_from_file: list[WorkflowSummary] = Field(default_factory=list)
    disabled: list[str] = Field(default_factory=list)  # tools whose Tray workflow is disabled
    absent_in_tray: list[str] = Field(default_factory=list)  # tools Tray does not know
    changed: list[ToolChange] = Field(default_factory=list)
    in_sync: list[str] = Field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.missing_from_file or self.disabled or self.absent_in_tray or self.changed)


def compare(tools: list[WorkflowTool], remote: list[WorkflowSummary], endpoints: TrayEndpoints) -> SyncReport:
    by_id = {w.id: w for w in remote}
    by_name = {w.name: w for w in remote}
    report = SyncReport()
    matched: set[str] = set()
    for tool in sorted(tools, key=lambda t: t.name):
        workflow = by_id.get(tool.trigger.workflow_id or "") or by_name.get(tool.name)
        if workflow is None:
            report.absent_in_tray.append(tool.name)
            continue
        matched.add(workflow.id)
        before = len(report.changed) + len(report.disabled)
        if not workflow.enabled:
            report.disabled.append(tool.name)
        if workflow.name != tool.name:
            report.changed.append(
                ToolChange(tool=tool.name, field="name", in_file=tool.name, in_tray=workflow.name)
            )
        if tool.trigger.webhook_url and workflow.trigger_url:
            expected = resolve_webhook_url(tool.trigger.webhook_url, endpoints)
            if expected.rstrip("/") != workflow.trigger_url.rstrip("/"):
                report.changed.append(
                    ToolChange(
                        tool=tool.name, field="trigger_url", in_file=expected, in_tray=workflow.trigger_url
                    )
                )
        if len(report.changed) + len(report.disabled) == before:
            report.in_sync.append(tool.name)
    report.missing_from_file = sorted((w for w in remote if w.id not in matched), key=lambda w: w.name)
    return report
