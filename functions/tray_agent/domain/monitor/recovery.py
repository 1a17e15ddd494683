"""Acting on one failed execution: retry, fix and retry, split, escalate, ask, or hand to a person.

Every action is idempotent: a retry carries ``monitor:<root>:<attempt>`` as its idempotency
key, so the same decision repeated (two ticks, a crash and resume) returns Tray's first retry
instead of starting another; the decision's id derives from the failed execution's id, so
its audit record is written once and overwritten, never duplicated.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from tray_agent.config import Settings
from tray_agent.data.decisions import DecisionsRepository
from tray_agent.data.lessons import LessonsRepository
from tray_agent.data.monitor import MonitorRepository
from tray_agent.domain.monitor.advisor import Advisor
from tray_agent.domain.monitor.alerts import Alerter
from tray_agent.domain.monitor.scan import monitor_key
from tray_agent.domain.picklists import PicklistSource, best_match
from tray_agent.domain.reviews import ReviewService
from tray_agent.errors import NotFoundError
from tray_agent.models.decisions import (
    Decision,
    DecisionAction,
    DecisionRecord,
    ExecutionRef,
    Outcome,
    WorkflowCall,
)
from tray_agent.models.monitor import Alert, AlertKind, FailureClass, Recovery, RecoveryAction, WorkItem
from tray_agent.models.reviews import ReviewKind
from tray_agent.models.work import IncidentKind
from tray_agent.observability import logger
from tray_agent.tray import Execution, TrayClients, TrayError

DECISION_NAMESPACE = uuid.UUID("6f1c9d2e-7a3b-4e51-9c0d-2b8e4f6a1d37")
MAX_RECORD_LISTS = 3  # how many lists in an input are considered for chunking


def decision_id_for(execution_id: str) -> str:
    return str(uuid.uuid5(DECISION_NAMESPACE, f"recovery:{execution_id}"))


def review_id_for(execution_id: str) -> str:
    return str(uuid.uuid5(DECISION_NAMESPACE, f"review:{execution_id}"))


@dataclass
class Retried:
    executions: list[Execution]
    modified_input: dict[str, Any] | None = None


class FailedRunHolder(Protocol):
    """The work ledger's side (domain/agent/service.py FailedRunHolds)."""

    def hold(self, **failed_run: Any) -> tuple[str, bool]: ...


