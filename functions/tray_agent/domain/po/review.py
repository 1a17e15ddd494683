"""Purchase-order reviews: approving resumes the paused execution, rejecting fails it.

Found by ``domain.reviews.build_review_service`` (``RESOLVER_FACTORIES``). The review item
holds the PO as its payload (masked) and the execution's task token; approval sends the
(possibly edited) PO back with SendTaskSuccess, markers and all: the execution holds the parsed
PO and restores the real values itself. Rejection sends ``PurchaseOrderRejectedError``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from tray_agent.config import Settings
from tray_agent.data.stepfunctions import StepFunctionsGateway
from tray_agent.errors import ConflictError, InvalidInputError, PurchaseOrderRejectedError
from tray_agent.models.po_pipeline import ReviewResult
from tray_agent.models.purchase_order import PurchaseOrder
from tray_agent.models.reviews import ReviewItem
from tray_agent.observability import logger
from tray_agent.redaction import check_restorable


class PurchaseOrderReviewResolver:
    def __init__(self, stepfunctions: StepFunctionsGateway) -> None:
        self._sfn = stepfunctions

    def validate(self, item: ReviewItem, payload: dict[str, Any]) -> dict[str, Any]:
        """Refuse, before anything is resolved, a mask marker the pipeline could not put back.

        The item shows the PO masked; the paused execution still carries the parsed PO and puts
        the real values back where the reviewer left a marker (``PoPipelineState.approved_order``).
        So every marker must sit where the masked payload shows it. The payload goes on with its
        markers: the raw values never pass through the review API.
        """
        check_restorable(payload, item.payload)
        return payload

    def on_approve(self, item: ReviewItem, payload: dict[str, Any]) -> None:
        token = _token(item)
        try:
            order = PurchaseOrder.model_validate(payload)
        except ValidationError as exc:
            # The item is already resolved: fail the execution so it records why, and tell the caller.
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
            self._sfn.send_task_failure(
                token, InvalidInputError.__name__, f"the edited purchase order is invalid: {problems}"
            )
            raise InvalidInputError(f"the edited purchase order is invalid: {problems}") from exc
        result = ReviewResult(
            review_id=item.review_id,
            reviewer=item.resolved_by,
            edited=payload != item.payload,
            purchase_order=order,
        )
        self._sfn.send_task_success(token, result.model_dump(mode="json"))
        logger.info("purchase order review approved", review_id=item.review_id, edited=result.edited)

    def on_reject(self, item: ReviewItem, reason: str) -> None:
        self._sfn.send_task_failure(_token(item), PurchaseOrderRejectedError.__name__, reason)
        logger.info("purchase order review rejected", review_id=item.review_id)


def _token(item: ReviewItem) -> str:
    if not item.task_token:
        raise ConflictError(f"review {item.review_id} holds no task token to resume")
    return item.task_token


def build_resolver(settings: Settings) -> PurchaseOrderReviewResolver:
    return PurchaseOrderReviewResolver(StepFunctionsGateway())
