"""Batching for non-urgent work (issue 9): wait durably, flush as one bulk run, settle per item.

A workflow's batch policy (workflows file, ``batch``) names its bulk form. Non-urgent work for
it, once guardrails passed, is ``batched`` in the ledger (indexed per batch key, oldest first)
instead of triggered. A batch flushes as ONE run of the bulk workflow:

- on size: the accept that fills a batch (``max_items``) sends it;
- on age: the sweeper sends a queue whose oldest item waited ``max_wait_s``;
- in the off-peak window: the sweeper (and the window's EventBridge Scheduler schedule) sends
  whatever waits.

The house rule holds: the batch record (its items, its attempt key) is written before the Tray
call; each item is claimed for the batch (a conditional write: an item is in one batch only),
the run is triggered with the batch's key (the bulk workflow checks processed ids), and each
item records the bulk execution. A crash anywhere leaves an open batch whose lease expires; the
sweeper looks for the run by its key before it ever sends again.

When the bulk run has finished, each item whose record succeeded is ``done``; an item whose
record failed (or whose bulk run failed, or that Tray refused) runs ALONE as a normal run of its
workflow, through the engine's normal path (guardrails, holds, incidents), never batched again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from tray_agent.clock import Clock, utc_now
from tray_agent.config import Settings
from tray_agent.data.batches import BatchRepository
from tray_agent.data.work import StaleWorkError, WorkRepository
from tray_agent.errors import TrayAgentError
from tray_agent.models.batches import Batch, BatchStatus
from tray_agent.models.decisions import ExecutionRef, WorkflowCall
from tray_agent.models.work import Attempt, AttemptStatus, WorkItem, WorkKind, WorkState
from tray_agent.models.workflows import BatchPolicy, WorkflowTool
from tray_agent.observability import logger
from tray_agent.tray.errors import TrayError, TrayTransportError

if TYPE_CHECKING:
    from tray_agent.domain.agent.runner import WorkflowRunner
    from tray_agent.domain.agent.work import WorkEngine
    from tray_agent.tray.models import Execution


class BatchReport(BaseModel):
    flushed: int = 0  # bulk runs started
    items_sent: int = 0
    items_done: int = 0
    items_alone: int = 0  # handed to the normal path to run alone (a failed record, a refusal)
    resumed: int = 0  # batches a crashed flusher left, taken over


class Batcher:
    def __init__(
        self,
        *,
        tools: list[WorkflowTool],
        ledger: WorkRepository,
        batches: BatchRepository,
        runner: WorkflowRunner,
        executions: Any,  # the Tray workflows client: get_execution(id) -> Execution
        settings: Settings,
        clock: Clock = utc_now,
    ) -> None:
        self.policies: dict[str, BatchPolicy] = {
            tool.name: tool.batch for tool in tools if tool.batch is not None and settings.batching_enabled
        }
        self._ledger = ledger
        self._batches = batches
        self._runner = runner
        self._executions = executions
        self._settings = settings
        self._clock = clock
        self._engine: WorkEngine | None = None

    def bind(self, engine: WorkEngine) -> None:
        """The engine settles items (done, or run alone through its normal path)."""
        self._engine = engine

    @property
    def repository(self) -> BatchRepository:
        return self._batches

    @property
    def engine(self) -> WorkEngine:
        assert self._engine is not None, "Batcher.bind(engine) first"
        return self._engine

    # -- queueing (called by the engine once guardrails passed) ----------------------------------
    def policy_for(self, work: WorkItem) -> BatchPolicy | None:
        """The policy that makes ``work`` wait, or None: it runs now (urgent, approved, a chain, a
        retry, a monitor situation, or a record that already failed in a bulk run)."""
        if not self.policies or work.kind is not WorkKind.EVENT or work.approved_by or len(work.calls) != 1:
            return None
        if work.batch is not None and work.batch.retried_alone:
            return None
        call = work.calls[0]
        policy = self.policies.get(call.workflow)
        if policy is None or call.retry_of or policy.urgent(call.input):
            return None
        return policy

    def after_queued(self, work: WorkItem, policy: BatchPolicy) -> WorkItem:
        """The accept that fills a batch sends it. A failure here loses nothing: the item waits
        in the ledger and the sweeper flushes (or resumes) its batch."""
        assert work.batch is not None
        key = work.batch.batch_key
        # The index is eventually consistent: the item just written may not be counted yet, so a
        # count one short of full sends too (a flush re-reads and claims each item it sends).
        waiting = self._ledger.queued_count(key, up_to=policy.max_items)
        if waiting + 1 < policy.max_items:
            return work
        try:
            self.flush(key, trigger="size", whole_only=True)
        except (ClientError, BotoCoreError, TrayError, TrayAgentError) as exc:
            logger.warning("flush on size deferred to the sweeper", batch_key=key, error=type(exc).__name__)
        return self._ledger.get(work.work_id) or work

    # -- flushing -------------------------------------------------------------------------------
    def flush(
        self, batch_key: str, *, trigger: str, whole_only: bool = False, report: BatchReport | None = None
    ) -> int:
        """Send what waits for ``batch_key`` in bulk runs of at most max_items (only full ones when
        ``whole_only``). Returns the number of bulk runs started."""
        policy = self.policies[batch_key]
        report = report or BatchReport()
        started = 0
        while True:
            candidates = list(self._ledger.queued(batch_key, limit=policy.max_items))
            if not candidates or (whole_only and len(candidates) < policy.max_items):
                return started
            now = self._clock()
            batch_id = f"batch-{uuid.uuid4().hex[:20]}"
            batch = Batch(
                batch_id=batch_id,
                batch_key=batch_key,
                bulk_workflow=policy.bulk_workflow,
                work_ids=[c.work_id for c in candidates],
                attempt_key=f"{batch_id}.a1",
                trigger=trigger,
                created_at=now,
                updated_at=now,
                lease_until=self._lease(now),
            )
            self._batches.create(batch)  # intent first: which items, which key
            logger.info(
                "batch recorded",
                batch_id=batch_id,
                batch_key=batch_key,
                items=len(candidates),
                trigger=trigger,
            )
            sent = self._send(batch, policy, report)
            started += sent
            # A full batch went: more may wait. Nothing went (Tray's answer lost, or another
            # flusher took the items): the sweeper carries on, Tray is not asked again now.
            if not sent or len(candidates) < policy.max_items:
                return started

    def flush_due(self, now: datetime, report: BatchReport) -> None:
        """The sweeper's flush: queues whose oldest item waited max_wait_s, and every queue whose
        off-peak window is open."""
        for key, policy in self.policies.items():
            if policy.off_peak is not None and policy.off_peak.contains(now):
                report.flushed += self.flush(key, trigger="window", report=report)
                continue
            oldest = next(self._ledger.queued(key, limit=1), None)
            waited = (now - oldest.batch.queued_at).total_seconds() if oldest and oldest.batch else 0.0
            if oldest is not None and waited >= policy.max_wait_s:
                report.flushed += self.flush(key, trigger="age", report=report)

    def _send(self, batch: Batch, policy: BatchPolicy, report: BatchReport) -> int:
        items = list(self._claim(batch))
        if not items:
            self._batches.save(
                batch.model_copy(
                    update={
                        "status": BatchStatus.SETTLED,
                        "error": "no item left",
                        "updated_at": self._clock(),
                    }
                )
            )
            return 0
        if [i.work_id for i in items] != batch.work_ids:
            batch = self._batches.save(batch.model_copy(update={"work_ids": [i.work_id for i in items]}))
        records = [{**item.calls[0].input, policy.record_id_field: item.work_id} for item in items]
        call = WorkflowCall(workflow=policy.bulk_workflow, input={policy.records_field: records})
        if batch.status is BatchStatus.UNKNOWN:
            found = self._runner.find(
                call, attempt_key=batch.attempt_key, since=batch.created_at - timedelta(seconds=5)
            )
            if found is not None:
                logger.info(
                    "bulk run found by its key", batch_id=batch.batch_id, execution_id=found.execution_id
                )
                return self._started(batch, found, items, report)
        try:
            ref = self._runner.run(call, idempotency_key=batch.attempt_key)
        except TrayError as exc:
            if exc.outcome_unknown or isinstance(exc, TrayTransportError):
                now = self._clock()
                self._batches.save(
                    batch.model_copy(
                        update={
                            "status": BatchStatus.UNKNOWN,
                            "error": exc.message,
                            "lease_until": self._lease(now),
                            "updated_at": now,
                        }
                    )
                )
                logger.warning("bulk run outcome unknown", batch_id=batch.batch_id, code=exc.code)
                return 0
            self._refused(batch, items, exc.message, report)
            return 0
        except TrayAgentError as exc:  # the bulk input does not fit its schema: each item alone
            self._refused(batch, items, exc.message, report)
            return 0
        return self._started(batch, ref, items, report)

    def _claim(self, batch: Batch) -> Iterator[WorkItem]:
        """Each item joins this batch with a conditional write (an item is in one batch only)."""
        for work_id in batch.work_ids:
            work = self._ledger.get(work_id)
            if work is None or work.state is not WorkState.BATCHED or work.batch is None:
                continue
            if work.batch.batch_id == batch.batch_id:
                yield work
                continue
            if work.batch.batch_id is not None:
                continue  # another batch took it
            member = work.batch.model_copy(update={"batch_id": batch.batch_id})
            try:
                yield self._ledger.save(
                    work.model_copy(update={"batch": member, "updated_at": self._clock()})
                )
            except StaleWorkError:
                continue

    def _started(self, batch: Batch, ref: ExecutionRef, items: list[WorkItem], report: BatchReport) -> int:
        now = self._clock()
        running = self._batches.save(
            batch.model_copy(
                update={
                    "status": BatchStatus.RUNNING,
                    "execution_id": ref.execution_id,
                    "lease_until": None,
                    "error": None,
                    "updated_at": now,
                }
            )
        )
        logger.info(
            "bulk run started", batch_id=batch.batch_id, execution_id=ref.execution_id, items=len(items)
        )
        for item in items:
            try:
                self._record_execution(item, batch, ref)
            except StaleWorkError:
                continue  # settled from the batch record either way
        report.items_sent += len(items)
        try:
            # A short bulk run has often finished by now: its records settle (a failed one runs
            # alone) at once rather than at the next sweep. A long one is left to the sweeper.
            self._settle_running(running, report)
        except (StaleWorkError, TrayError) as exc:
            logger.info("bulk run settles later", batch_id=batch.batch_id, error=type(exc).__name__)
        return 1

    def _record_execution(self, work: WorkItem, batch: Batch, ref: ExecutionRef) -> WorkItem:
        """The item names the bulk run that carries it (and the attempt: the batch's key)."""
        assert work.batch is not None
        if work.batch.bulk_execution_id == ref.execution_id:
            return work
        attempt = Attempt(
            number=len(work.attempts) + 1,
            key=batch.attempt_key,
            started_at=batch.created_at,
            status=AttemptStatus.SENT,
        )
        member = work.batch.model_copy(update={"bulk_execution_id": ref.execution_id})
        return self._ledger.save(
            work.model_copy(
                update={
                    "batch": member,
                    "executions": [*work.executions, ref],
                    "attempts": [*work.attempts, attempt],
                    "updated_at": self._clock(),
                }
            )
        )

    def _refused(self, batch: Batch, items: list[WorkItem], why: str, report: BatchReport) -> None:
        """Tray refused the bulk run for good: each item runs alone (its own holds and failures)."""
        logger.warning("bulk run refused: items run alone", batch_id=batch.batch_id, items=len(items))
        for item in items:
            self._alone(item, why, report)
        self._close(batch, error=why, alone=len(items))

    # -- settling (the sweeper) -----------------------------------------------------------------
    def settle(self, report: BatchReport, now: datetime | None = None) -> None:
        """Resume batches a crash left (lease expired at ``now``), and settle those whose bulk
        run finished."""
        now = max(now or self._clock(), self._clock())
        for batch in list(self._batches.open_batches(due_before=now)):
            try:
                if batch.status is BatchStatus.RUNNING:
                    self._settle_running(batch, report)
                elif batch.lease_until is None or batch.lease_until <= now:
                    taken = self._batches.save(
                        batch.model_copy(
                            update={
                                "status": BatchStatus.UNKNOWN,
                                "lease_until": self._lease(now),
                                "updated_at": now,
                            }
                        )
                    )
                    report.resumed += 1
                    report.flushed += self._send(taken, self.policies_for(taken), report)
            except StaleWorkError:
                continue  # someone else moved it first
            except TrayError as exc:  # Tray cannot tell us now: the next sweep asks again
                logger.warning("batch not settled yet", batch_id=batch.batch_id, code=exc.code)

    def policies_for(self, batch: Batch) -> BatchPolicy:
        policy = self.policies.get(batch.batch_key)
        if policy is None:  # batching switched off since: the same shape as the file's default
            return BatchPolicy(bulk_workflow=batch.bulk_workflow)
        return policy

    def _settle_running(self, batch: Batch, report: BatchReport) -> None:
        assert batch.execution_id is not None
        execution = self._executions.get_execution(batch.execution_id)
        if execution.duplicate_of:  # the processed-ids check ended it: the first run carries the records
            execution = self._executions.get_execution(execution.duplicate_of)
        if not execution.finished:
            return
        policy = self.policies_for(batch)
        results = _record_results(execution, policy)
        ref = ExecutionRef(workflow=batch.bulk_workflow, execution_id=batch.execution_id, status_code=200)
        done = alone = 0
        for work_id in batch.work_ids:
            work = self._ledger.get(work_id)
            if (
                work is None
                or work.state is not WorkState.BATCHED
                or work.batch is None
                or work.batch.batch_id != batch.batch_id
            ):
                continue  # settled before a crash
            if work.batch.bulk_execution_id is None:
                work = self._record_execution(work, batch, ref)
            assert work.batch is not None
            result = results.get(work_id)
            if execution.status == "succeeded" and result is not None and result.get("status") == "succeeded":
                member = work.batch.model_copy(update={"record_status": "succeeded"})
                self.engine.settle_batched(work.model_copy(update={"batch": member}), done=True)
                done += 1
            else:
                self._alone(work, _failure(execution, result), report)
                alone += 1
        report.items_done += done
        self._close(batch, succeeded=done, alone=alone)

    def _alone(self, work: WorkItem, why: str, report: BatchReport) -> None:
        assert work.batch is not None
        member = work.batch.model_copy(
            update={"record_status": "failed", "record_error": why[:500], "retried_alone": True}
        )
        attempts = work.attempts
        if attempts and attempts[-1].status is AttemptStatus.SENT and work.batch.bulk_execution_id:
            attempts = [
                *attempts[:-1],
                attempts[-1].model_copy(update={"status": AttemptStatus.REFUSED, "error": why[:500]}),
            ]
        logger.info("batched item runs alone", work_id=work.work_id, batch_id=work.batch.batch_id)
        self.engine.settle_batched(
            work.model_copy(update={"batch": member, "attempts": attempts}), done=False
        )
        report.items_alone += 1

    def _close(self, batch: Batch, *, error: str | None = None, succeeded: int = 0, alone: int = 0) -> None:
        current = self._batches.get(batch.batch_id) or batch
        self._batches.save(
            current.model_copy(
                update={
                    "status": BatchStatus.SETTLED,
                    "error": error,
                    "succeeded": succeeded,
                    "retried_alone": alone,
                    "lease_until": None,
                    "updated_at": self._clock(),
                }
            )
        )

    def _lease(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self._settings.work_lease_s)


def _record_results(execution: Execution, policy: BatchPolicy) -> dict[str, dict[str, Any]]:
    records = (execution.output or {}).get(policy.records_field)
    if not isinstance(records, list):
        return {}
    return {
        str(r.get(policy.record_id_field)): r
        for r in records
        if isinstance(r, dict) and r.get(policy.record_id_field)
    }


def _failure(execution: Execution, result: dict[str, Any] | None) -> str:
    if execution.status != "succeeded":
        failed = execution.error
        why = f"{failed.code}: {failed.message}" if failed else execution.status
        return f"the bulk run {execution.id} failed: {why}"
    if result is None:
        return f"the bulk run {execution.id} reported nothing for this record"
    error = result.get("error")
    if isinstance(error, dict) and error:
        return f"its record failed in bulk run {execution.id}: {error.get('code')}: {error.get('message')}"
    return f"its record failed in bulk run {execution.id}: {result.get('status')}"
