"""Acting through Tray: run a planned workflow call, validated, with an idempotency key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tray_agent.domain.agent.registry import ToolRegistry
from tray_agent.models.decisions import ExecutionRef, WorkflowCall
from tray_agent.observability import logger

if TYPE_CHECKING:
    from tray_agent.tray import TrayClients


class WorkflowRunner:
    def __init__(self, registry: ToolRegistry, tray: TrayClients) -> None:
        self._registry = registry
        self._tray = tray

    def run(self, call: WorkflowCall, *, idempotency_key: str) -> ExecutionRef:
        """Validate the input against the workflow's schema, then trigger it once.

        The idempotency key makes a repeated trigger (a retry after a timeout, a duplicate
        event) return the first execution instead of starting a second one.
        """
        tool = self._registry.get(call.workflow)
        payload = self._registry.validate_input(call.workflow, call.input)
        if tool.trigger.webhook_url:
            result = self._tray.webhooks.trigger(
                tool.trigger.webhook_url, payload, idempotency_key=idempotency_key, mode=tool.trigger.mode
            )
            ref = ExecutionRef(
                workflow=tool.name, execution_id=result.execution_id, status_code=result.status_code
            )
        else:
            assert tool.trigger.workflow_id is not None  # guaranteed by WorkflowTrigger's validator
            execution = self._tray.workflows.execute(
                tool.trigger.workflow_id, payload, idempotency_key=idempotency_key
            )
            ref = ExecutionRef(workflow=tool.name, execution_id=execution.id, status_code=200)
        logger.info("workflow triggered", workflow=tool.name, execution_id=ref.execution_id)
        return ref
