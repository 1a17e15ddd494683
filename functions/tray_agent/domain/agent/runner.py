"""Acting through Tray: run a planned workflow call, validated, with an idempotency key."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

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
        if call.retry_of:
            return self._retry(call, idempotency_key=idempotency_key)
        tool = self._registry.get(call.workflow)
        payload = self._with_attempt_key(
            tool, self._registry.validate_input(call.workflow, call.input), idempotency_key
        )
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

    def task_credits(self, workflow: str | None) -> int:
        """What one run of ``workflow`` usually costs in Tray task credits (0 when unknown)."""
        if workflow is None or workflow not in self._registry:
            return 0
        return self._registry.get(workflow).task_credits

    @property
    def registry(self) -> ToolRegistry:
        return self._registry

    def workflow_id(self, workflow: str) -> str | None:
        """Tray's id of a registered workflow (for probes), None when unknown."""
        return self._registry.get(workflow).trigger.workflow_id if workflow in self._registry else None

    @staticmethod
    def _with_attempt_key(tool: Any, payload: dict[str, Any], key: str) -> dict[str, Any]:
        """Workflows that check processed ids (Tray Data Storage) get the attempt key in the payload."""
        check = getattr(tool, "processed_ids_check", None)
        if check is None:
            return payload
        return {**payload, check.key_field: key}

    def find(self, call: WorkflowCall, *, attempt_key: str, since: datetime) -> ExecutionRef | None:
        """The run an attempt started, if Tray has it (only workflows whose payload carries the key)."""
        if call.retry_of or call.workflow not in self._registry:
            return None
        tool = self._registry.get(call.workflow)
        check = getattr(tool, "processed_ids_check", None)
        finder = getattr(self._tray.workflows, "find_execution_by_key", None)
        if check is None or finder is None or not tool.trigger.workflow_id:
            return None
        found = finder(tool.trigger.workflow_id, key_field=check.key_field, key=attempt_key, since=since)
        if found is None:
            return None
        return ExecutionRef(workflow=tool.name, execution_id=found.id, status_code=200)

    def _retry(self, call: WorkflowCall, *, idempotency_key: str) -> ExecutionRef:
        assert call.retry_of is not None
        # Only registered workflows are retried (guardrails send the rest to a person first).
        self._registry.get(call.workflow)
        modified = None
        if call.input:
            modified = self._registry.validate_input(call.workflow, call.input)
        execution = self._tray.workflows.retry_execution(
            call.retry_of, modified_input=modified, idempotency_key=idempotency_key
        )
        logger.info(
            "execution retried", workflow=call.workflow, retry_of=call.retry_of, execution_id=execution.id
        )
        return ExecutionRef(workflow=call.workflow, execution_id=execution.id, status_code=200)
