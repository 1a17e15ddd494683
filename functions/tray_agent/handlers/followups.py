"""The follow-ups function: a one-time schedule fires a follow-up; a daily rule runs the watchers.

``handler``: EventBridge Scheduler's target, invoked with ``{"work_id": ...}`` (the follow-up's
work item; firing twice checks once). ``daily_handler``: the daily EventBridge rule: the health
sweep of every customer with signals, then yesterday's operations summary to the ops
notification workflow (once per day). Thin: both call the domain.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tray_agent.config import get_settings
from tray_agent.domain.agent.memory import OperationsSummary
from tray_agent.domain.agent.service import build_event_service
from tray_agent.errors import InvalidInputError
from tray_agent.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    work_id = event.get("work_id") if isinstance(event, dict) else None
    if not isinstance(work_id, str) or not work_id.startswith("followup-"):
        raise InvalidInputError('a follow-up schedule\'s input is {"work_id": "followup-…"}')
    settings = get_settings()
    if settings.followup_target_arn == "self":  # deployed: the next follow-up targets this function too
        settings = settings.model_copy(update={"followup_target_arn": context.invoked_function_arn})
    followups = build_event_service(settings).engine.followups
    work = followups.fire(work_id)
    logger.info("follow-up fired", work_id=work_id, state=work.state.value)
    reason = work.reason or (work.decision.reason if work.decision else None)
    return {"work_id": work_id, "state": work.state.value, "reason": reason}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def daily_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    service = build_event_service(settings)
    followups = service.engine.followups
    sweep = followups.health.sweep(settings.health_sweep_max_tasks)
    # Follow-ups whose schedule was lost (deleted by hand, a failed create) fire here at the latest.
    now = followups.now()
    late = followups.fire_due(now)
    day = (now - timedelta(days=1)).date().isoformat()
    sent = service.send_daily_summary(day, OperationsSummary(settings))
    return {"health": sweep.model_dump(), "late_followups": len(late), "summary": sent.state.value}
