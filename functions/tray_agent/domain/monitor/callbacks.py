"""Failure callbacks: one failed execution, reported by Tray's alerting workflow, recovered at once.

The same classification (``scan.work_item_for`` → ``classify``) and the same ``Recoverer`` as
the tick; only the trigger differs. A failure reaches us twice (the callback and the tick's
scan) and may be delivered twice: whoever claims it first in the monitor table (``FAILURE /
<execution id>``) handles it, the other leaves it alone. Below that, every action is idempotent
as for the tick (retries claimed before sending, decisions keyed by execution, held runs keyed
by root execution in the work ledger, reviews keyed by execution).

Intent first: after the claim, the failure's work item is written to the tick's recovery queue
before anything is sent, and deleted only after its recovery is recorded. A callback that dies
half-way leaves the item for the tick (the safety net), which also takes over a claim whose
callback never finished (``work_lease_s``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from tray_agent import clock
from tray_agent.clock import utc_now
from tray_agent.config import Settings
from tray_agent.data.monitor import MonitorRepository
from tray_agent.domain.monitor.recovery import Recoverer, decision_id_for
from tray_agent.domain.monitor.scan import is_bulk_run, work_item_for
from tray_agent.domain.monitor.summary import SummarySink
from tray_agent.errors import NotFoundError
from tray_agent.models.callbacks import CallbackAnswer, TrayFailureCallback
from tray_agent.models.monitor import FailureClass, RecoveryAction, WorkItem
from tray_agent.observability import logger, metrics
from tray_agent.tray import (
    Execution,
    ExecutionError,
    ExecutionStep,
    TrayClients,
    TrayError,
    TrayNotFoundError,
    TrayUnauthorizedError,
)

CALLBACK, TICK = "callback", "tick"
# Failure classes the tick holds while their service's circuit is open (service.py RETRYABLE).
_HELD_BY_CIRCUITS = {FailureClass.TRANSIENT, FailureClass.RATE_LIMITED, FailureClass.OUTAGE}


class FailureCallbacks:
    def __init__(
        self,
        *,
        settings: Settings,
        repository: MonitorRepository,
        tray: TrayClients,
        recoverer: Recoverer,
        summary: SummarySink,
    ) -> None:
        self._settings = settings
        self._repository = repository
        self._tray = tray
        self._recoverer = recoverer
        self._summary = summary

    def handle(
        self,
        callback: TrayFailureCallback,
        now: datetime,
        remaining_ms: Callable[[], int] | None = None,
    ) -> CallbackAnswer:
        """``remaining_ms``: the invocation's time left (the Lambda context's), which bounds how long
        a short Retry-After is waited for here."""
        execution = self._execution(callback)
        if execution.status != "failed":
            return CallbackAnswer(
                execution_id=execution.id,
                workflow=execution.workflow_name,
                action="not_failed",
                detail=f"Tray's record says the execution is {execution.status}",
            )
        name = execution.workflow_name or callback.workflow_name or execution.workflow_id
        if is_bulk_run(execution):  # the batcher retries each of its items alone (issue 9)
            return CallbackAnswer(
                execution_id=execution.id,
                workflow=name,
                action="left_to_batcher",
                detail="a batch's bulk run",
            )
        item = work_item_for(execution, name, backoff_base_s=self._settings.monitor_backoff_base_s)
        stale = now - timedelta(seconds=self._settings.work_lease_s)
        if not self._repository.claim_failure(
            item.execution_id, CALLBACK, now, resume_own=False, stale_owner=CALLBACK, stale_before=stale
        ):
            return self._already_handled(item)
        self._repository.save_work(item)  # intent first: the tick finishes what a crash leaves
        answer = self._act(item, now, self._wait_allowed_s(remaining_ms))
        self._repository.finish_failure(item.execution_id, answer)
        metrics.add_metric(name=f"CallbackRecovery_{answer.action}", unit="Count", value=1)
        logger.info(
            "failure callback",
            execution_id=item.execution_id,
            root_id=item.root_id,
            workflow=item.workflow_name,
            failure_class=item.classification.failure_class.value,
            action=answer.action,
        )
        return answer

    # -- the failure ------------------------------------------------------------------------------
    def _execution(self, callback: TrayFailureCallback) -> Execution:
        """Tray's own record of the run (steps, logs, idempotency key: what the tick classifies);
        the callback's fields when Tray cannot be read now."""
        try:
            return self._tray.workflows.get_execution(callback.execution_id)
        except TrayNotFoundError:
            raise NotFoundError(f"Tray has no execution {callback.execution_id!r}") from None
        except TrayUnauthorizedError:
            raise  # our own Tray token is refused: nothing can be recovered, say so
        except TrayError as exc:
            logger.warning(
                "execution not readable; classified from the callback",
                execution_id=callback.execution_id,
                code=exc.code,
            )
            return from_callback(callback)

    def _wait_allowed_s(self, remaining_ms: Callable[[], int] | None) -> float:
        """How long this invocation may still wait for a retry to fall due: the configured maximum,
        less what the recovery itself needs (a Tray call or two) before the invocation times out.
        A wait that does not fit is left to the tick, never cut short by the timeout."""
        allowed = self._settings.callback_wait_max_s
        if remaining_ms is not None:
            reserve_s = 2 * self._settings.tray_timeout_s + 1.0
            allowed = min(allowed, remaining_ms() / 1000.0 - reserve_s)
        return max(allowed, 0.0)

    def _act(self, item: WorkItem, now: datetime, wait_allowed_s: float) -> CallbackAnswer:
        cls = item.classification
        if cls.failure_class in _HELD_BY_CIRCUITS and cls.service in self._repository.circuits():
            return self._queued(item, RecoveryAction.HELD, f"{cls.service} circuit open; the tick probes it")
        if item.due_at > now:
            wait_s = (item.due_at - now).total_seconds()
            if wait_s > wait_allowed_s:
                return self._queued(item, RecoveryAction.DEFERRED, f"due at {item.due_at.isoformat()}")
            # A short pause the service asked for (Retry-After): waited here, so the fix lands
            # seconds after it is allowed, not at the next tick minutes later.
            clock.sleep(wait_s)
            now = item.due_at
        if cls.failure_class not in (FailureClass.AUTH, FailureClass.DISABLED) and not self._budget(
            item, now
        ):
            # The task-credit guard the tick applies per workflow, per tick interval: a burst of
            # failures (an outage before its circuit opens) is not retried all at once.
            return self._queued(
                item, RecoveryAction.DEFERRED, "the workflow's retry budget for this interval is spent"
            )
        try:
            recovery = self._recoverer.recover(item, now)
        except TrayUnauthorizedError:
            raise  # stays queued (intent first); the claim goes stale and the tick takes it over
        except TrayError as exc:
            # Tray refused the recovery call itself: the tick tries again, as for its own failures.
            retry_at = now + timedelta(seconds=self._settings.monitor_backoff_base_s)
            self._repository.save_work(
                item.model_copy(update={"errors": item.errors + 1, "due_at": retry_at})
            )
            return self._answer(item, RecoveryAction.FAILED, f"{exc.code}: {exc.message}", due_at=retry_at)
        self._repository.done(item.root_id)
        plain = recovery.action is RecoveryAction.RETRIED
        self._summary.record(item.workflow_name, recovery.action.value, None if plain else recovery.detail)
        return self._answer(
            item,
            recovery.action,
            recovery.detail,
            decision_id=recovery.decision_id,
            new_execution_ids=recovery.new_execution_ids,
        )

    def _budget(self, item: WorkItem, now: datetime) -> bool:
        interval = max(int(self._settings.monitor_tick_s), 1)
        start = int(now.timestamp()) // interval * interval
        return self._repository.spend_budget(
            item.workflow_id,
            start,
            self._settings.monitor_max_retries_per_workflow,
            expires_at=start + 2 * interval,
        )

    def _queued(self, item: WorkItem, action: RecoveryAction, detail: str) -> CallbackAnswer:
        """Due later: it waits in the tick's recovery queue (already written), exactly as the tick's own."""
        return self._answer(item, action, detail, due_at=item.due_at)

    def _already_handled(self, item: WorkItem) -> CallbackAnswer:
        claim = self._repository.failure_claim(item.execution_id)
        if claim is not None and claim[1] is not None:
            earlier = CallbackAnswer.model_validate_json(claim[1])  # the first callback's answer
            return earlier.model_copy(update={"action": "already_handled", "detail": earlier.action})
        owner = claim[0] if claim else TICK
        queued = self._repository.get_work(item.root_id)
        detail = (
            f"queued for the tick, due {queued.due_at.isoformat()}"
            if queued is not None and queued.execution_id == item.execution_id
            else ("being handled" if owner == CALLBACK else "handled by the monitor's tick")
        )
        return self._answer(
            item,
            "already_handled",
            detail,
            handled_by=owner,
            decision_id=decision_id_for(item.execution_id),
        )

    @staticmethod
    def _answer(
        item: WorkItem,
        action: RecoveryAction | str,
        detail: str,
        *,
        handled_by: str = CALLBACK,
        decision_id: str | None = None,
        new_execution_ids: list[str] | None = None,
        due_at: datetime | None = None,
    ) -> CallbackAnswer:
        return CallbackAnswer(
            execution_id=item.execution_id,
            root_id=item.root_id,
            workflow=item.workflow_name,
            failure_class=item.classification.failure_class.value,
            reason=item.classification.reason,
            action=str(action),
            detail=detail,
            handled_by=handled_by,
            decision_id=decision_id,
            new_execution_ids=new_execution_ids or [],
            due_at=due_at,
        )


