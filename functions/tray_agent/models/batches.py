"""Batches of non-urgent work (issue 9): one record per bulk run, written before Tray is called.

    sending → running (the bulk run started; its execution id recorded) → settled
       ↘ unknown (Tray's answer was lost: the run is looked for before sending again) → running
       ↘ refused (Tray said no: each item runs alone through the normal path) → settled

A batch lists its items and its attempt key; each item records the batch and then the bulk
execution, so a crash anywhere resumes the same batch and never starts a second bulk run.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict, Field

from tray_agent.models.base import Model


class BatchStatus(StrEnum):
    SENDING = "sending"  # intent recorded; the bulk run may or may not have reached Tray
    UNKNOWN = "unknown"  # look for the run (by its attempt key) before sending again
    RUNNING = "running"  # the bulk run started; the sweeper reads its per-record results
    SETTLED = "settled"  # every item is done or was handed to the normal path to run alone


OPEN_BATCH_STATUSES = frozenset({BatchStatus.SENDING, BatchStatus.UNKNOWN, BatchStatus.RUNNING})


class Batch(Model):
    batch_id: str
    batch_key: str  # the workflow whose policy queued the items
    bulk_workflow: str
    work_ids: list[str]
    attempt_key: str  # the bulk run's idempotency / processed-ids key
    status: BatchStatus = BatchStatus.SENDING
    trigger: str  # why it flushed: size, age, window, schedule
    created_at: datetime
    updated_at: datetime
    lease_until: datetime | None = None  # a crashed flusher's batch is resumed after this
    execution_id: str | None = None
    error: str | None = None
    succeeded: int = 0
    retried_alone: int = 0
    version: int = 0

    @property
    def open(self) -> bool:
        return self.status in OPEN_BATCH_STATUSES


class FlushBatchesEvent(Model):
    """What the off-peak EventBridge Scheduler schedule sends the monitor function."""

    model_config = ConfigDict(extra="ignore")

    action: Literal["flush_batches"]
    workflow: str | None = Field(default=None, max_length=64)  # None: every policy
    time: datetime | None = None  # the schedule's time (<aws.scheduler.scheduled-time>)