class Recoverer:
    def __init__(
        self,
        *,
        settings: Settings,
        repository: MonitorRepository,
        tray: TrayClients,
        decisions: DecisionsRepository,
        alerter: Alerter,
        reviews: ReviewService,
        advisor: Advisor,
        holds: FailedRunHolder | None = None,
        lessons: LessonsRepository | None = None,
        picklists: PicklistSource | None = None,
    ) -> None:
        self._settings = settings
        self._repository = repository
        self._tray = tray
        self._decisions = decisions
        self._alerter = alerter
        self._reviews = reviews
        self._advisor = advisor
        self._holds = holds
        self._lessons = lessons
        self._picklists = picklists or PicklistSource(tray, settings)

    # -- the table's actions --------------------------------------------------------------------
    def recover(self, item: WorkItem, now: datetime) -> Recovery:
        """Act on a due work item. The caller deletes the item when this returns."""
        failure = item.classification.failure_class
        if failure in (FailureClass.AUTH, FailureClass.DISABLED):
            return self._escalate(item, now)
        if item.attempt >= self._settings.monitor_max_retries:
            return self._review(
                item, now, f"{item.attempt} retries did not fix it: {item.classification.reason}"
            )
        if failure in (FailureClass.RATE_LIMITED, FailureClass.TRANSIENT, FailureClass.OUTAGE):
            return self._retry(item, now, RecoveryAction.RETRIED, f"retried: {item.classification.reason}")
        if failure is FailureClass.DATA_MISMATCH:
            return self._fix_data(item, now)
        if failure is FailureClass.PAYLOAD_TOO_LARGE:
            return self._chunk(item, now)
        return self._ask(item, now)

    def give_up(self, item: WorkItem, now: datetime, reason: str) -> Recovery:
        return self._review(item, now, reason)

    def retry(self, item: WorkItem, now: datetime, action: RecoveryAction, detail: str) -> Recovery:
        return self._retry(item, now, action, detail)

    # -- retry ------------------------------------------------------------------------------------
    def _retry(
        self,
        item: WorkItem,
        now: datetime,
        action: RecoveryAction,
        detail: str,
        *,
        modified_input: dict[str, Any] | None = None,
        rule_suffix: str = "",
    ) -> Recovery:
        key = monitor_key(item.root_id, item.attempt + 1)
        execution = self._retry_once(item, now, key, modified_input)
        decision = Decision(
            action=DecisionAction.TRIGGER if modified_input is None else DecisionAction.TRANSFORM_AND_TRIGGER,
            calls=[WorkflowCall(workflow=item.workflow_name, input=modified_input or {})],
            reason=detail,
            rule=f"monitor.{item.classification.failure_class.value}{rule_suffix}",
        )
        return self._record(
            item,
            now,
            decision,
            outcome=Outcome.TRIGGERED,
            action=action,
            detail=detail,
            executions=[execution],
        )

    def _retry_once(
        self, item: WorkItem, now: datetime, key: str, modified_input: dict[str, Any] | None
    ) -> Execution:
        """Retry ``item`` under ``key`` at most once, whatever ticks meet it again.

        Tray does not deduplicate retries: the intent is claimed first and the retry's execution
        is written on the claim, so a tick that meets the same failure again (a lost checkpoint, a
        crash before the decision was written) records that retry instead of sending another; a
        claim without a result is looked for in Tray before anything is sent.
        """
        claim = f"retry#{key}"
        claimed = self._repository.claim_escalation(claim, now)
        done = (
            None
            if claimed
            else self._repository.claim_result(claim) or self._find_retry(item, modified_input)
        )
        if done is not None:
            self._repository.record_claim_result(claim, done)
            return self._tray.workflows.get_execution(done)
        try:
            execution = self._tray.workflows.retry_execution(
                item.execution_id, modified_input=modified_input, idempotency_key=key
            )
        except TrayError as exc:
            if not exc.outcome_unknown:  # Tray surely did not retry: the next tick may try again
                self._repository.release_claim(claim)
            raise
        self._repository.record_claim_result(claim, execution.id)
        return execution

    def _find_retry(self, item: WorkItem, modified_input: dict[str, Any] | None) -> str | None:
        """The retry an earlier tick sent for ``item`` (its outcome was never recorded), if Tray has one."""
        for execution in self._tray.workflows.list_executions(
            since=item.failed_at, workflow_id=item.workflow_id
        ):
            if execution.retry_of == item.execution_id and (
                modified_input is None or execution.input == modified_input
            ):
                return execution.id
        return None

    def _fix_data(self, item: WorkItem, now: datetime) -> Recovery:
        cls = item.classification
        if not cls.field or cls.value is None:
            return self._ask(item, now)
        mapped = self._repository.mapping(cls.field, cls.value)
        learnt = mapped is not None
        if mapped is None:
            valid = self._valid_values(cls.field)
            mapped = best_match(cls.value, valid)
            if mapped is None:
                return self._ask(item, now, f"{cls.value!r} matches none of {cls.field}'s values")
        original = self._tray.workflows.get_execution(item.execution_id).input
        keys = [key for key, value in original.items() if value == cls.value]
        if not keys:
            return self._ask(item, now, f"no input field holds {cls.value!r}")
        modified = {**original, **dict.fromkeys(keys, mapped)}
        if not learnt:
            self._repository.remember_mapping(cls.field, cls.value, mapped, learnt_at=now)
        self._teach(item.workflow_name, keys, field=cls.field, value=cls.value, mapped=mapped, now=now)
        detail = (
            f"{cls.field}: {cls.value!r} is not a valid value; mapped to {mapped!r} "
            f"({'remembered mapping' if learnt else 'from Salesforce metadata, remembered'}) and retried"
        )
        return self._retry(
            item,
            now,
            RecoveryAction.RETRIED_MODIFIED,
            detail,
            modified_input=modified,
            rule_suffix=".remembered" if learnt else "",
        )

    def _valid_values(self, field: str) -> list[str]:
        return self._picklists.values("salesforce", field) or []

    def _teach(
        self, workflow: str, keys: list[str], *, field: str, value: str, mapped: str, now: datetime
    ) -> None:
        """Tell the work engine, so the next run of ``workflow`` is fixed before its trigger."""
        if self._lessons is None:
            return
        for key in keys:
            self._lessons.remember_fix(workflow, key, value, mapped, source="monitor", at=now)
            self._lessons.remember_picklist(workflow, key, f"salesforce:{field}", at=now)

    def _chunk(self, item: WorkItem, now: datetime) -> Recovery:
        original = self._tray.workflows.get_execution(item.execution_id).input
        field = largest_list(original)
        size = self._settings.monitor_chunk_size
        if field is None or len(original[field]) <= size:
            return self._ask(item, now, "no list of records in the input to split")
        records: list[Any] = original[field]
        executions: list[Execution] = []
        calls: list[WorkflowCall] = []
        for index, start in enumerate(range(0, len(records), size)):
            chunk = {**original, field: records[start : start + size]}
            key = monitor_key(item.root_id, item.attempt + 1, index)
            executions.append(self._retry_once(item, now, key, chunk))
            calls.append(
                WorkflowCall(
                    workflow=item.workflow_name, input={"chunk": index, "records": len(chunk[field])}
                )
            )
        detail = f"split {len(records)} {field} into {len(executions)} chunks of up to {size} and ran each"
        decision = Decision(
            action=DecisionAction.CHAIN, calls=calls, reason=detail, rule="monitor.payload_too_large"
        )
        return self._record(
            item,
            now,
            decision,
            outcome=Outcome.TRIGGERED,
            action=RecoveryAction.CHUNKED,
            detail=detail,
            executions=executions,
        )

    # -- not retried now: held until the cause is fixed ---------------------------------------------
    def _escalate(self, item: WorkItem, now: datetime) -> Recovery:
        cls = item.classification
        subject = cls.auth_name or cls.service or "workflow"
        key = f"{cls.failure_class.value}:{item.workflow_id}:{subject}"
        if self._holds is not None:
            # Retrying now would fail the same way; dropping it would lose the work. It waits in
            # the ledger behind an incident (escalated once per incident) and is retried once
            # when the login is fixed or the workflow enabled again.
            if cls.failure_class is FailureClass.AUTH:
                incident = (
                    IncidentKind.AUTH,
                    f"auth:{item.workflow_name}",
                    f"the authentication {subject} has expired",
                )
            else:
                incident = (
                    IncidentKind.WORKFLOW,
                    f"workflow:{item.workflow_name}",
                    f"workflow {item.workflow_name} is disabled",
                )
            incident_id, first = self._holds.hold(
                root_id=item.root_id,
                execution_id=item.execution_id,
                workflow=item.workflow_name,
                workflow_id=item.workflow_id,
                decision_id=decision_id_for(item.execution_id),
                incident=incident,
            )
            key = incident_id
        else:
            first = self._repository.claim_escalation(key, now)
        if first:
            fix = (
                f"re-connect authentication {subject!r}"
                if cls.failure_class is FailureClass.AUTH
                else "enable the workflow"
            )
            self._alerter.send(
                Alert(
                    kind=AlertKind.ESCALATION,
                    key=key,
                    severity="critical",
                    title=f"[engineering] {item.workflow_name}: {cls.reason}",
                    details={
                        "workflow": item.workflow_name,
                        "workflow_id": item.workflow_id,
                        "execution_id": item.execution_id,
                        "failure_class": cls.failure_class.value,
                        "auth": cls.auth_name,
                        "action_needed": f"{fix} in Tray; "
                        + (
                            "the held run is retried once it works again"
                            if self._holds is not None
                            else "the monitor does not retry this"
                        ),
                    },
                )
            )
        detail = ("escalated to engineering" if first else "already escalated") + f": {cls.reason}"
        if self._holds is not None:  # the ledger recorded it (and its decision): nothing is dropped
            return Recovery(
                execution_id=item.execution_id,
                root_id=item.root_id,
                workflow_name=item.workflow_name,
                failure_class=cls.failure_class,
                action=RecoveryAction.HELD,
                detail=f"held behind {key}; {detail}",
                decision_id=decision_id_for(item.execution_id),
            )
        decision = Decision(
            action=DecisionAction.IGNORE,
            reason=f"not retried; {detail}",
            rule=f"monitor.{cls.failure_class.value}",
        )
        action = RecoveryAction.ESCALATED if first else RecoveryAction.SKIPPED
        return self._record(
            item, now, decision, outcome=Outcome.IGNORED, action=action, detail=detail, executions=[]
        )

    def _ask(self, item: WorkItem, now: datetime, why: str | None = None) -> Recovery:
        """Seed 000's loop: the agent gets the failure's logs with the workflow's context."""
        reason = why or item.classification.reason
        execution = self._tray.workflows.get_execution(item.execution_id)
        failing = [step for step in execution.steps if step.status == "failed"]
        health = self._repository.health().get(item.workflow_id)
        decision = self._advisor.decide(
            f"{item.workflow_name} execution {item.execution_id} failed: {reason}",
            {
                "execution_id": item.execution_id,
                "workflow": item.workflow_name,
                "error_code": item.classification.code,
                "error": item.classification.reason,
                "failure_class": item.classification.failure_class.value,
                "failed_step": failing[0].name if failing else None,
                "logs": (failing[0].logs if failing else [])[-20:],
                "attempt": item.attempt,
            },
            {
                "failure_count_today": health.day_failures if health else None,
                "runs_today": health.day_runs if health else None,
                "last_success": health.last_success_at.isoformat()
                if health and health.last_success_at
                else None,
                "caused_by_event": item.caused_by_event,
            },
        )
        if decision is not None and decision.action in (
            DecisionAction.TRIGGER,
            DecisionAction.TRANSFORM_AND_TRIGGER,
        ):
            modified = decision.calls[0].input if decision.calls and decision.calls[0].input else None
            action = RecoveryAction.RETRIED if modified is None else RecoveryAction.RETRIED_MODIFIED
            return self._retry(
                item,
                now,
                action,
                f"the agent chose to retry: {decision.reason}",
                modified_input=modified,
                rule_suffix=".agent",
            )
        if decision is not None and decision.action is DecisionAction.IGNORE:
            return self._record(
                item,
                now,
                decision,
                outcome=Outcome.IGNORED,
                action=RecoveryAction.SKIPPED,
                detail=decision.reason,
                executions=[],
            )
        return self._review(item, now, decision.reason if decision is not None else reason, execution)

    def _review(
        self, item: WorkItem, now: datetime, reason: str, execution: Execution | None = None
    ) -> Recovery:
        review_id = review_id_for(item.execution_id)
        decision_id = decision_id_for(item.execution_id)
        try:
            self._reviews.get(review_id)
        except NotFoundError:
            original = execution or self._tray.workflows.get_execution(item.execution_id)
            self._reviews.file(
                kind=ReviewKind.RECOVERY,
                title=f"{item.workflow_name}: failed execution needs a decision",
                reason=reason,
                findings=[item.classification.reason, f"{item.attempt} automatic retries so far"],
                payload={
                    "execution_id": item.execution_id,
                    "root_id": item.root_id,
                    "workflow": item.workflow_name,
                    "failure_class": item.classification.failure_class.value,
                    "input": original.input,
                },
                decision_id=decision_id,
                review_id=review_id,
            )
        decision = Decision(
            action=DecisionAction.REVIEW,
            reason=reason,
            rule=f"monitor.{item.classification.failure_class.value}",
        )
        return self._record(
            item,
            now,
            decision,
            outcome=Outcome.IN_REVIEW,
            action=RecoveryAction.REVIEW,
            detail=reason,
            executions=[],
        )

    # -- the audit trail ----------------------------------------------------------------------------
    def _record(
        self,
        item: WorkItem,
        now: datetime,
        decision: Decision,
        *,
        outcome: Outcome,
        action: RecoveryAction,
        detail: str,
        executions: list[Execution],
    ) -> Recovery:
        decision_id = decision_id_for(item.execution_id)
        self._decisions.put(
            DecisionRecord(
                decision_id=decision_id,
                event_id=item.caused_by_event or f"tray-execution:{item.root_id}",
                event_type="execution_failure",
                source="tray-monitor",
                created_at=now,
                decision=decision,
                outcome=outcome,
                executions=[
                    ExecutionRef(workflow=item.workflow_name, execution_id=e.id, status_code=200)
                    for e in executions
                ],
            )
        )
        logger.info(
            "recovery",
            execution_id=item.execution_id,
            root_id=item.root_id,
            workflow=item.workflow_name,
            failure_class=item.classification.failure_class.value,
            action=action.value,
            attempt=item.attempt,
            decision_id=decision_id,
            caused_by_event=item.caused_by_event,
        )
        return Recovery(
            execution_id=item.execution_id,
            root_id=item.root_id,
            workflow_name=item.workflow_name,
            failure_class=item.classification.failure_class,
            action=action,
            detail=detail,
            decision_id=decision_id,
            new_execution_ids=[e.id for e in executions],
        )


def largest_list(document: dict[str, Any]) -> str | None:
    lists = [(len(v), k) for k, v in document.items() if isinstance(v, list)]
    return max(lists)[1] if lists else None
