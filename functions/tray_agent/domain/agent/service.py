"""From an inbound event to an audited decision and the Tray runs it asks for.

event → duplicate check → customer context → brains (policy first pass, model, fallback)
      → guardrails → run through Tray | file a review | record ignored
      → decision record, customer memory, daily operations summary
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tray_agent.config import Settings
from tray_agent.data.decisions import DecisionsRepository
from tray_agent.domain.agent.brain import Brains, build_brains
from tray_agent.domain.agent.guardrails import Guardrails, redact
from tray_agent.domain.agent.memory import CustomerContext, CustomerMemory, OperationsSummary
from tray_agent.domain.agent.registry import ToolInputError, ToolRegistry
from tray_agent.domain.agent.runner import WorkflowRunner
from tray_agent.domain.reviews import ReviewService, build_review_service
from tray_agent.errors import NotFoundError, TrayAgentError, UpstreamError
from tray_agent.models.decisions import (
    ACTING_ACTIONS,
    Decision,
    DecisionAction,
    DecisionRecord,
    ExecutionRef,
    Outcome,
    WorkflowCall,
)
from tray_agent.models.events import EventAccepted, InboundEvent
from tray_agent.models.reviews import ReviewKind
from tray_agent.observability import logger, metrics, tracer

REVIEW_NAMESPACE = uuid.UUID("6f1d2c3b-8a4e-4f4b-9d7e-2f0c1a5b7e90")


class EventService:
    def __init__(
        self,
        *,
        brains: Brains,
        guardrails: Guardrails,
        runner: WorkflowRunner,
        decisions: DecisionsRepository,
        memory: CustomerMemory,
        summary: OperationsSummary,
        reviews: ReviewService,
    ) -> None:
        self._brains = brains
        self._guardrails = guardrails
        self._runner = runner
        self._decisions = decisions
        self._memory = memory
        self._summary = summary
        self._reviews = reviews

    @tracer.capture_method
    def handle(self, event: InboundEvent) -> EventAccepted:
        document = event.model_dump(mode="json")
        context: CustomerContext | None = None
        original = self._memory.first_with_same_content(document)
        if original is not None:
            decision = Decision(
                action=DecisionAction.IGNORE,
                reason=f"duplicate of event {original} (same content delivered under another id)",
                rule="duplicate",
            )
        else:
            if event.customer_id:
                context = self._memory.load(event.customer_id)
            document["context"] = context.for_rules() if context else {}
            situation = _situation(event, context) if self._brains.llm is not None else None
            decision = self._brains.decide(document, situation)
        inputs = {"data": redact(event.data), "context": context.brief() if context else None}
        record = self.carry_out(
            decision,
            origin_id=event.id,
            event_type=event.type,
            source=event.source,
            customer_id=event.customer_id,
            inputs=inputs,
        )
        if event.customer_id and original is None:
            self._memory.remember(
                event.customer_id,
                kind="event",
                event_type=event.type,
                outcome=record.outcome.value,
                workflow=decision.first_workflow,
                summary=decision.reason,
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
            brain=decision.brain,
            review_id=record.review_id,
        )

    def carry_out(
        self,
        decision: Decision,
        *,
        origin_id: str,
        event_type: str,
        source: str,
        customer_id: str | None = None,
        inputs: dict[str, Any] | None = None,
    ) -> DecisionRecord:
        """Guard, act (or file a review), and audit a decision from either brain.

        ``origin_id`` (the event id, or the monitor's situation id) keys the Tray idempotency
        keys and the review item, so a redelivery never runs or files twice.
        """
        record = DecisionRecord(
            decision_id=str(uuid.uuid4()),
            event_id=origin_id,
            event_type=event_type,
            source=source,
            customer_id=customer_id,
            created_at=datetime.now(UTC),
            inputs=inputs or {},
            decision=decision,
            outcome=Outcome.IGNORED,
        )
        verdict = self._guardrails.check(decision)
        if decision.action is DecisionAction.REVIEW or (
            decision.action in ACTING_ACTIONS and not verdict.execute
        ):
            record.guardrail = verdict.held_because
            self._file_review(record, verdict.held_because or decision.reason)
        elif decision.action in ACTING_ACTIONS:
            self._run(record, verdict.calls, key_prefix=origin_id)
        self._decisions.put(record)
        self._summary.record(None, "decision", decision.first_workflow, record.outcome.value)
        metrics.add_metric(name=f"Decision_{record.outcome.value}", unit="Count", value=1)
        logger.info(
            "decision made",
            origin_id=origin_id,
            event_type=event_type,
            decision_id=record.decision_id,
            brain=decision.brain,
            action=decision.action.value,
            outcome=record.outcome.value,
            rule=decision.rule,
            held=record.guardrail is not None,
            tokens=decision.usage.total_tokens if decision.usage else 0,
        )
        return record

    def _run(self, record: DecisionRecord, calls: list[WorkflowCall], *, key_prefix: str) -> None:
        executions: list[ExecutionRef] = []
        try:
            for index, call in enumerate(calls):
                key = f"{key_prefix}:{index}:{call.workflow}"
                executions.append(self._runner.run(call, idempotency_key=key))
        except ToolInputError as exc:
            # The data does not fit the workflow: a person looks at it rather than Tray failing on it.
            record.error = exc.message
            self._file_review(record, exc.message)
        except TrayAgentError as exc:
            record.outcome = Outcome.FAILED
            record.error = exc.message
        else:
            record.outcome = Outcome.TRIGGERED
        record.executions = executions

    def _file_review(self, record: DecisionRecord, why: str) -> None:
        decision = record.decision
        item = self._reviews.file(
            kind=ReviewKind.DECISION,
            review_id=f"dec-{uuid.uuid5(REVIEW_NAMESPACE, record.event_id)}",
            title=f"{record.event_type} from {record.source}: {decision.action.value} "
            f"{', '.join(c.workflow for c in decision.calls) or '(no workflow)'}",
            reason=why,
            findings=[f"{decision.brain} brain: {decision.reason}", f"confidence {decision.confidence:.2f}"],
            payload={"calls": [call.model_dump(mode="json") for call in decision.calls]},
            customer_id=record.customer_id,
            decision_id=record.decision_id,
        )
        record.outcome = Outcome.IN_REVIEW
        record.review_id = item.review_id

    def get_decision(self, decision_id: str) -> DecisionRecord:
        record = self._decisions.get(decision_id)
        if record is None:
            raise NotFoundError(f"no decision {decision_id!r}")
        return record

    def customer_decisions(self, customer_id: str, limit: int = 50) -> list[DecisionRecord]:
        return self._decisions.for_customer(customer_id, limit=limit)


def _situation(event: InboundEvent, context: CustomerContext | None) -> Any:
    from tray_agent.domain.agent.llm import Situation

    return Situation(
        kind="event",
        summary=f"{event.type} from {event.source}"
        + (f" for customer {event.customer_id}" if event.customer_id else ""),
        data={"type": event.type, "occurred_at": event.occurred_at.isoformat(), "data": redact(event.data)},
        context=context.brief() if context else {},
        customer_id=event.customer_id,
    )


def build_event_service(settings: Settings) -> EventService:
    from tray_agent.tray import get_tray_clients

    registry = ToolRegistry.from_file(settings.workflows_file)
    return EventService(
        brains=build_brains(settings),
        guardrails=Guardrails(registry, settings.review_confidence_threshold),
        runner=WorkflowRunner(registry, get_tray_clients(settings)),
        decisions=build_decisions_repository(settings),
        memory=CustomerMemory.from_settings(settings),
        summary=OperationsSummary(settings),
        reviews=build_review_service(settings),
    )


def build_decisions_repository(settings: Settings) -> DecisionsRepository:
    return DecisionsRepository(
        settings.decisions_table, retention=timedelta(days=settings.decision_retention_days)
    )
