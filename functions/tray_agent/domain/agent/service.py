"""From an inbound event to an audited decision and the Tray runs it asks for."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tray_agent.config import Settings
from tray_agent.data.decisions import DecisionsRepository
from tray_agent.domain.agent.policy import PolicyBrain
from tray_agent.domain.agent.registry import ToolInputError, ToolRegistry
from tray_agent.domain.agent.runner import WorkflowRunner
from tray_agent.errors import NotFoundError, TrayAgentError, UpstreamError
from tray_agent.models.decisions import (
    Decision,
    DecisionAction,
    DecisionRecord,
    ExecutionRef,
    Outcome,
)
from tray_agent.models.events import EventAccepted, InboundEvent
from tray_agent.observability import logger, metrics, tracer

_ACTING = {DecisionAction.TRIGGER, DecisionAction.TRANSFORM_AND_TRIGGER, DecisionAction.CHAIN}


class EventService:
    def __init__(
        self,
        *,
        policy: PolicyBrain,
        runner: WorkflowRunner,
        decisions: DecisionsRepository,
    ) -> None:
        self._policy = policy
        self._runner = runner
        self._decisions = decisions

    @tracer.capture_method
    def handle(self, event: InboundEvent) -> EventAccepted:
        decision = self._policy.decide(_as_document(event))
        record = self._act(event, decision)
        self._decisions.put(record)
        metrics.add_metric(name=f"Decision_{record.outcome.value}", unit="Count", value=1)
        logger.info(
            "event decided",
            event_id=event.id,
            event_type=event.type,
            decision_id=record.decision_id,
            action=decision.action.value,
            outcome=record.outcome.value,
            rule=decision.rule,
        )
        if record.outcome is Outcome.FAILED:
            # Recorded for the audit trail; the sender gets a 5xx and redelivers.
            raise UpstreamError(
                record.error or "Tray trigger failed", details={"decision_id": record.decision_id}
            )
        return EventAccepted(
            decision_id=record.decision_id,
            action=decision.action,
            workflow=decision.first_workflow,
            execution_id=record.first_execution_id,
            reason=decision.reason,
        )

    def get_decision(self, decision_id: str) -> DecisionRecord:
        record = self._decisions.get(decision_id)
        if record is None:
            raise NotFoundError(f"no decision {decision_id!r}")
        return record

    def _act(self, event: InboundEvent, decision: Decision) -> DecisionRecord:
        record = DecisionRecord(
            decision_id=str(uuid.uuid4()),
            event_id=event.id,
            event_type=event.type,
            source=event.source,
            customer_id=event.customer_id,
            created_at=datetime.now(UTC),
            decision=decision,
            outcome=Outcome.IGNORED,
        )
        if decision.action is DecisionAction.REVIEW:
            record.outcome = Outcome.IN_REVIEW
            return record
        if decision.action not in _ACTING:
            return record
        executions: list[ExecutionRef] = []
        try:
            for index, call in enumerate(decision.calls):
                key = f"{event.id}:{index}:{call.workflow}"
                executions.append(self._runner.run(call, idempotency_key=key))
        except ToolInputError as exc:
            # The data does not fit the workflow: a person looks at it rather than Tray failing on it.
            record.outcome = Outcome.IN_REVIEW
            record.error = exc.message
        except TrayAgentError as exc:
            record.outcome = Outcome.FAILED
            record.error = exc.message
        else:
            record.outcome = Outcome.TRIGGERED
        record.executions = executions
        return record


def _as_document(event: InboundEvent) -> dict[str, Any]:
    return event.model_dump(mode="json")


def build_event_service(settings: Settings) -> EventService:
    from tray_agent.tray import get_tray_clients

    registry = ToolRegistry.from_file(settings.workflows_file)
    policy = PolicyBrain.from_file(settings.rules_file, known_workflows=registry.__contains__)
    return EventService(
        policy=policy,
        runner=WorkflowRunner(registry, get_tray_clients(settings)),
        decisions=DecisionsRepository(
            settings.decisions_table, retention=timedelta(days=settings.decision_retention_days)
        ),
    )
