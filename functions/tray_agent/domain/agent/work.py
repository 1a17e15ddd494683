"""The work engine: every accepted piece of work is recorded before anything acts on it.

Each step reads a work item, does one thing, and writes the next state conditionally on the
version it read, so a redelivery, the sweeper and a reviewer can never both move one item:

    received  → decide (brains) ……………………………… decided | ignored (duplicate)
    decided   → guardrails …………………………………… in_review | ignored | acting (a new attempt)
    acting    → run the calls not yet run ……… done | held (an incident) | failed | in_review
    held      → (incident closed, or an operator releases it) → acting with a new attempt
    in_review → (a person approves) → decided with the approved calls; (rejects) → rejected

Intent comes first: an attempt is written as ``sending`` before its first Tray call, and each
call's execution is written before the next call, so a crash anywhere leaves an item that the
sweeper finishes (lease expired) without running a call twice. Tray refusals never end work
silently: what cannot run now is held behind an incident; what can never run is failed with
its reason and can be re-run.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from tray_agent.clock import Clock, utc_now
from tray_agent.config import Settings
from tray_agent.data.decisions import DecisionsRepository
from tray_agent.data.work import StaleWorkError, WorkRepository
from tray_agent.domain.agent.brain import Brains
from tray_agent.domain.agent.guardrails import Guardrails, redact
from tray_agent.domain.agent.holds import Holds
from tray_agent.domain.agent.input_fixes import InputFixer
from tray_agent.domain.agent.memory import CustomerContext, CustomerMemory, OperationsSummary
from tray_agent.domain.agent.runner import WorkflowRunner
from tray_agent.domain.reviews import ReviewService
from tray_agent.errors import ConflictError, DuplicateInProgressError, NotFoundError, TrayAgentError
from tray_agent.models.decisions import (
    ACTING_ACTIONS,
    Credits,
    Decision,
    DecisionAction,
    DecisionRecord,
    Outcome,
    WorkflowCall,
)
from tray_agent.models.events import EventAccepted
from tray_agent.models.reviews import ReviewKind
from tray_agent.models.work import (
    MOVING_STATES,
    Attempt,
    AttemptStatus,
    BatchMembership,
    IncidentKind,
    WorkItem,
    WorkKind,
    WorkState,
    work_id_for,
)
from tray_agent.observability import logger, metrics
from tray_agent.redaction import mask_text
from tray_agent.tray.errors import TrayError, TrayTransportError

if TYPE_CHECKING:
    from tray_agent.domain.agent.batching import Batcher

REVIEW_NAMESPACE = uuid.UUID("6f1d2c3b-8a4e-4f4b-9d7e-2f0c1a5b7e90")
DECISION_NAMESPACE = uuid.UUID("0b9f3c52-1d7e-4a8c-9f61-3e2d4c5b6a70")

OUTCOME_BY_STATE = {
    WorkState.RECEIVED: Outcome.PENDING,
    WorkState.DECIDED: Outcome.PENDING,
    WorkState.ACTING: Outcome.PENDING,
    WorkState.HELD: Outcome.HELD,
    WorkState.IN_REVIEW: Outcome.IN_REVIEW,
    WorkState.IGNORED: Outcome.IGNORED,
    WorkState.REJECTED: Outcome.REJECTED,
    WorkState.FAILED: Outcome.FAILED,
    WorkState.BATCHED: Outcome.PENDING,  # waits for its bulk run (issue 9)
}


class FollowUpHooks(Protocol):
    """What the engine needs of follow-ups (domain/agent/followups.py FollowUps)."""

    def decide(self, work: WorkItem, document: dict[str, Any]) -> Decision: ...

    def schedule_for(self, origin: WorkItem) -> list[str]: ...


class WorkEngine:
    def __init__(
        self,
        *,
        settings: Settings,
        brains: Brains,
        guardrails: Guardrails,
        runner: WorkflowRunner,
        decisions: DecisionsRepository,
        memory: CustomerMemory,
        summary: OperationsSummary,
        reviews: ReviewService,
        ledger: WorkRepository,
        holds: Holds,
        fixer: InputFixer | None = None,
        clock: Clock = utc_now,
        batcher: Batcher | None = None,
    ) -> None:
        self._settings = settings
        self._brains = brains
        self._guardrails = guardrails
        self._runner = runner
        self._decisions = decisions
        self._memory = memory
        self._summary = summary
        self._reviews = reviews
        self._ledger = ledger
        self._holds = holds
        self._fixer = fixer
        self._clock = clock
        self._batcher = batcher  # non-urgent work waits for a bulk run (domain/agent/batching.py)
        if batcher is not None:
            batcher.bind(self)
        self._followups: FollowUpHooks | None = None

    @property
    def followups(self) -> Any:
        """The attached follow-ups (domain/agent/followups.py FollowUps), if any."""
        return self._followups

    def attach_followups(self, followups: FollowUpHooks) -> None:
        """Follow-ups decide their own checks and are scheduled when a decision's calls ran."""
        self._followups = followups

    @property
    def ledger(self) -> WorkRepository:
        return self._ledger

    @property
    def holds(self) -> Holds:
        return self._holds

    @property
    def batcher(self) -> Batcher | None:
        return self._batcher

    # -- entry points ---------------------------------------------------------------------------
    def accept(
        self,
        kind: WorkKind,
        origin_id: str,
        document: dict[str, Any],
        *,
        event_type: str,
        source: str,
        customer_id: str | None,
        decision: Decision | None = None,
        inputs: dict[str, Any] | None = None,
    ) -> WorkItem:
        """Record the work (once per origin id), then take it as far as it goes now.

        A redelivery of work that is finished or waiting returns it as it is; of work another
        worker is moving, waits for that worker's answer (bounded); of work whose worker died
        (lease expired), takes it over and resumes it.
        """
        now = self._clock()
        work_id = work_id_for(kind, origin_id)
        fresh = WorkItem(
            work_id=work_id,
            kind=kind,
            origin_id=origin_id,
            created_at=now,
            updated_at=now,
            lease_until=self._lease(now),
            event_type=event_type,
            source=source,
            customer_id=customer_id,
            decision_id=str(uuid.uuid5(DECISION_NAMESPACE, work_id)),
        )
        if decision is not None:
            fresh = fresh.model_copy(
                update={"state": WorkState.DECIDED, "decision": decision, "calls": list(decision.calls)}
            )
            fresh.inputs = inputs or {}
        if self._ledger.create(fresh, document):
            logger.info("work received", work_id=work_id, kind=kind.value, event_type=event_type)
            return self.advance(fresh)
        return self._join(work_id)

    def _join(self, work_id: str) -> WorkItem:
        deadline = time.monotonic() + self._settings.work_duplicate_wait_s
        delay = 0.05
        while True:
            work = self._ledger.get(work_id)
            if work is None:  # created without a readable document: nothing to resume
                raise NotFoundError(f"work {work_id} is not readable")
            if work.state not in MOVING_STATES or (work.answer is not None and not self._expired(work)):
                return work
            if self._expired(work):
                taken = self._take(work)
                if taken is not None:
                    return self.advance(taken)
                continue
            if time.monotonic() >= deadline:
                raise DuplicateInProgressError("the same work is still being processed; retry shortly")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def resume(self, work_id: str) -> WorkItem | None:
        """The sweeper's entry: take over a moving item whose lease has expired, and finish it."""
        work = self._ledger.get(work_id)
        if work is None or work.state not in MOVING_STATES or not self._expired(work):
            return work
        taken = self._take(work)
        return self.advance(taken) if taken is not None else None

    def _expired(self, work: WorkItem) -> bool:
        return work.lease_until is None or work.lease_until <= self._clock()

    def _take(self, work: WorkItem) -> WorkItem | None:
        now = self._clock()
        update: dict[str, Any] = {"lease_until": self._lease(now), "updated_at": now}
        attempt = work.current_attempt
        if work.state is WorkState.ACTING and attempt is not None and attempt.status is AttemptStatus.SENDING:
            # Its worker died while sending: Tray may have acted. Look for the run before resending.
            unknown = attempt.model_copy(update={"status": AttemptStatus.UNKNOWN})
            update["attempts"] = [*work.attempts[:-1], unknown]
        try:
            return self._ledger.save(work.model_copy(update=update))
        except StaleWorkError:
            return None

    def _lease(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self._settings.work_lease_s)

    def advance(self, work: WorkItem) -> WorkItem:
        """Move ``work`` (which this worker owns) until it is finished or waiting."""
        while work.state in MOVING_STATES:
            if work.state is WorkState.RECEIVED:
                work = self._decide(work)
            elif work.state is WorkState.DECIDED:
                work = self._guard(work)
            else:
                work, lost_answer = self._act(work)
                if lost_answer:
                    # Tray's answer was just lost: looking for the run at once could miss one Tray
                    # has not listed yet. The lease runs out first; then a redelivery or the
                    # sweeper looks for it, and only then sends again.
                    break
        return work

    # -- steps ----------------------------------------------------------------------------------
    def _decide(self, work: WorkItem) -> WorkItem:
        document = self._ledger.event(work.work_id)
        context: CustomerContext | None = None
        duplicate_of = None if work.kind is WorkKind.FOLLOWUP else self._duplicate_of(work, document)
        if duplicate_of is not None:
            decision = Decision(
                action=DecisionAction.IGNORE,
                reason=f"duplicate of event {duplicate_of} (same content delivered under another id)",
                rule="duplicate",
            )
        elif work.kind is WorkKind.FOLLOWUP and self._followups is not None:
            decision = self._followups.decide(work, document)  # the scheduled check, not the brains
        else:
            if work.customer_id:
                context = self._memory.load(work.customer_id)
            document["context"] = context.for_rules() if context else {}
            situation = _situation(document, context) if self._brains.llm is not None else None
            decision = self._brains.decide(document, situation)
        inputs = {"data": redact(document.get("data", {})), "context": context.brief() if context else None}
        decided = work.model_copy(
            update={"state": WorkState.DECIDED, "decision": decision, "calls": list(decision.calls)}
        )
        decided.inputs = inputs
        self._audit(decided)
        if decision.usage is not None:  # every model call is spent, whatever happens to the work next
            try:
                self._summary.record_model_spend(decision.usage)
            except (ClientError, BotoCoreError) as exc:
                logger.warning("model spend not recorded", work_id=work.work_id, error=type(exc).__name__)
        return self._save(decided)

    def _duplicate_of(self, work: WorkItem, document: dict[str, Any]) -> str | None:
        original = self._memory.first_with_same_content(document, now=self._clock())
        if original is None or original == work.origin_id:
            return None
        first = self._ledger.get(work_id_for(work.kind, original))
        # A resend after the first failed or was rejected is a correction, not a duplicate.
        if first is not None and first.state in (WorkState.FAILED, WorkState.REJECTED):
            return None
        return original

    def _guard(self, work: WorkItem) -> WorkItem:
        decision = work.decision
        assert decision is not None  # decided items carry their decision
        if work.approved_by:  # a person approved these calls: they run as approved
            return self._start_attempt(work)
        if decision.action not in ACTING_ACTIONS and decision.action is not DecisionAction.REVIEW:
            return self._finish(work, WorkState.IGNORED, reason=decision.reason)
        verdict = self._guardrails.check(decision)
        if decision.action is DecisionAction.REVIEW or not verdict.execute:
            return self._to_review(work, verdict.held_because or decision.reason)
        work = work.model_copy(update={"calls": verdict.calls})
        if self._fixer is not None and self._settings.fix_before_trigger:
            work, blocked = self._fix_before_trigger(work)
            if blocked is not None:
                return self._to_review(work, blocked)
        if (queued := self._batch(work)) is not None:
            return queued
        return self._start_attempt(work)

    def _fix_before_trigger(self, work: WorkItem) -> tuple[WorkItem, str | None]:
        """Apply what is known to the planned input; a run that would surely fail is not sent."""
        assert self._fixer is not None and work.decision is not None
        fixed = self._fixer.fix(work.calls, self._clock())
        if not fixed.fixes and fixed.blocked is None:
            return work, None
        decision = work.decision.model_copy(update={"fixes": [*work.decision.fixes, *fixed.fixes]})
        blocked = None
        if fixed.blocked is not None:
            blocked = f"would fail in Tray: {fixed.blocked}; not triggered"
        return work.model_copy(update={"calls": fixed.calls, "decision": decision}), blocked

    def _batch(self, work: WorkItem) -> WorkItem | None:
        """Non-urgent work under a batch policy waits in the ledger for a bulk run; None: run now."""
        policy = self._batcher.policy_for(work) if self._batcher is not None else None
        if policy is None or self._batcher is None:
            return None
        member = BatchMembership(batch_key=work.calls[0].workflow, queued_at=self._clock())
        queued = self._finish(
            work.model_copy(update={"batch": member}),
            WorkState.BATCHED,
            reason=f"non-urgent: waits for a bulk run of {policy.bulk_workflow} "
            f"(at most {policy.max_items} items or {policy.max_wait_s} s)",
        )
        return self._batcher.after_queued(queued, policy)

    def settle_batched(self, work: WorkItem, *, done: bool) -> WorkItem:
        """A batched item after its bulk run: done, or run alone through the normal path."""
        if done:
            return self._finish(work, WorkState.DONE, reason=None)
        now = self._clock()
        alone = work.model_copy(
            update={
                "state": WorkState.DECIDED,
                "lease_until": self._lease(now),
                "answer": None,
                "calls_done": 0,
            }
        )
        return self.advance(self._save(alone))

    def _start_attempt(self, work: WorkItem) -> WorkItem:
        """Record the intent (a new attempt, a new key) before any Tray call."""
        now = self._clock()
        number = len(work.attempts) + 1
        attempt = Attempt(number=number, key=f"{work.work_id}.a{number}", started_at=now)
        acting = work.model_copy(
            update={
                "state": WorkState.ACTING,
                "attempts": [*work.attempts, attempt],
                "lease_until": self._lease(now),
                "reason": None,
                "incident_id": None,
            }
        )
        return self._save(acting)

    def _act(self, work: WorkItem) -> tuple[WorkItem, bool]:
        """Run the attempt's remaining calls: (the work after, whether Tray's answer was lost)."""
        attempt = work.current_attempt
        if attempt is None or attempt.status in (AttemptStatus.SENT, AttemptStatus.REFUSED):
            return self._start_attempt(work), False  # a finished attempt never sends again
        while work.calls_done < len(work.calls):
            work, stopped = self._run_next_call(work, attempt)
            if stopped:
                return work, work.state is WorkState.ACTING
        attempt = work.attempts[-1].model_copy(update={"status": AttemptStatus.SENT})
        done = work.model_copy(update={"attempts": [*work.attempts[:-1], attempt]})
        self._holds.recovered(done)
        if done.decision is not None and done.decision.follow_ups:
            # Before the work is done: a crash here schedules again on resume (idempotent ids).
            if self._followups is None:
                logger.warning("follow-ups not scheduled: none attached", work_id=work.work_id)
            else:
                self._followups.schedule_for(done)
        return self._finish(done, WorkState.DONE, reason=None), False

    def _run_next_call(self, work: WorkItem, attempt: Attempt) -> tuple[WorkItem, bool]:
        """Run the next call of ``attempt``: (the work after it, whether the attempt stopped)."""
        index = work.calls_done
        call = work.calls[index]
        key = f"{attempt.key}.{index}"
        if attempt.status is AttemptStatus.UNKNOWN:
            found = self._runner.find(call, attempt_key=key, since=attempt.started_at)
            if found is not None:
                logger.info("unknown outcome resolved: the run exists", work_id=work.work_id, call=index)
                return self._record_call(work, index, found), False
        try:
            ref = self._runner.run(call, idempotency_key=key)
        except TrayError as exc:
            # A timeout, a dropped connection, a 5xx without an execution id: Tray may have acted.
            if exc.outcome_unknown or isinstance(exc, TrayTransportError):
                return self._unknown(work, exc), True
            return self._refused(work, call, exc), True
        except TrayAgentError as exc:  # bad data, an unregistered workflow: a person looks at it
            return self._to_review(work, exc.message), True
        return self._record_call(work, index, ref), False

    def _record_call(self, work: WorkItem, index: int, ref: Any) -> WorkItem:
        # Written before the next call: a crash resumes after this call, never before it.
        return self._save(
            work.model_copy(update={"calls_done": index + 1, "executions": [*work.executions, ref]})
        )

    def _unknown(self, work: WorkItem, exc: TrayError) -> WorkItem:
        """A timeout or a dropped connection: Tray may have started the run. Look before resending."""
        now = self._clock()
        attempt = work.attempts[-1].model_copy(update={"status": AttemptStatus.UNKNOWN, "error": exc.message})
        logger.warning("tray outcome unknown", work_id=work.work_id, code=exc.code)
        unknown = work.model_copy(
            update={
                "attempts": [*work.attempts[:-1], attempt],
                "reason": f"Tray's answer was lost ({exc.code}); the run is looked for before resending",
                "lease_until": self._lease(now),  # the sweeper (or a redelivery) looks after it
            }
        )
        saved = self._save(unknown)
        self._answer_now(saved)
        return saved

    def _refused(self, work: WorkItem, call: WorkflowCall, exc: TrayError) -> WorkItem:
        attempt = work.attempts[-1].model_copy(update={"status": AttemptStatus.REFUSED, "error": exc.message})
        work = work.model_copy(update={"attempts": [*work.attempts[:-1], attempt]})
        incident = self._holds.hold_for(work, call, exc, workflow_id=self._runner.workflow_id(call.workflow))
        if incident is not None:
            return self._finish(
                work,
                WorkState.HELD,
                reason=f"{incident.reason}: {exc.message}",
                incident=incident.incident_id,
            )
        return self._finish(work, WorkState.FAILED, reason=exc.message)

    def _to_review(self, work: WorkItem, why: str) -> WorkItem:
        decision = work.decision
        assert decision is not None
        review_id = work.review_id or f"dec-{uuid.uuid5(REVIEW_NAMESPACE, work.origin_id)}"
        self._reviews.file(
            kind=ReviewKind.DECISION,
            review_id=review_id,
            title=f"{work.event_type} from {work.source}: {decision.action.value} "
            f"{', '.join(c.workflow for c in work.calls) or '(no workflow)'}",
            reason=why,
            findings=[f"{decision.brain} brain: {decision.reason}", f"confidence {decision.confidence:.2f}"],
            payload={"calls": [call.model_dump(mode="json") for call in work.calls]},
            customer_id=work.customer_id,
            decision_id=work.decision_id,
            work_id=work.work_id,
        )
        return self._finish(work.model_copy(update={"review_id": review_id}), WorkState.IN_REVIEW, reason=why)

    def _finish(
        self, work: WorkItem, state: WorkState, *, reason: str | None, incident: str | None = None
    ) -> WorkItem:
        """Record a finished or waiting state: the audit record first, then the ledger."""
        update: dict[str, Any] = {
            "state": state,
            "reason": reason,
            "incident_id": incident,
            "lease_until": None,
        }
        if work.decision is not None and state in (WorkState.DONE, WorkState.IGNORED):
            update["decision"] = work.decision.model_copy(update={"credits": self._credits(work)})
        finished = work.model_copy(update=update)
        finished.answer = _answer(finished)
        self._audit(finished)
        saved = self._save(finished)
        self._after(saved)
        return saved

    def _credits(self, work: WorkItem) -> Credits:
        """The decision's task credits: its runs' usual cost, and the runs it avoided."""
        decision = work.decision
        assert decision is not None
        runner = self._runner
        spent = sum(runner.task_credits(call.workflow) for call in work.calls[: work.calls_done])
        avoided, because = 0, None
        if decision.fixes:  # each fixed call is a failing run (and Tray's retries of it) not started
            fixed_calls = {fix.workflow for fix in decision.fixes}
            avoided, because = sum(runner.task_credits(w) for w in fixed_calls), "fixed before trigger"
        elif not work.calls_done and work.kind is WorkKind.EVENT:
            usual = self._brains.policy.usual_workflow(work.event_type)
            if usual is not None and decision.rule != "no-rule":
                avoided = runner.task_credits(usual)
                because = "duplicate" if decision.rule == "duplicate" else f"ignored ({decision.rule})"
        return Credits(spent=spent, avoided=avoided, avoided_because=because)

    def _answer_now(self, work: WorkItem) -> None:
        """Give the sender an answer although the work is still moving (the sweeper finishes it)."""
        if work.answer is None:
            work.answer = _answer(work)
            self._save(work)

    def _save(self, work: WorkItem) -> WorkItem:
        return self._ledger.save(work.model_copy(update={"updated_at": self._clock()}))

    def _audit(self, work: WorkItem) -> None:
        """The decision record follows the ledger; it is written before the ledger moves on."""
        if work.decision is None or work.decision_id is None:
            return
        record = DecisionRecord(
            decision_id=work.decision_id,
            work_id=work.work_id,
            event_id=work.origin_id,
            event_type=work.event_type,
            source=work.source,
            customer_id=work.customer_id,
            created_at=work.created_at,
            inputs=work.inputs,
            decision=work.decision,
            outcome=_outcome(work),
            executions=work.executions,
            error=work.reason if work.state in (WorkState.FAILED, WorkState.HELD) else None,
            guardrail=work.reason if work.state is WorkState.IN_REVIEW else None,
            review_id=work.review_id,
            resolved_at=work.updated_at if work.approved_by else None,
            resolved_by=work.approved_by,
        )
        self._decisions.put(record)

    def _after(self, work: WorkItem) -> None:
        """Memory and the daily summary: useful, not part of the work; a failure here loses no work."""
        decision = work.decision
        outcome = _outcome(work).value
        try:
            self._summary.record(None, "decision", work.calls[0].workflow if work.calls else None, outcome)
            if work.customer_id and work.state in (WorkState.FAILED, WorkState.HELD):
                # A customer whose work keeps failing is a pattern of the daily summary.
                self._summary.record_customer_failure(
                    work.customer_id, decision.first_workflow if decision else None
                )
            credits = decision.credits if decision is not None else None
            if credits is not None and credits.spent:
                self._summary.record(None, "credits", work.calls[0].workflow, "spent", count=credits.spent)
            if credits is not None and credits.avoided:
                self._summary.record(
                    None, "credits", credits.avoided_because or "-", "saved", count=credits.avoided
                )
            if (
                work.kind is WorkKind.EVENT
                and work.customer_id
                and decision is not None
                and decision.rule != "duplicate"
            ):
                self._memory.remember(
                    work.customer_id,
                    kind="event",
                    event_type=work.event_type,
                    outcome=outcome,
                    workflow=decision.first_workflow,
                    summary=mask_text(decision.reason),
                )
        except (ClientError, BotoCoreError) as exc:
            logger.warning("memory not updated", work_id=work.work_id, error=type(exc).__name__)
        metrics.add_metric(name=f"Decision_{outcome}", unit="Count", value=1)
        if decision is not None:
            metrics.add_metric(name=f"Brain_{decision.brain}", unit="Count", value=1)
            if decision.credits is not None:  # Tray task credits, estimated from the workflows file
                metrics.add_metric(name="TaskCreditsSpent", unit="Count", value=decision.credits.spent)
                metrics.add_metric(name="TaskCreditsSaved", unit="Count", value=decision.credits.avoided)
        logger.info(
            "work moved",
            work_id=work.work_id,
            state=work.state.value,
            brain=decision.brain if decision else None,
            action=decision.action.value if decision else None,
            rule=decision.rule if decision else None,
            attempts=len(work.attempts),
            incident_id=work.incident_id,
        )

    # -- failed executions the monitor holds ----------------------------------------------------
    def hold_failed_execution(
        self,
        *,
        root_id: str,
        execution_id: str,
        workflow: str,
        workflow_id: str,
        decision_id: str,
        incident: tuple[IncidentKind, str, str],
    ) -> tuple[WorkItem, bool]:
        """Hold a run that failed because of its auth or a disabled workflow: its retry is the work.

        Recorded before anything else (the retry runs once, when the incident closes); the same
        failed chain is held once. Returns the work and whether its incident is new (escalated).
        """
        kind, key, reason = incident
        work_id = work_id_for(WorkKind.RECOVERY, root_id)
        existing = self._ledger.get(work_id)
        if existing is not None:
            return existing, False
        opened, first = self._holds.open(
            kind,
            key,
            reason,
            first_held=work_id,
            workflow_id=workflow_id if kind is IncidentKind.WORKFLOW else None,
            notify=False,  # the monitor escalates it through its own alerter
        )
        now = self._clock()
        call = WorkflowCall(workflow=workflow, retry_of=execution_id)
        work = WorkItem(
            work_id=work_id,
            kind=WorkKind.RECOVERY,
            origin_id=root_id,
            state=WorkState.HELD,
            created_at=now,
            updated_at=now,
            event_type="execution_failure",
            source="tray-monitor",
            decision_id=decision_id,
            decision=Decision(
                action=DecisionAction.RETRY,
                calls=[call],
                reason=f"held until {reason.lower()} is fixed, then retried once",
                rule=f"monitor.{kind.value}",
            ),
            calls=[call],
            reason=reason,
            incident_id=opened.incident_id,
        )
        work.answer = _answer(work)
        self._audit(work)
        if not self._ledger.create(work, {"execution_id": execution_id, "workflow": workflow}):
            return self._get(work_id), False
        logger.info("failed run held", work_id=work_id, incident_id=opened.incident_id)
        return work, first

    # -- people and operators -------------------------------------------------------------------
    def approve(self, work_id: str, calls: list[WorkflowCall], reviewer: str) -> WorkItem:
        """A person approved (possibly edited) calls: they run now, or are held until Tray recovers."""
        work = self._get(work_id)
        if work.state is not WorkState.IN_REVIEW:
            if work.approved_by:  # the approval was recorded before a crash: just finish it
                return self.resume(work_id) or work
            raise ConflictError(f"work {work_id} is {work.state.value}, not waiting for a review")
        now = self._clock()
        if self._fixer is not None:
            self._fixer.learn_from_review(work.calls, calls, now)
        approved = work.model_copy(
            update={
                "state": WorkState.DECIDED,
                "calls": calls,
                "calls_done": 0,
                "approved_by": reviewer,
                "lease_until": self._lease(now),
                "answer": None,
            }
        )
        if approved.decision is not None and not calls:
            approved.decision = approved.decision.model_copy(update={"action": DecisionAction.IGNORE})
        return self.advance(self._save(approved))

    def cancel_pending(self, work: WorkItem, reason: str) -> WorkItem:
        """A follow-up that has not run yet will never run (raises StaleWorkError if it just did)."""
        if work.state is not WorkState.RECEIVED:
            raise ConflictError(f"work {work.work_id} is {work.state.value}; only pending work is cancelled")
        return self._finish(work, WorkState.REJECTED, reason=reason)

    def reject(self, work_id: str, reviewer: str, reason: str) -> WorkItem:
        work = self._get(work_id)
        queued = work.state is WorkState.BATCHED and work.batch is not None and work.batch.batch_id is None
        if work.state not in (WorkState.IN_REVIEW, WorkState.HELD, WorkState.FAILED) and not queued:
            raise ConflictError(
                f"work {work_id} is {work.state.value}; only waiting or failed work is rejected"
            )
        return self._finish(
            work.model_copy(update={"approved_by": None}), WorkState.REJECTED, reason=f"{reviewer}: {reason}"
        )

    def release(self, work_id: str) -> WorkItem:
        """Run held or failed work again now, with a new attempt (an operator's decision)."""
        work = self._get(work_id)
        if work.state not in (WorkState.HELD, WorkState.FAILED):
            raise ConflictError(f"work {work_id} is {work.state.value}; only held or failed work is released")
        now = self._clock()
        moving = work.model_copy(
            update={"state": WorkState.ACTING, "lease_until": self._lease(now), "answer": None}
        )
        return self.advance(self._start_attempt(self._save(moving)))

    def _get(self, work_id: str) -> WorkItem:
        work = self._ledger.get(work_id)
        if work is None:
            raise NotFoundError(f"no work {work_id!r}")
        return work

    def answer(self, work: WorkItem) -> EventAccepted:
        return EventAccepted.model_validate(work.answer or _answer(work))


