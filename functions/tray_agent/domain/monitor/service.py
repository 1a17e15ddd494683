"""One monitor tick: lease, scan the window page by page, assess health, recover, release.

Crash safety, step by step:

- the lease (a conditional write) keeps a slow tick and the next one from overlapping;
- the scan checkpoints after every page (Tray's cursor and the counts so far, in one write,
  after the page's work items): a tick that dies re-reads at most that page, counts nothing
  twice and loses nothing;
- a health bucket is keyed by its window, so committing a window twice changes nothing;
- a work item is deleted only after its recovery is done and recorded; a recovery repeated
  after a crash reuses the same Tray idempotency key and decision id.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from tray_agent.clock import utc_now
from tray_agent.config import Settings
from tray_agent.data.monitor import MonitorRepository
from tray_agent.domain.monitor.alerts import Alerter
from tray_agent.domain.monitor.callbacks import claimed_by_tick
from tray_agent.domain.monitor.recovery import Recoverer
from tray_agent.domain.monitor.scan import count_finished, count_page
from tray_agent.domain.monitor.summary import SummarySink
from tray_agent.models.monitor import (
    Alert,
    AlertKind,
    Checkpoint,
    Circuit,
    FailureClass,
    Recovery,
    RecoveryAction,
    TickReport,
    WorkflowHealth,
    WorkItem,
)
from tray_agent.observability import logger, metrics, tracer, workflow_metric
from tray_agent.tray import TrayClients, TrayError, TrayUnauthorizedError

HOUR_MS = 3600 * 1000
DAY_MS = 24 * HOUR_MS
RETRYABLE = {FailureClass.TRANSIENT, FailureClass.RATE_LIMITED, FailureClass.OUTAGE}
PROBE_POLL_S = 1.0
# Stop starting new pages when the Lambda has less than this left; the next tick resumes.
SAFETY_MARGIN_MS = 60_000


class MonitorService:
    def __init__(
        self,
        *,
        settings: Settings,
        repository: MonitorRepository,
        tray: TrayClients,
        recoverer: Recoverer,
        alerter: Alerter,
        summary: SummarySink,
        successes: Callable[[dict[str, datetime]], None] | None = None,
    ) -> None:
        self._settings = settings
        self._repository = repository
        self._tray = tray
        self._recoverer = recoverer
        self._alerter = alerter
        self._summary = summary
        # Runs seen succeeding close the ledger's incidents for their auth or workflow.
        self._successes = successes

    # The callback path (domain/monitor/callbacks.py) recovers with the very same parts.
    @property
    def repository(self) -> MonitorRepository:
        return self._repository

    @property
    def tray(self) -> TrayClients:
        return self._tray

    @property
    def recoverer(self) -> Recoverer:
        return self._recoverer

    @property
    def summary(self) -> SummarySink:
        return self._summary

    @tracer.capture_method
    def tick(self, now: datetime, *, remaining_ms: Callable[[], int] | None = None) -> TickReport:
        owner = str(uuid.uuid4())
        if not self._repository.acquire_lease(owner, utc_now(), self._settings.monitor_lease_s):
            logger.info("monitor tick skipped: another tick holds the lease")
            return TickReport(status="skipped")
        try:
            report = TickReport()
            checkpoint = self._window(now)
            report.since, report.until = checkpoint.since, checkpoint.until
            opened: set[str] = set()
            if not checkpoint.scanned:
                if not self._scan(checkpoint, now, report, remaining_ms):
                    report.status = "partial"
                    return report
                opened = self._assess(checkpoint, now, report)
            self._recover(now, report, opened, remaining_ms)
            report.open_circuits = sorted(self._repository.circuits())
            return report
        finally:
            self._repository.release_lease(owner)

    # -- the window -------------------------------------------------------------------------------
    def _window(self, now: datetime) -> Checkpoint:
        """Resume an unfinished window, else open the next one: from the last end to now.

        A window never ends in the future (a late or replayed event, a test's clock): runs the
        monitor starts after reading it are read by the next window, whatever the event says.
        """
        checkpoint = self._repository.load_checkpoint()
        if checkpoint is not None and not checkpoint.scanned:
            logger.info(
                "monitor resumes a window", since=checkpoint.since.isoformat(), pages=checkpoint.pages
            )
            return checkpoint
        until = min(now, utc_now())
        since = checkpoint.until if checkpoint else until - timedelta(seconds=self._settings.monitor_tick_s)
        if since >= until:  # no time has passed since the last window (a repeated event)
            return Checkpoint(since=since, until=since, scanned=True)
        checkpoint = Checkpoint(since=since, until=until)
        self._check_running(checkpoint)
        self._repository.save_checkpoint(checkpoint)
        return checkpoint

    def _check_running(self, checkpoint: Checkpoint) -> None:
        """Executions still running when an earlier window was read: counted once they finish."""
        limit = self._settings.monitor_running_checks_per_tick
        finished: list[str] = []
        work: list[WorkItem] = []
        for execution_id in self._repository.running(limit):
            execution = self._tray.workflows.get_execution(execution_id)
            if execution.status == "running":
                continue
            item = count_finished(checkpoint, execution, backoff_base_s=self._settings.monitor_backoff_base_s)
            if item is not None:
                work.append(item)
            finished.append(execution_id)
        self._repository.put_work(self._unclaimed(work))
        for execution_id in finished:
            self._repository.running_done(execution_id)

    def _scan(
        self,
        checkpoint: Checkpoint,
        now: datetime,
        report: TickReport,
        remaining_ms: Callable[[], int] | None,
    ) -> bool:
        """Read the window to its end; False when stopped early for time (the checkpoint resumes)."""
        while True:
            if remaining_ms is not None and remaining_ms() < SAFETY_MARGIN_MS:
                logger.warning("monitor stops scanning for time", pages=checkpoint.pages)
                return False
            page = self._tray.workflows.list_executions_page(
                since=checkpoint.since,
                until=checkpoint.until,
                page_size=self._settings.monitor_page_size,
                cursor=checkpoint.page_cursor,
            )
            work, running = count_page(
                checkpoint, page.items, backoff_base_s=self._settings.monitor_backoff_base_s
            )
            self._repository.put_work(self._unclaimed(work))
            self._repository.put_running(running, now)
            checkpoint.pages += 1
            checkpoint.page_cursor = page.next_cursor
            self._repository.save_checkpoint(checkpoint)
            if not page.next_cursor:
                report.pages, report.executions = checkpoint.pages, checkpoint.executions
                report.failures = sum(c.failures for c in checkpoint.counts.values())
                return True

    def _unclaimed(self, work: list[WorkItem]) -> list[WorkItem]:
        """Failures a callback already has in hand are its own: queued or recovered once, not twice.
        (Claims are stamped with the wall clock, like the lease: a tick's event time may be replayed.)"""
        return claimed_by_tick(self._repository, work, utc_now(), stale_s=self._settings.work_lease_s)

    # -- health, alerts, circuits -------------------------------------------------------------------
    def _assess(self, checkpoint: Checkpoint, now: datetime, report: TickReport) -> set[str]:
        end = int(checkpoint.until.timestamp() * 1000)  # ticks may be under a second apart
        healths = self._repository.health()
        for workflow_id in set(healths) | set(checkpoint.counts):
            counts = checkpoint.counts.get(workflow_id)
            health = healths.get(workflow_id) or WorkflowHealth(
                workflow_id=workflow_id, workflow_name=counts.workflow_name if counts else workflow_id
            )
            runs, failures = (counts.runs, counts.failures) if counts else (0, 0)
            buckets = [b for b in health.buckets if b[0] != end and b[0] > end - DAY_MS]
            buckets.append((end, runs, failures))
            health.buckets = sorted(buckets)
            health.tick_runs, health.tick_failures = runs, failures
            health.hour_runs = sum(b[1] for b in health.buckets if b[0] > end - HOUR_MS)
            health.hour_failures = sum(b[2] for b in health.buckets if b[0] > end - HOUR_MS)
            health.day_runs = sum(b[1] for b in health.buckets)
            health.day_failures = sum(b[2] for b in health.buckets)
            recovered = [b for b in health.recovered_buckets if b[0] != end and b[0] > end - DAY_MS]
            recovered.append((end, counts.recovered if counts else 0))
            health.recovered_buckets = sorted(recovered)
            health.hour_recovered = sum(b[1] for b in health.recovered_buckets if b[0] > end - HOUR_MS)
            health.day_recovered = sum(b[1] for b in health.recovered_buckets)
            escalated = [b for b in health.escalated_buckets if b[0] != end and b[0] > end - DAY_MS]
            escalated.append((end, counts.escalated if counts else 0))
            health.escalated_buckets = sorted(escalated)
            health.hour_escalated = sum(b[1] for b in health.escalated_buckets if b[0] > end - HOUR_MS)
            if (
                counts
                and counts.last_success_at
                and (health.last_success_at is None or counts.last_success_at > health.last_success_at)
            ):
                health.last_success_at = counts.last_success_at
            health.threshold = self._settings.monitor_threshold_for(health.workflow_name)
            health.updated_at = now
            self._alert_on(health, checkpoint, now, report)
            self._repository.put_health(health)
            self._summary.executions(health.workflow_name, runs - failures, failures)
            report.health.append(health)
            metrics.add_metric(name="MonitorExecutions", unit="Count", value=runs)
            metrics.add_metric(name="MonitorFailures", unit="Count", value=failures)
            if runs:  # the dashboard's runs and failures per workflow
                workflow_metric("TrayRuns", health.workflow_name, runs)
                workflow_metric("TrayFailures", health.workflow_name, failures)
        report.health.sort(key=lambda h: h.workflow_name)
        if self._successes is not None:
            seen = {
                counts.workflow_name: counts.last_success_at
                for counts in checkpoint.counts.values()
                if counts.last_success_at is not None
            }
            if seen:
                self._successes(seen)
        opened = self._open_circuits(checkpoint, now, report)
        checkpoint.scanned = True
        self._repository.save_checkpoint(checkpoint)
        logger.info(
            "monitor window assessed",
            since=checkpoint.since.isoformat(),
            until=checkpoint.until.isoformat(),
            pages=checkpoint.pages,
            executions=checkpoint.executions,
            failures=report.failures,
        )
        return opened

    def _alert_on(
        self, health: WorkflowHealth, checkpoint: Checkpoint, now: datetime, report: TickReport
    ) -> None:
        """One alert per incident, without flapping.

        Raised when the rolling hour crosses the threshold with enough runs to count. Cleared only
        when the rate has stayed at or below the threshold for ``monitor_alert_clear_after_s``
        with enough runs all along: an hour that merely has too few runs to judge, or one that
        is still above, never clears it. A workflow with no runs at all for a day is cleared.
        """
        enough = health.hour_runs >= self._settings.monitor_alert_min_runs
        # Failures already fixed by a retry are counted and summarised, but page no one.
        above = enough and health.paging_rate > health.threshold
        details = {
            "workflow": health.workflow_name,
            "failure_rate_hour": health.hour_rate,
            "failure_rate_tick": health.tick_rate,
            "failure_rate_day": health.day_rate,
            "runs_hour": health.hour_runs,
            "failures_hour": health.hour_failures,
            "recovered_hour": health.hour_recovered,
            "failure_rate_unrecovered_hour": health.paging_rate,
            "threshold": health.threshold,
            "last_success_at": health.last_success_at.isoformat() if health.last_success_at else None,
        }
        if above:
            health.below_since = None
        if above and not health.alert_open:
            health.alert_open = True
            health.incident_id = f"{health.workflow_id}:{int(checkpoint.until.timestamp())}"
            health.incident_opened_at = checkpoint.until
            alert = Alert(
                kind=AlertKind.RAISED,
                key=health.incident_id,
                severity="warning",
                title=f"{health.workflow_name}: {health.paging_rate:.0%} of runs failing unrecovered "
                f"(threshold {health.threshold:.0%})",
                details=details,
            )
        elif health.alert_open and not above and self._settled(health, now, enough):
            alert = Alert(
                kind=AlertKind.CLEARED,
                key=health.incident_id or health.workflow_id,
                severity="info",
                title=f"{health.workflow_name}: unrecovered failure rate back to {health.paging_rate:.0%}",
                details=details,
            )
            health.alert_open = False
            health.below_since = None
        else:
            return
        self._alerter.send(alert)
        self._summary.record(health.workflow_name, f"alert_{alert.kind.value}", alert.title)
        report.alerts.append(alert)

    def _settled(self, health: WorkflowHealth, at: datetime, enough: bool) -> bool:
        """Has an open alert's rate stayed below the threshold long enough (with enough runs)?"""
        if health.day_runs == 0:
            return True  # nothing ran for a day: nothing is failing
        if not enough:
            health.below_since = None  # too few runs to judge: the sustained period starts over
            return False
        if health.below_since is None:
            health.below_since = at
        return (at - health.below_since).total_seconds() >= self._settings.monitor_alert_clear_after_s

    def _open_circuits(self, checkpoint: Checkpoint, now: datetime, report: TickReport) -> set[str]:
        circuits = self._repository.circuits()
        opened: set[str] = set()
        for service, counts in checkpoint.services.items():
            if service in circuits or counts.server_errors < self._settings.monitor_outage_min_failures:
                continue
            if counts.server_errors / max(counts.calls, 1) < self._settings.monitor_outage_ratio:
                continue  # a share of failures (Clearbit's 15%) is a failure rate, not an outage
            reason = (
                f"{counts.server_errors} of {counts.calls} calls to {service} failed with server errors "
                f"({', '.join(sorted(counts.workflows))})"
            )
            self._repository.put_circuit(Circuit(service=service, opened_at=now, reason=reason))
            opened.add(service)
            alert = Alert(
                kind=AlertKind.CIRCUIT_OPENED,
                key=f"{service}:{int(checkpoint.until.timestamp())}",
                severity="critical",
                title=f"{service} outage: retries held until it recovers",
                details={"service": service, "reason": reason, "workflows": counts.workflows},
            )
            self._alerter.send(alert)
            report.alerts.append(alert)
        return opened

    # -- recovery -----------------------------------------------------------------------------------
    def _recover(
        self,
        now: datetime,
        report: TickReport,
        opened: set[str],
        remaining_ms: Callable[[], int] | None = None,
    ) -> None:
        work = sorted(self._repository.work(), key=lambda item: (item.failed_at, item.root_id))
        circuits = self._repository.circuits()
        per_workflow: dict[str, int] = {}
        cap = self._settings.monitor_max_retries_per_workflow
        # Half-open: each circuit opened before this tick gets one probe, a held retry.
        for service in sorted(set(circuits) - opened):
            probe = next((i for i in work if self._held_by(i, {service})), None)
            if probe is None:
                self._close(service, now, report, "no held work left")
                del circuits[service]
                continue
            if self._probe(probe, circuits[service], now, report):
                del circuits[service]
            per_workflow[probe.workflow_id] = per_workflow.get(probe.workflow_id, 0) + 1
            work.remove(probe)
        for item in work:
            if remaining_ms is not None and remaining_ms() < SAFETY_MARGIN_MS:
                logger.warning("monitor stops recovering for time; the queue waits for the next tick")
                break
            if self._held_by(item, set(circuits)):
                report.recoveries.append(
                    self._note(item, RecoveryAction.HELD, f"{item.classification.service} circuit open")
                )
                continue
            if item.due_at > now:
                continue
            spends = item.classification.failure_class not in (FailureClass.AUTH, FailureClass.DISABLED)
            if spends and per_workflow.get(item.workflow_id, 0) >= cap:
                continue  # the workflow's retry budget for this tick is spent: next tick
            try:
                recovery = self._recoverer.recover(item, now)
            except TrayUnauthorizedError:
                raise  # our own Tray token is refused: nothing else in this tick can work
            except TrayError as exc:
                report.recoveries.append(
                    self._note(item, RecoveryAction.FAILED, f"{exc.code}: {exc.message}")
                )
                self._recovery_failed(item, now, exc)
                continue
            if spends and recovery.new_execution_ids:
                per_workflow[item.workflow_id] = per_workflow.get(item.workflow_id, 0) + 1
            self._repository.done(item.root_id)
            plain = recovery.action is RecoveryAction.RETRIED  # counted; the rest also get a note
            self._summary.record(
                item.workflow_name, recovery.action.value, None if plain else recovery.detail
            )
            report.recoveries.append(recovery)
            metrics.add_metric(name=f"MonitorRecovery_{recovery.action.value}", unit="Count", value=1)
        remaining = self._repository.work()
        report.queued = len(remaining)

    def _recovery_failed(self, item: WorkItem, now: datetime, exc: TrayError) -> None:
        """Tray refused the recovery call itself: try again next tick, a few times, then a person."""
        logger.warning(
            "recovery call failed", execution_id=item.execution_id, code=exc.code, errors=item.errors + 1
        )
        item = item.model_copy(
            update={
                "errors": item.errors + 1,
                "due_at": now + timedelta(seconds=self._settings.monitor_backoff_base_s),
            }
        )
        if item.errors <= self._settings.monitor_max_retries:
            self._repository.save_work(item)
            return
        try:
            self._recoverer.give_up(
                item, now, f"Tray refused the recovery {item.errors} times: {exc.message}"
            )
        except TrayError:
            self._repository.save_work(item)  # not even the review could be filed: keep it
            return
        self._repository.done(item.root_id)

    @staticmethod
    def _held_by(item: WorkItem, services: set[str]) -> bool:
        return item.classification.failure_class in RETRYABLE and item.classification.service in services

    def _probe(self, item: WorkItem, circuit: Circuit, now: datetime, report: TickReport) -> bool:
        """Retry one held execution; its result decides whether the service is back."""
        try:
            recovery = self._recoverer.retry(
                item, now, RecoveryAction.PROBED, f"probe of the {circuit.service} circuit"
            )
        except TrayUnauthorizedError:
            raise
        except TrayError as exc:
            report.recoveries.append(self._note(item, RecoveryAction.FAILED, f"{exc.code}: {exc.message}"))
            self._recovery_failed(item, now, exc)
            return False
        report.recoveries.append(recovery)
        execution = self._tray.workflows.get_execution(recovery.new_execution_ids[0])
        deadline = time.monotonic() + self._settings.monitor_probe_timeout_s
        while execution.status == "running" and time.monotonic() < deadline:
            time.sleep(PROBE_POLL_S)
            execution = self._tray.workflows.get_execution(execution.id)
        if execution.status == "succeeded":
            self._repository.done(item.root_id)
            self._close(circuit.service, now, report, f"probe {execution.id} succeeded")
            return True
        # Still failing (or still running): the chain moves on to the probe's run, still held.
        self._repository.save_work(
            item.model_copy(update={"execution_id": execution.id, "attempt": item.attempt + 1})
        )
        self._repository.put_circuit(circuit.model_copy(update={"probes": circuit.probes + 1}))
        return False

    def _close(self, service: str, now: datetime, report: TickReport, why: str) -> None:
        self._repository.close_circuit(service)
        alert = Alert(
            kind=AlertKind.CIRCUIT_CLOSED,
            key=f"{service}:{int(now.timestamp())}",
            severity="info",
            title=f"{service} recovered: held retries drained",
            details={"service": service, "why": why},
        )
        self._alerter.send(alert)
        report.alerts.append(alert)

    @staticmethod
    def _note(item: WorkItem, action: RecoveryAction, detail: str) -> Recovery:
        return Recovery(
            execution_id=item.execution_id,
            root_id=item.root_id,
            workflow_name=item.workflow_name,
            failure_class=item.classification.failure_class,
            action=action,
            detail=detail,
        )


def build_monitor_service(settings: Settings, tray: TrayClients | None = None) -> MonitorService:
    from tray_agent.data.alerts import AlertsTopic
    from tray_agent.data.decisions import DecisionsRepository
    from tray_agent.data.lessons import LessonsRepository
    from tray_agent.domain.agent.registry import ToolRegistry
    from tray_agent.domain.agent.runner import WorkflowRunner
    from tray_agent.domain.agent.service import build_failed_run_holds  # the ledger loads only here
    from tray_agent.domain.monitor.advisor import build_advisor
    from tray_agent.domain.monitor.summary import build_summary
    from tray_agent.domain.reviews import build_review_service
    from tray_agent.tray import get_tray_clients

    clients = tray or get_tray_clients(settings)
    holds = build_failed_run_holds(settings)
    registry = ToolRegistry.from_file(settings.workflows_file)
    runner = WorkflowRunner(registry, clients) if settings.monitor_alert_workflow in registry else None
    repository = MonitorRepository(settings.monitor_table)
    alerter = Alerter(
        AlertsTopic(settings.alerts_topic_arn),
        runner,
        settings.monitor_alert_workflow,
        claim=lambda key: repository.claim_escalation(key, utc_now()),
    )
    recoverer = Recoverer(
        settings=settings,
        repository=repository,
        tray=clients,
        decisions=DecisionsRepository(
            settings.decisions_table, retention=timedelta(days=settings.decision_retention_days)
        ),
        alerter=alerter,
        reviews=build_review_service(settings),
        advisor=build_advisor(settings),
        holds=holds,
        lessons=LessonsRepository(settings.work_table),
    )
    return MonitorService(
        settings=settings,
        repository=repository,
        tray=clients,
        recoverer=recoverer,
        alerter=alerter,
        summary=build_summary(settings),
        successes=holds.observed_successes,
    )
