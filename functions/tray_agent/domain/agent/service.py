"""From an inbound event to an audited decision and the Tray runs it asks for.

The event is recorded in the work ledger before anything acts on it; the work engine
(``domain/agent/work.py``) then moves it: duplicate check → customer context → brains (policy
first pass, model, fallback) → guardrails → run through Tray | file a review | ignore | hold.
The sender's answer comes from the ledger, so every redelivery gets the same one.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from tray_agent.config import Settings
from tray_agent.data.alerts import AlertsTopic
from tray_agent.data.decisions import DecisionsRepository
from tray_agent.data.lessons import LessonsRepository
from tray_agent.data.payloads import PayloadStore
from tray_agent.data.work import WorkRepository
from tray_agent.domain.agent.brain import build_brains
from tray_agent.domain.agent.guardrails import Guardrails
from tray_agent.domain.agent.holds import Holds
from tray_agent.domain.agent.input_fixes import InputFixer
from tray_agent.domain.agent.memory import CustomerMemory, DailySummary, OperationsSummary
from tray_agent.domain.agent.registry import ToolRegistry
from tray_agent.domain.agent.runner import WorkflowRunner
from tray_agent.domain.agent.work import WorkEngine
from tray_agent.domain.picklists import PicklistSource
from tray_agent.domain.reviews import build_review_service
from tray_agent.errors import NotFoundError
from tray_agent.models.batches import Batch
from tray_agent.models.decisions import Decision, DecisionRecord
from tray_agent.models.events import EventAccepted, InboundEvent
from tray_agent.models.followups import FollowUpView, HealthAssessment
from tray_agent.models.work import Incident, WorkItem, WorkKind, WorkState
from tray_agent.observability import tracer

if TYPE_CHECKING:
    from tray_agent.domain.agent.batching import Batcher
    from tray_agent.domain.agent.sweeper import Sweeper  # the scheduled tick's, not the API's


class EventService:
    def __init__(self, engine: WorkEngine, decisions: DecisionsRepository, pattern_days: int = 7) -> None:
        self._engine = engine
        self._decisions = decisions
        self._pattern_days = pattern_days

    @property
    def engine(self) -> WorkEngine:
        return self._engine

    @tracer.capture_method
    def handle(self, event: InboundEvent) -> EventAccepted:
        work = self._engine.accept(
            WorkKind.EVENT,
            event.id,
            event.model_dump(mode="json"),
            event_type=event.type,
            source=event.source,
            customer_id=event.customer_id,
        )
        self._watch(event, work)
        return self._engine.answer(work)

    def _watch(self, event: InboundEvent, work: WorkItem) -> None:
        """Follow-ups and health (issue 12): idempotent, so a redelivery just does it again."""
        watchers = self._engine.followups
        if watchers is None or (work.decision is not None and work.decision.rule == "duplicate"):
            return
        from tray_agent.domain.agent.followups import CANCEL_EVENT_TYPES

        document = event.model_dump(mode="json")
        if event.type in CANCEL_EVENT_TYPES:
            person = document.get("data", {}).get("email")
            watchers.cancel_for(
                customer_id=event.customer_id if event.type == "order.cancelled" else None,
                person=str(person) if person and event.type != "order.cancelled" else None,
                reason=f"{event.type} ({event.id})",
            )
        if watchers.health is not None:
            watchers.health.observe(document)

    def follow_ups(self, customer_id: str | None, person: str | None) -> list[FollowUpView]:
        watchers = self._engine.followups
        if watchers is None:
            return []
        return watchers.list_for(customer_id=customer_id, person=person)

    def health(self, customer_id: str) -> HealthAssessment:
        watchers = self._engine.followups
        if watchers is None or watchers.health is None:
            raise NotFoundError("customer health is not configured")
        result: HealthAssessment = watchers.health.assessment(customer_id)
        return result

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
        """Carry out a decision the agent made about a situation (the monitor's), through the ledger."""
        work = self._engine.accept(
            WorkKind.SITUATION,
            origin_id,
            {"id": origin_id, "type": event_type, "source": source, "customer_id": customer_id},
            event_type=event_type,
            source=source,
            customer_id=customer_id,
            decision=decision,
            inputs=inputs,
        )
        return self.get_decision(work.decision_id or "")

    def get_decision(self, decision_id: str) -> DecisionRecord:
        record = self._decisions.get(decision_id)
        if record is None:
            raise NotFoundError(f"no decision {decision_id!r}")
        return record

    def customer_decisions(self, customer_id: str, limit: int = 50) -> list[DecisionRecord]:
        return self._decisions.for_customer(customer_id, limit=limit)

    # -- the ledger, for people and operators -----------------------------------------------------
    def get_work(self, work_id: str) -> WorkItem:
        work = self._engine.ledger.get(work_id)
        if work is None:
            raise NotFoundError(f"no work {work_id!r}")
        return work

    def list_work(self, state: WorkState, limit: int | None = None) -> list[WorkItem]:
        items = list(self._engine.ledger.open_items(state, limit=limit))
        batcher = self._engine.batcher
        if state is WorkState.BATCHED and batcher is not None:  # queued items: indexed per batch key
            for key in batcher.policies:
                items += self._engine.ledger.queued(key, limit=limit)
        return items[:limit] if limit is not None else items

    def batches(self) -> list[Batch]:
        batcher = self._engine.batcher
        return list(batcher.repository.open_batches()) if batcher is not None else []

    def batch(self, batch_id: str) -> Batch:
        batcher = self._engine.batcher
        found = batcher.repository.get(batch_id) if batcher is not None else None
        if found is None:
            raise NotFoundError(f"no batch {batch_id!r}")
        return found

    def incidents(self) -> list[Incident]:
        return self._engine.ledger.open_incidents()

    def daily_summary(self, day: str, summary: OperationsSummary) -> DailySummary:
        """The day's summary, with what is held right now and why (nothing waits unseen)."""
        report = summary.read(day)
        incidents = self.incidents()
        held = self.list_work(WorkState.HELD)  # all of them: counted, not served
        report.held_work = len(held)
        report.open_incidents = [
            f"{i.reason} since {i.opened_at.isoformat()}: "
            f"{sum(1 for w in held if w.incident_id == i.incident_id)} held"
            for i in incidents
        ]
        from tray_agent.domain.agent.patterns import find_patterns

        report.patterns = find_patterns(summary, date.fromisoformat(report.day), self._pattern_days)
        return report

    def send_daily_summary(self, day: str, summary: OperationsSummary) -> WorkItem:
        """The day's summary to the ops notification workflow, once (one work item per day)."""
        from tray_agent.domain.agent.patterns import summary_decision

        report = self.daily_summary(day, summary)
        return self._engine.accept(
            WorkKind.SITUATION,
            f"daily-summary:{report.day}",
            {"id": f"daily-summary:{report.day}", "type": "operations.daily_summary"},
            event_type="operations.daily_summary",
            source="tray-agent",
            customer_id=None,
            decision=summary_decision(report),
        )

    def release(self, work_id: str) -> WorkItem:
        return self._engine.release(work_id)

    def cancel(self, work_id: str, by: str, reason: str) -> WorkItem:
        return self._engine.reject(work_id, by, reason)


@cache
def build_work_engine(settings: Settings) -> WorkEngine:
    """One engine per container and settings (the review resolver and the API share it)."""
    from tray_agent.tray import get_tray_clients

    registry = ToolRegistry.from_file(settings.workflows_file)
    summary = OperationsSummary(settings)
    ledger = build_work_repository(settings)
    tray = get_tray_clients(settings)
    fixer = InputFixer(registry, LessonsRepository(settings.work_table), PicklistSource(tray, settings))
    runner = WorkflowRunner(registry, tray)
    engine = WorkEngine(
        settings=settings,
        brains=build_brains(settings),
        guardrails=Guardrails(registry, settings.review_confidence_threshold),
        runner=runner,
        decisions=build_decisions_repository(settings),
        memory=CustomerMemory.from_settings(settings),
        summary=summary,
        reviews=build_review_service(settings),
        ledger=ledger,
        holds=Holds(ledger, AlertsTopic(settings.alerts_topic_arn), summary, settings),
        fixer=fixer,
        batcher=build_batcher(settings, registry, ledger, runner),
    )
    from tray_agent.domain.agent.watchers import build_followups

    engine.attach_followups(build_followups(settings, engine, registry))
    return engine


def build_batcher(
    settings: Settings, registry: ToolRegistry, ledger: WorkRepository, runner: WorkflowRunner
) -> Batcher | None:
    """Batching for non-urgent work (issue 9), when switched on and some workflow has a policy."""
    from tray_agent.data.batches import BatchRepository
    from tray_agent.domain.agent.batching import Batcher
    from tray_agent.tray import get_tray_clients

    if not settings.batching_enabled or not any(tool.batch for tool in registry.tools()):
        return None
    return Batcher(
        tools=registry.tools(),
        ledger=ledger,
        batches=BatchRepository(settings.work_table, timedelta(days=settings.work_retention_days)),
        runner=runner,
        executions=get_tray_clients(settings).workflows,
        settings=settings,
    )


def build_event_service(settings: Settings) -> EventService:
    return EventService(
        build_work_engine(settings), build_decisions_repository(settings), settings.summary_pattern_days
    )


def build_sweeper(settings: Settings) -> Sweeper:
    from tray_agent.domain.agent.sweeper import Sweeper
    from tray_agent.tray import get_tray_clients

    graphql = get_tray_clients(settings).graphql
    return Sweeper(
        build_work_engine(settings), build_review_service(settings), settings, graphql.workflow_enabled
    )


class FailedRunHolds:
    """What the monitor needs of the ledger: hold a failed run behind an incident; report successes."""

    def __init__(self, engine: WorkEngine) -> None:
        self._engine = engine

    def hold(self, **failed_run: Any) -> tuple[str, bool]:
        """(the incident holding it, whether that incident is new and must be escalated)."""
        work, first = self._engine.hold_failed_execution(**failed_run)
        return work.incident_id or "", first

    def observed_successes(self, last_success: dict[str, datetime]) -> None:
        self._engine.holds.observed_successes(last_success)


def build_failed_run_holds(settings: Settings) -> FailedRunHolds:
    return FailedRunHolds(build_work_engine(settings))


def build_work_repository(settings: Settings) -> WorkRepository:
    return WorkRepository(
        settings.work_table,
        PayloadStore(settings.payloads_bucket),
        retention=timedelta(days=settings.work_retention_days),
    )


def build_decisions_repository(settings: Settings) -> DecisionsRepository:
    return DecisionsRepository(
        settings.decisions_table,
        retention=timedelta(days=settings.decision_retention_days),
        payloads=PayloadStore(settings.payloads_bucket),
    )
