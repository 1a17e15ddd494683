"""Step Functions state Record: every execution's outcome (ordered, rejected, failed), recorded."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tray_agent.config import get_settings
from tray_agent.domain.po.pipeline import build_pipeline
from tray_agent.domain.po.state_store import load_state, store_state
from tray_agent.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    state = load_state(event, settings)  # an offloaded purchase order is read back from S3
    logger.append_keys(intake_id=state.intake_id)
    return store_state(build_pipeline(settings).record(state), settings)
