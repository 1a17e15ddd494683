"""The RECOVERY review kind: a person approves (optionally with edited input) or rejects a retry.

Found by ``build_review_service`` (domain/reviews.py) through ``build_resolver(settings)``.
The item shows the execution's input masked; ``validate`` restores what the reviewer left
masked from Tray's record of the execution, so the retry runs with the real values.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tray_agent.clock import utc_now
from tray_agent.config import Settings
from tray_agent.data.decisions import DecisionsRepository
from tray_agent.domain.monitor.recovery import decision_id_for
from tray_agent.models.decisions import (
    Decision,
    DecisionAction,
    DecisionRecord,
    ExecutionRef,
    Outcome,
    WorkflowCall,
)
from tray_agent.models.reviews import ReviewItem
from tray_agent.observability import logger
from tray_agent.redaction import contains_marker, restore_masked
from tray_agent.tray import TrayClients


class RecoveryResolver:
    def __init__(self, tray: TrayClients, decisions: DecisionsRepository) -> None:
        self._tray = tray
        self._decisions = decisions

    def validate(self, item: ReviewItem, payload: dict[str, Any]) -> dict[str, Any]:
        """Put the real values back where the reviewer left a mask, before anything is resolved.

        The item shows the failed execution's input masked; the original input is Tray's own
        record of that execution, so it is read from there (only when a marker needs it).
        """
        run_input = payload.get("input")
        if not isinstance(run_input, dict) or not contains_marker(run_input):
            return payload
        original = self._tray.workflows.get_execution(str(item.payload["execution_id"])).input
        return {**payload, "input": restore_masked(run_input, original)}

    def on_approve(self, item: ReviewItem, payload: dict[str, Any]) -> None:
        """Retry the failed execution once (the review id is the idempotency key), with the
        payload's ``input``: the original, or what the reviewer edited."""
        execution_id = str(payload.get("execution_id") or item.payload["execution_id"])
        run_input = payload.get("input")
        execution = self._tray.workflows.retry_execution(
            execution_id,
            modified_input=run_input if isinstance(run_input, dict) else None,
            idempotency_key=f"review:{item.review_id}",
        )
        self._record(
            item,
            Decision(
                action=DecisionAction.TRANSFORM_AND_TRIGGER,
                calls=[WorkflowCall(workflow=str(item.payload.get("workflow", "")), input={})],
                reason=f"approved by {item.resolved_by}: retried",
            ),
            Outcome.TRIGGERED,
            [
                ExecutionRef(
                    workflow=str(item.payload.get("workflow", "")), execution_id=execution.id, status_code=200
                )
            ],
        )
        logger.info("recovery approved and retried", review_id=item.review_id, execution_id=execution.id)

    def on_reject(self, item: ReviewItem, reason: str) -> None:
        self._record(
            item,
            Decision(action=DecisionAction.IGNORE, reason=f"rejected by {item.resolved_by}: {reason}"),
            Outcome.REJECTED,
            [],
        )

    def _record(
        self, item: ReviewItem, decision: Decision, outcome: Outcome, executions: list[ExecutionRef]
    ) -> None:
        execution_id = str(item.payload.get("execution_id", ""))
        self._decisions.put(
            DecisionRecord(
                decision_id=item.decision_id or decision_id_for(execution_id),
                event_id=f"tray-execution:{item.payload.get('root_id', execution_id)}",
                event_type="execution_failure",
                source="tray-monitor",
                created_at=utc_now(),
                decision=decision.model_copy(update={"rule": "monitor.review"}),
                outcome=outcome,
                executions=executions,
            )
        )


def build_resolver(settings: Settings) -> RecoveryResolver:
    from tray_agent.tray import get_tray_clients

    return RecoveryResolver(
        get_tray_clients(settings),
        DecisionsRepository(
            settings.decisions_table, retention=timedelta(days=settings.decision_retention_days)
        ),
    )
