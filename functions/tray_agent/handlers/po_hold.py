"""Step Functions state Hold: Tray cannot take the order now; record the hold and how long to wait.

Reached from Trigger's Catch (a Tray outage past the step's retries, or a 429 asking to wait
longer than the step should). The Wait state after it sleeps ``$.hold.wait_s`` and goes back to
Trigger; past the hold window this raises ``PurchaseOrderHoldExpiredError`` (caught into Record).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tray_agent.config import get_settings
from tray_agent.domain.po.pipeline import build_pipeline
from tray_agent.models.po_pipeline import PoPipelineState
from tray_agent.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = PoPipelineState.model_validate(event)
    logger.append_keys(intake_id=state.intake_id)
    return build_pipeline(get_settings()).hold(state).dump()
