"""Dead-letter routes for the HTTP API (reviewer/operator token), as a Router the API includes.

Wire in ``handlers/api.py``: ``app.include_router(dead_letter_router)`` (imported from here);
``domain/auth.py`` requires a reviewer token for ``/dead-letters``. The stack grants the API
function read/delete on the two queues and InvokeFunction on the functions they belong to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from tray_agent.config import get_settings
from tray_agent.models.dead_letters import DeadLetterListing, DeadLetterQueue, RedriveReport, RedriveRequest

if TYPE_CHECKING:
    from tray_agent.domain.auth import Principal
    from tray_agent.domain.redrive import DeadLetterService

router = APIGatewayHttpRouter()


def _service() -> DeadLetterService:
    # The redrive service (and its clients) loads with the first dead-letter request.
    from tray_agent.domain.redrive import build_dead_letter_service

    return build_dead_letter_service(get_settings())


@router.get("/dead-letters", summary="Dead letters waiting in each queue (reviewer token); they stay queued")
def list_dead_letters(
    queue: Annotated[DeadLetterQueue | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> DeadLetterListing:
    return _service().list_letters(queue, limit)


@router.post(
    "/dead-letters/redrive",
    summary="Re-submit dead letters to their functions; each is deleted only once Lambda accepted it",
)
def redrive_dead_letters(request: Annotated[RedriveRequest | None, Body()] = None) -> RedriveReport:
    principal: Principal | None = router.context.get("principal")
    return _service().redrive(request or RedriveRequest(), requested_by=principal.name if principal else "")
