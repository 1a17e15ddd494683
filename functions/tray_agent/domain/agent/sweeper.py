"""The sweeper: finishes what a crash left mid-way, probes incidents, drains held work.

Run by the scheduled tick (and by ``tray-agent sweep`` locally). Each pass:
1. takes over moving items whose worker's lease expired and finishes them (an attempt whose
   outcome is unknown is looked for in Tray before anything is sent again);
2. moves on work whose review a person resolved when the process died right after;
3. probes each open incident that is due: its oldest held item runs again; if it goes
   through the incident closes;
4. drains held items whose incident closed, oldest first, each exactly once (a conditional
   write decides who runs it), within a per-pass budget so Tray's limits hold;
5. batching (issue 9): settles batches whose bulk run finished (and resumes those a crash
   left), then flushes queues whose oldest item waited long enough or whose off-peak window
   is open.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel

from tray_agent.clock import Clock, utc_now
from tray_agent.config import Settings
from tray_agent.data.work import StaleWorkError
from tray_agent.domain.agent.work import WorkEngine
from tray_agent.domain.reviews import ReviewService
from tray_agent.errors import ConflictError
from tray_agent.models.decisions import WorkflowCall
from tray_agent.models.reviews import ReviewStatus
from tray_agent.models.work import Incident, IncidentKind, WorkState
from tray_agent.observability import logger
from tray_agent.redaction import restore_masked
from tray_agent.tray.errors import TrayError


class SweepReport(BaseModel):
    resumed: int = 0
    reviews_applied: int = 0
    probes: int = 0
    incidents_closed: int = 0
    drained: int = 0
    still_held: int = 0
    batches_flushed: int = 0
    batch_items_done: int = 0
    batch_items_alone: int = 0
    # Age of the oldest held item (seconds since accepted): the held-work-age alarm's metric.
    oldest_held_s: int = 0
    # The human review queue (every kind): pending items and the oldest one's age.
    reviews_pending: int = 0
    oldest_review_s: int = 0


class Sweeper:
    def __init__(
        self,
        engine: WorkEngine,
        reviews: ReviewService,
        settings: Settings,
        workflow_enabled: Callable[[str], bool] | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._engine = engine
        self._ledger = engine.ledger
        self._holds = engine.holds
        self._workflow_enabled = workflow_enabled  # GraphQL: the probe of a disabled workflow
        self._reviews = reviews
        self._settings = settings
        self._clock = clock
        self._now = clock()

    def sweep(self, now: datetime | None = None) -> SweepReport:
        """One pass; ``now`` is the schedule's time (the tick's), so a simulated day sweeps on time."""
        report = SweepReport()
        self._now = now or self._clock()
        self._resume_moving(report)
        self._apply_reviews(report)
        self._probe_incidents(report)
        self._drain(report)
        self._batches(report)
        report.reviews_pending, report.oldest_review_s = self._reviews.queue_depth(self._now)
        logger.info("sweep done", **report.model_dump())
        return report

    def _batches(self, report: SweepReport) -> None:
        batcher = self._engine.batcher
        if batcher is None:
            return
        from tray_agent.domain.agent.batching import BatchReport

        batches = BatchReport()
        batcher.settle(batches, self._now)
        batcher.flush_due(self._now, batches)  # the tick's time: age and window, on schedule
        report.batches_flushed = batches.flushed
        report.batch_items_done = batches.items_done
        report.batch_items_alone = batches.items_alone

    def flush_batches(self, workflow: str | None, now: datetime | None = None) -> dict[str, int]:
        """The off-peak schedule's flush: what waits for ``workflow`` (None: every policy) goes now."""
        batcher = self._engine.batcher
        if batcher is None:
            return {"flushed": 0}
        from tray_agent.domain.agent.batching import BatchReport

        self._now = now or self._clock()
        report = BatchReport()
        batcher.settle(report, self._now)
        for key in batcher.policies:
            if workflow in (None, key):
                report.flushed += batcher.flush(key, trigger="schedule", report=report)
        return report.model_dump()

    def _resume_moving(self, report: SweepReport) -> None:
        now = max(self._now, self._clock())
        for state in (WorkState.RECEIVED, WorkState.DECIDED, WorkState.ACTING):
            for item in list(self._ledger.open_items(state, due_before=now)):
                try:
                    if self._engine.resume(item.work_id) is not None:
                        report.resumed += 1
                except (StaleWorkError, ConflictError):
                    continue  # someone else moved it first

    def _apply_reviews(self, report: SweepReport) -> None:
        settled = max(self._now, self._clock()) - timedelta(seconds=self._settings.work_lease_s)
        for item in list(self._ledger.open_items(WorkState.IN_REVIEW, due_before=settled)):
            if not item.review_id:
                continue
            review = self._reviews.find(item.review_id)
            if review is None or review.status is ReviewStatus.PENDING:
                continue
            try:
                if review.status is ReviewStatus.APPROVED:
                    # The stored resolution is masked; the real values are the held work's.
                    raw = {"calls": [call.model_dump(mode="json") for call in item.calls]}
                    approved = restore_masked(review.resolution_payload or raw, raw)
                    calls = [WorkflowCall.model_validate(c) for c in approved.get("calls", [])]
                    self._engine.approve(item.work_id, calls, review.resolved_by or "reviewer")
                else:
                    self._engine.reject(
                        item.work_id, review.resolved_by or "reviewer", review.resolution_note or ""
                    )
                report.reviews_applied += 1
            except (StaleWorkError, ConflictError):
                continue

    def _probe_incidents(self, report: SweepReport) -> None:
        now = max(self._now, self._clock())
        for incident in self._ledger.open_incidents():
            if incident.next_probe_at > now:
                continue
            held = self._held_behind(incident)
            if not held:
                self._holds.close(incident, why="no work is held behind it")
                report.incidents_closed += 1
                continue
            report.probes += 1
            if incident.kind is IncidentKind.WORKFLOW and incident.workflow_id and self._workflow_enabled:
                self._probe_workflow(incident, report)
                continue
            try:  # the oldest held item is the probe: if Tray takes it, the incident closes
                probe = self._engine.release(held[0])
            except (StaleWorkError, ConflictError):
                continue
            report.drained += probe.state is WorkState.DONE
            after = self._ledger.incident(incident.incident_id)
            if after is not None and after.open:
                self._holds.probed(after)
            else:
                report.incidents_closed += 1

    def _probe_workflow(self, incident: Incident, report: SweepReport) -> None:
        """A disabled workflow is asked about (GraphQL), not triggered: no refused run, no credits."""
        assert self._workflow_enabled is not None and incident.workflow_id is not None
        try:
            enabled = self._workflow_enabled(incident.workflow_id)
        except TrayError as exc:
            logger.warning("probe failed", incident_id=incident.incident_id, code=exc.code)
            enabled = False
        if enabled:
            self._holds.close(incident, why="the workflow is enabled again")
            report.incidents_closed += 1
        else:
            self._holds.probed(incident)

    def _held_behind(self, incident: Incident) -> list[str]:
        return [
            item.work_id
            for item in self._ledger.open_items(WorkState.HELD)
            if item.incident_id == incident.incident_id
        ]

    def _drain(self, report: SweepReport) -> None:
        budget = self._settings.work_drain_per_sweep
        open_ids = {incident.incident_id for incident in self._ledger.open_incidents()}
        for item in list(self._ledger.open_items(WorkState.HELD)):
            age_s = int((self._now - item.created_at).total_seconds())
            report.oldest_held_s = max(report.oldest_held_s, age_s)
            if item.incident_id in open_ids:
                report.still_held += 1
                continue
            if budget <= 0:
                report.still_held += 1
                continue
            budget -= 1
            try:
                after = self._engine.release(item.work_id)
            except (StaleWorkError, ConflictError):
                continue
            if after.state is WorkState.HELD:
                report.still_held += 1
                open_ids.add(after.incident_id or "")
            else:
                report.drained += 1