def claimed_by_tick(
    repository: MonitorRepository, items: list[WorkItem], now: datetime, *, stale_s: float
) -> list[WorkItem]:
    """The tick's scanned failures that are its to recover: those no callback has (or had) in hand.

    A page read again after a crash finds its own claims and queues them again (unchanged);
    a callback that claimed a failure and never finished is taken over once its claim is stale.
    """
    stale = now - timedelta(seconds=stale_s)
    return [
        item
        for item in items
        if repository.claim_failure(
            item.execution_id, TICK, now, resume_own=True, stale_owner=CALLBACK, stale_before=stale
        )
    ]


def from_callback(callback: TrayFailureCallback) -> Execution:
    """The failed execution as the callback describes it (Tray's record is unreadable now)."""
    step = callback.step
    error = ExecutionError(
        code=callback.error.code,
        message=callback.error.message,
        step=step.name if step else None,
        connector=step.connector if step else None,
        service_code=callback.error.service_code,
        retry_after_s=callback.error.retry_after_s,
    )
    failed_at = callback.failed_at or utc_now()
    return Execution(
        id=callback.execution_id,
        workflow_id=callback.workflow_id,
        workflow_name=callback.workflow_name,
        status="failed",
        error=error,
        steps=[ExecutionStep(name=step.name, connector=step.connector, status="failed", error=error)]
        if step
        else [],
        created_at=failed_at,
        finished_at=failed_at,
    )


def build_failure_callbacks(settings: Settings) -> FailureCallbacks:
    from tray_agent.domain.monitor.service import build_monitor_service

    monitor = build_monitor_service(settings)
    return FailureCallbacks(
        settings=settings,
        repository=monitor.repository,
        tray=monitor.tray,
        recoverer=monitor.recoverer,
        summary=monitor.summary,
    )
