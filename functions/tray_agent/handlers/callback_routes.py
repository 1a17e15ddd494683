"""Failure callbacks from Tray's alerting workflow, as a Router the API handler includes.

Signed like every machine sender (domain/auth.py): the route is a POST outside the reviewer
paths. Wired in ``handlers/api.py`` with ``app.include_router(callback_router)``.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from tray_agent.clock import utc_now
from tray_agent.config import Settings, get_settings
from tray_agent.models.callbacks import CallbackAnswer, TrayFailureCallback

if TYPE_CHECKING:
    from tray_agent.domain.monitor.callbacks import FailureCallbacks

router = APIGatewayHttpRouter()


@cache
def _callbacks_for(settings: Settings) -> FailureCallbacks:
    from tray_agent.domain.monitor.callbacks import build_failure_callbacks  # the monitor loads here

    return build_failure_callbacks(settings)


@router.post(
    "/callbacks/tray-failure",
    summary="One failed Tray execution from Tray's alerting workflow (HMAC-signed): recovered at once",
    responses={202: {"description": "Classified and recovered, queued, or already handled"}},
)
def tray_failure(callback: Annotated[TrayFailureCallback, Body()]) -> Response[CallbackAnswer]:
    context = router.lambda_context
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    answer = _callbacks_for(get_settings()).handle(callback, utc_now(), remaining_ms=remaining)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=answer)
