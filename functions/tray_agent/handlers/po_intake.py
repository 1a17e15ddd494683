"""S3 object created (via EventBridge, or an S3 notification) → one execution per PO PDF."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tray_agent.config import get_settings
from tray_agent.domain.po.intake import build_intake_service
from tray_agent.models.po_pipeline import DroppedObject
from tray_agent.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[str]]:
    service = build_intake_service(get_settings())
    results = [service.receive(dropped) for dropped in DroppedObject.from_event(event)]
    return {
        "started": [i for r in results for i in r.started],
        "duplicates": [i for r in results for i in r.duplicates],
        "refused": [record.intake_id for r in results for record in r.refused],
    }
