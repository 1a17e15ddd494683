"""The monitor tick: an EventBridge scheduled event (rate 5 minutes) runs one tick. Thin."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from tray_agent.config import Settings, get_settings
from tray_agent.domain.monitor.service import MonitorService, build_monitor_service
from tray_agent.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from tray_agent.domain.agent.sweeper import Sweeper


@lru_cache(maxsize=2)
def _service(settings: Settings) -> MonitorService:
    return build_monitor_service(settings)


@lru_cache(maxsize=2)
def _sweeper(settings: Settings) -> Sweeper:
    from tray_agent.domain.agent.service import build_sweeper

    return build_sweeper(settings)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("action") == "flush_batches":  # the off-peak EventBridge Scheduler schedule (issue 9)
        from tray_agent.models.batches import FlushBatchesEvent

        flush = FlushBatchesEvent.model_validate(event)
        flushed = _sweeper(get_settings()).flush_batches(flush.workflow, flush.time)
        logger.info("batches flushed on schedule", workflow=flush.workflow, flushed=flushed)
        return {"flush_batches": flushed}
    scheduled = parse(event=event, model=EventBridgeModel)
    report = _service(get_settings()).tick(scheduled.time, remaining_ms=context.get_remaining_time_in_millis)
    summary = report.summary()
    logger.info("monitor tick done", event_id=scheduled.id, **summary)
    # The same schedule sweeps the work ledger: what a crash left mid-way, incidents, held work.
    sweep = _sweeper(get_settings()).sweep(scheduled.time)
    summary["sweep"] = sweep.model_dump()
    # What the stack's alarms watch: held work (count, oldest age) and the heartbeat, emitted
    # last so a tick that failed part-way never reports itself completed.
    metrics.add_metric(name="HeldWork", unit="Count", value=sweep.still_held)
    metrics.add_metric(name="HeldWorkOldestAgeSeconds", unit="Seconds", value=sweep.oldest_held_s)
    metrics.add_metric(name="ReviewQueueDepth", unit="Count", value=sweep.reviews_pending)
    metrics.add_metric(name="ReviewQueueOldestAgeSeconds", unit="Seconds", value=sweep.oldest_review_s)
    metrics.add_metric(name="MonitorTickCompleted", unit="Count", value=1)
    return summary
