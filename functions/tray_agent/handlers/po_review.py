"""Step Functions state Review (``.waitForTaskToken``): file a review item holding the token.

The execution stays paused until a reviewer approves (SendTaskSuccess with the PO) or rejects
(SendTaskFailure ``PurchaseOrderRejectedError``) through the review API.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tray_agent.config import get_settings
from tray_agent.domain.po.pipeline import build_pipeline
from tray_agent.domain.po.state_store import resolve
from tray_agent.models.po_pipeline import ReviewTaskInput
from tray_agent.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    settings = get_settings()
    request = ReviewTaskInput.model_validate(event)
    # An offloaded purchase order is read back from S3: the reviewer sees the whole order.
    request = request.model_copy(update={"state": resolve(request.state, settings)})
    logger.append_keys(intake_id=request.state.intake_id)
    return {"review_id": build_pipeline(settings).file_review(request)}
