"""Resolver for reviews of kind "decision": approval moves the held work on, exactly once.

Found by ``tray_agent.domain.reviews.build_review_service`` (``build_resolver(settings)``).
The review item's payload is ``{"calls": [{"workflow": ..., "input": {...}, "retry_of": ...}]}``;
a reviewer may approve it edited (the same shape, or ``{"input": {...}}`` for a single call).
The edit is validated before the review is resolved, so an invalid edit changes nothing.
Approval never gets used up: the approved calls are written to the work ledger and run; if
Tray cannot take them now, the work is held and runs when Tray recovers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from tray_agent.config import Settings
from tray_agent.domain.agent.registry import ToolRegistry
from tray_agent.errors import ConflictError, InvalidInputError
from tray_agent.models.decisions import WorkflowCall
from tray_agent.models.reviews import ReviewItem
from tray_agent.observability import logger
from tray_agent.redaction import restore_masked

if TYPE_CHECKING:
    from tray_agent.domain.agent.work import WorkEngine


class _HeldCalls(BaseModel):
    calls: list[WorkflowCall]


class DecisionReviewResolver:
    def __init__(self, registry: ToolRegistry, engine: Callable[[], WorkEngine]) -> None:
        self._registry = registry
        self._engine = engine  # built on first use: the engine itself files reviews

    def validate(self, item: ReviewItem, payload: dict[str, Any]) -> dict[str, Any]:
        if set(payload) == {"input"}:  # shortcut: edit the input of a single held call
            held = _HeldCalls.model_validate(item.payload).calls
            if len(held) != 1:
                raise InvalidInputError("an edited 'input' needs exactly one held call; send 'calls'")
            payload = {
                "calls": [held[0].model_copy(update={"input": payload["input"]}).model_dump(mode="json")]
            }
        if item.work_id:
            # The review shows masked values; what runs is the held work's real input, with the
            # reviewer's edits on top (a marker left in place means "unchanged").
            held_work = self._engine().ledger.get(item.work_id)
            if held_work is not None:
                raw = {"calls": [call.model_dump(mode="json") for call in held_work.calls]}
                payload = restore_masked(payload, raw)
        try:
            calls = _HeldCalls.model_validate(payload).calls
        except ValidationError as exc:
            raise InvalidInputError(
                f"the approved payload must be {{'calls': [...]}}: {exc.errors()[0]['msg']}"
            ) from exc
        for call in calls:
            self._registry.get(call.workflow)  # only registered workflows run, retries included
            if call.input:
                self._registry.validate_input(call.workflow, call.input)
        return {"calls": [call.model_dump(mode="json") for call in calls]}

    def on_approve(self, item: ReviewItem, payload: dict[str, Any]) -> None:
        if not item.work_id:
            raise ConflictError(f"review {item.review_id} has no work to run")
        calls = _HeldCalls.model_validate(payload).calls
        work = self._engine().approve(item.work_id, calls, item.resolved_by or "reviewer")
        logger.info(
            "approved work moved", review_id=item.review_id, work_id=work.work_id, state=work.state.value
        )

    def on_reject(self, item: ReviewItem, reason: str) -> None:
        if item.work_id:
            self._engine().reject(item.work_id, item.resolved_by or "reviewer", reason)


def build_resolver(settings: Settings) -> DecisionReviewResolver:
    from tray_agent.domain.agent.service import build_work_engine

    return DecisionReviewResolver(
        ToolRegistry.from_file(settings.workflows_file), lambda: build_work_engine(settings)
    )
