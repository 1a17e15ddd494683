"""Human review: file an item, list it, approve (optionally edited) or reject it — once.

What approval *does* depends on the item's kind, so each kind registers a resolver: agent
decisions run their workflow calls, purchase orders resume their paused Step Functions
execution, recoveries retry the failed Tray execution. The conditional write in the
repository makes sure only the first of two simultaneous reviewers acts.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from tray_agent.clock import utc_now
from tray_agent.config import Settings
from tray_agent.data.payloads import PayloadStore
from tray_agent.data.reviews import ReviewsRepository
from tray_agent.errors import ConflictError, NotFoundError
from tray_agent.models.reviews import ApproveRequest, RejectRequest, ReviewItem, ReviewKind, ReviewStatus
from tray_agent.observability import logger


class ReviewResolver(Protocol):
    def on_approve(self, item: ReviewItem, payload: dict[str, Any]) -> None: ...

    def on_reject(self, item: ReviewItem, reason: str) -> None: ...


class ValidatingResolver(ReviewResolver, Protocol):
    """A resolver that can refuse an (edited) payload *before* the item is marked approved."""

    def validate(self, item: ReviewItem, payload: dict[str, Any]) -> dict[str, Any]: ...


class ReviewService:
    def __init__(self, repository: ReviewsRepository, resolvers: dict[ReviewKind, ReviewResolver]) -> None:
        self._repository = repository
        self._resolvers = resolvers

    def queue_depth(self, now: datetime) -> tuple[int, int]:
        """(pending items, age in seconds of the oldest): the dashboard's review queue."""
        pending, oldest = self._repository.queue()
        if oldest is None:
            return pending, 0
        age = (now - datetime.fromisoformat(oldest)).total_seconds()
        return pending, max(int(age), 0)

    def register(self, kind: ReviewKind, resolver: ReviewResolver) -> None:
        self._resolvers[kind] = resolver

    def file(
        self,
        *,
        kind: ReviewKind,
        title: str,
        reason: str,
        payload: dict[str, Any],
        findings: Iterable[str] = (),
        customer_id: str | None = None,
        decision_id: str | None = None,
        task_token: str | None = None,
        review_id: str | None = None,
        work_id: str | None = None,
    ) -> ReviewItem:
        item = ReviewItem(
            review_id=review_id or str(uuid.uuid4()),
            kind=kind,
            created_at=utc_now(),
            title=title,
            reason=reason,
            findings=list(findings),
            payload=payload,
            customer_id=customer_id,
            decision_id=decision_id,
            work_id=work_id,
            task_token=task_token,
        )
        self._repository.put(item)
        logger.info("review filed", review_id=item.review_id, kind=kind.value, findings=len(item.findings))
        return item

    def find(self, review_id: str) -> ReviewItem | None:
        return self._repository.get(review_id)

    def get(self, review_id: str) -> ReviewItem:
        item = self._repository.get(review_id)
        if item is None:
            raise NotFoundError(f"no review {review_id!r}")
        return item

    def list(self, status: ReviewStatus = ReviewStatus.PENDING) -> list[ReviewItem]:
        return self._repository.list(status)

    def approve(self, review_id: str, reviewer: str, request: ApproveRequest) -> ReviewItem:
        item = self.get(review_id)
        resolver = self._resolver(item.kind)
        if (
            item.status is ReviewStatus.APPROVED
            and getattr(resolver, "redelivers_approval", False)
            and item.resolution_payload is not None
        ):
            # The approval is recorded but its delivery may have failed (Step Functions was down
            # when it was sent): approving again delivers the recorded approval, never a new one.
            # A delivered one answers 409 (its task token is used up).
            resolver.on_approve(item, item.resolution_payload)
            logger.info("review approval delivered again", review_id=review_id, kind=item.kind.value)
            return item
        payload = request.edited_payload if request.edited_payload is not None else item.payload
        validate = getattr(resolver, "validate", None)
        if validate is not None and item.status is ReviewStatus.PENDING:
            payload = validate(item, payload)  # raises InvalidInputError: nothing is resolved
        resolved = self._resolve(item, ReviewStatus.APPROVED, reviewer, request.note, payload)
        resolver.on_approve(resolved, payload)
        logger.info(
            "review approved",
            review_id=review_id,
            kind=item.kind.value,
            edited=request.edited_payload is not None,
        )
        return resolved

    def reject(self, review_id: str, reviewer: str, request: RejectRequest) -> ReviewItem:
        item = self.get(review_id)
        resolved = self._resolve(item, ReviewStatus.REJECTED, reviewer, request.reason, None)
        self._resolver(item.kind).on_reject(resolved, request.reason)
        logger.info("review rejected", review_id=review_id, kind=item.kind.value)
        return resolved

    def _resolve(
        self,
        item: ReviewItem,
        status: ReviewStatus,
        reviewer: str,
        note: str | None,
        payload: dict[str, Any] | None,
    ) -> ReviewItem:
        if item.status is not ReviewStatus.PENDING:
            raise ConflictError(f"review {item.review_id} is already {item.status.value}")
        return self._repository.resolve(
            item, status=status, by=reviewer, at=utc_now(), note=note, payload=payload
        )

    def _resolver(self, kind: ReviewKind) -> ReviewResolver:
        try:
            return self._resolvers[kind]
        except KeyError:
            raise ConflictError(f"no resolver is registered for {kind.value} reviews") from None


# Each kind's resolver lives with the feature that owns it; a module that is absent (a feature
# not deployed) simply leaves its kind unregistered, and approving such an item is a 409.
RESOLVER_FACTORIES: dict[ReviewKind, str] = {
    ReviewKind.DECISION: "tray_agent.domain.agent.review",
    ReviewKind.PURCHASE_ORDER: "tray_agent.domain.po.review",
    ReviewKind.RECOVERY: "tray_agent.domain.monitor.review",
}


def build_review_service(settings: Settings) -> ReviewService:
    """The review service with every available resolver (each module has ``build_resolver``)."""
    resolvers: dict[ReviewKind, ReviewResolver] = {}
    for kind, module_name in RESOLVER_FACTORIES.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # The feature's package itself may be absent (exc.name is then a parent package).
            if exc.name is None or not (module_name + ".").startswith(exc.name + "."):
                raise
            continue
        resolvers[kind] = module.build_resolver(settings)
    repository = ReviewsRepository(
        settings.reviews_table,
        retention=timedelta(days=settings.decision_retention_days),
        payloads=PayloadStore(settings.payloads_bucket),
    )
    return ReviewService(repository, resolvers)