def _outcome(work: WorkItem) -> Outcome:
    if work.state is WorkState.DONE:
        return Outcome.TRIGGERED if work.executions else Outcome.IGNORED
    return OUTCOME_BY_STATE[work.state]


def _answer(work: WorkItem) -> dict[str, Any]:
    decision = work.decision
    reason = work.reason if work.state in (WorkState.HELD, WorkState.FAILED, WorkState.BATCHED) else None
    reason = reason or (decision.reason if decision else None)
    return EventAccepted(
        decision_id=work.decision_id or "",
        action=decision.action if decision else DecisionAction.REVIEW,
        workflow=work.calls[0].workflow if work.calls else (decision.first_workflow if decision else None),
        execution_id=work.executions[0].execution_id if work.executions else None,
        # The reason may quote the event (a model's words): masked like the audit trail.
        reason=mask_text(reason) if reason else None,
        brain=decision.brain if decision else None,
        review_id=work.review_id,
        status=work.state.value,
        work_id=work.work_id,
    ).model_dump(mode="json")


def _situation(document: dict[str, Any], context: CustomerContext | None) -> Any:
    from tray_agent.domain.agent.llm import Situation

    customer_id = document.get("customer_id")
    return Situation(
        kind="event",
        summary=f"{document.get('type')} from {document.get('source')}"
        + (f" for customer {customer_id}" if customer_id else ""),
        data={
            "type": document.get("type"),
            "occurred_at": str(document.get("occurred_at")),
            "data": redact(document.get("data", {})),
        },
        context=context.brief() if context else {},
        customer_id=customer_id,
    )
