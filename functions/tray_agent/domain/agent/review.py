"""Resolver for reviews of kind "decision": approval runs the held calls, exactly once.

Found by ``tray_agent.domain.reviews.build_review_service`` (``build_resolver(settings)``).
The review item's payload is ``{"calls": [{"workflow": ..., "input": {...}, "retry_of": ...}]}``;
a reviewer may approve it edited (the same shape, or ``{"input": {...}}`` for a single call).
The Tray idempotency keys (``review:<id>:<n>:<workflow>``) make a repeated run start nothing new.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from tray_agent.config import Settings
from tray_agent.data.decisions import DecisionsRepository
from tray_agent.domain.agent.registry import ToolRegistry
from tray_agent.domain.agent.runner import WorkflowRunner
from tray_agent.errors import InvalidInputError, TrayAgentError, UpstreamError
from tray_agent.models.decisions import ExecutionRef, Outcome, WorkflowCall
from tray_agent.models.reviews import ReviewItem
from tray_agent.observability import logger


class _HeldCalls(BaseModel):
    calls: list[WorkflowCall]


class DecisionReviewResolver:
    def __init__(
        self, registry: ToolRegistry, runner: WorkflowRunner, decisions: DecisionsRepository
    ) -> None:
        self._registry = registry
        self._runner = runner
        self._decisions = decisions

    def validate(self, item: ReviewItem, payload: dict[str, Any]) -> dict[str, Any]:
        if set(payload) == {"input"}:  # shortcut: edit the input of a single held call
            held = _HeldCalls.model_validate(item.payload).calls
            if len(held) != 1:
                raise InvalidInputError("an edited 'input' needs exactly one held call; send 'calls'")
            payload = {
                "calls": [held[0].model_copy(update={"input": payload["input"]}).model_dump(mode="json")]
            }
        try:
            calls = _HeldCalls.model_validate(payload).calls
        except ValidationError as exc:
            raise InvalidInputError(
                f"the approved payload must be {{'calls': [...]}}: {exc.errors()[0]['msg']}"
            ) from exc
        for call in calls:
            if not call.retry_of:
                self._registry.get(call.workflow)  # only registered workflows run
            if call.input and call.workflow in self._registry:
                self._registry.validate_input(call.workflow, call.input)
        return {"calls": [call.model_dump(mode="json") for call in calls]}

    def on_approve(self, item: ReviewItem, payload: dict[str, Any]) -> None:
        calls = _HeldCalls.model_validate(payload).calls
        executions: list[ExecutionRef] = []
        error: str | None = None
        try:
            for index, call in enumerate(calls):
                key = f"review:{item.review_id}:{index}:{call.workflow}"
                executions.append(self._runner.run(call, idempotency_key=key))
        except TrayAgentError as exc:
            error = exc.message
        outcome = Outcome.FAILED if error else (Outcome.TRIGGERED if calls else Outcome.IGNORED)
        self._update(item, outcome, executions, error)
        logger.info(
            "held decision run", review_id=item.review_id, runs=len(executions), failed=error is not None
        )
        if error:
            raise UpstreamError(f"approved, but Tray failed: {error}", details={"review_id": item.review_id})

    def on_reject(self, item: ReviewItem, reason: str) -> None:
        self._update(item, Outcome.REJECTED, [], None)

    def _update(
        self, item: ReviewItem, outcome: Outcome, executions: list[ExecutionRef], error: str | None
    ) -> None:
        if not item.decision_id:
            return
        record = self._decisions.get(item.decision_id)
        if record is None:
            return
        record.outcome = outcome
        record.executions = executions
        record.error = error
        record.resolved_at = item.resolved_at or datetime.now(UTC)
        record.resolved_by = item.resolved_by
        self._decisions.put(record)


def build_resolver(settings: Settings) -> DecisionReviewResolver:
    from tray_agent.domain.agent.service import build_decisions_repository
    from tray_agent.tray import get_tray_clients

    registry = ToolRegistry.from_file(settings.workflows_file)
    return DecisionReviewResolver(
        registry, WorkflowRunner(registry, get_tray_clients(settings)), build_decisions_repository(settings)
    )
