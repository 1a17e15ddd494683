"""HTTP API: inbound events, decisions, health. Thin: parse, call the domain, answer."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tray_agent.config import get_settings
from tray_agent.data.idempotency import OncePerKey
from tray_agent.domain.agent.service import EventService, build_event_service
from tray_agent.errors import PayloadTooLargeError, TrayAgentError
from tray_agent.handlers.http_errors import error_response, proxy_error_response, validation_error_response
from tray_agent.models.decisions import DecisionRecord
from tray_agent.models.events import EventAccepted, InboundEvent
from tray_agent.observability import logger, metrics, tracer

settings = get_settings()
app = APIGatewayHttpResolver(enable_validation=True)


@cache
def _service() -> EventService:
    return build_event_service(settings)


@cache
def _handle_once() -> OncePerKey[InboundEvent, EventAccepted]:
    return OncePerKey(
        _service().handle,
        table_name=settings.idempotency_table,
        key_path="id",
        output_model=EventAccepted,
        expires_after_s=settings.idempotency_expiry_s,
    )


@app.post("/events", summary="Submit a business event", responses={202: {"description": "Accepted"}})
def post_event(event: Annotated[InboundEvent, Body()]) -> Response[EventAccepted]:
    accepted: EventAccepted = _handle_once()(event)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=accepted)


@app.get("/decisions/<decision_id>", summary="Read one decision's audit record")
def get_decision(decision_id: str) -> DecisionRecord:
    return _service().get_decision(decision_id)


@app.get("/health", summary="Liveness")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    schema = app.get_openapi_json_schema(title="tray-agent API", version="1.0.0")
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=schema)


@app.exception_handler(TrayAgentError)
def on_domain_error(exc: TrayAgentError) -> Response[str]:
    return error_response(exc)


@app.exception_handler(RequestValidationError)
def on_validation_error(exc: RequestValidationError) -> Response[str]:
    return validation_error_response(exc)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    body = event.get("body") or ""
    # Checked before routing: the resolver's validation would otherwise parse a huge body first.
    if len(body) > settings.max_body_bytes * (4 / 3 if event.get("isBase64Encoded") else 1):
        too_large = PayloadTooLargeError(f"request body exceeds the {settings.max_body_bytes} byte limit")
        return proxy_error_response(too_large)
    _handle_once().register_lambda_context(context)
    return app.resolve(event, context)
