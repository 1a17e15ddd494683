"""HTTP API: events, decisions, customers, the daily summary, reviews, health.

Thin: authenticate, parse, call the domain, answer. Heavy modules load on first use.
"""

from __future__ import annotations

import json
import threading
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from tray_agent.config import Settings, get_settings
from tray_agent.domain.agent.memory import DailySummary
from tray_agent.domain.auth import SIGNED_IN_PREFIX, Authenticator, Principal
from tray_agent.errors import MethodNotAllowedError, NotFoundError, StorageUnavailableError, TrayAgentError
from tray_agent.handlers.callback_routes import router as callback_router
from tray_agent.handlers.console_routes import router as console_router
from tray_agent.handlers.dead_letter_routes import router as dead_letter_router
from tray_agent.handlers.http_errors import error_response, proxy_error_response, validation_error_response
from tray_agent.handlers.po_routes import router as po_router
from tray_agent.handlers.request_guard import check_json_body, request_body
from tray_agent.models.batches import Batch
from tray_agent.models.decisions import DecisionRecord
from tray_agent.models.events import EventAccepted, InboundEvent
from tray_agent.models.followups import FollowUpView, HealthAssessment
from tray_agent.models.reviews import ApproveRequest, RejectRequest, ReviewItem, ReviewStatus
from tray_agent.models.work import Incident, WorkItem, WorkState
from tray_agent.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from tray_agent.domain.agent.service import EventService
    from tray_agent.domain.reviews import ReviewService


DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


class _Resolver(APIGatewayHttpResolver):
    """Powertools' resolver with its per-request state kept per thread.

    Lambda runs one request at a time per process; the local environment and the tests run
    concurrent requests as threads of one process, which must not see each other's routing
    context or current event.
    """

    _local = threading.local()

    @property
    def context(self) -> dict[str, Any]:
        if not hasattr(self._local, "context"):
            self._local.context = {}
        context: dict[str, Any] = self._local.context
        return context

    @context.setter
    def context(self, value: dict[str, Any]) -> None:
        self._local.context = value

    @property
    def current_event(self) -> Any:
        return self._local.event

    @current_event.setter
    def current_event(self, value: Any) -> None:
        self._local.event = value

    def _to_proxy_event(self, event: dict[str, Any]) -> Any:
        self._local.event = super()._to_proxy_event(event)
        return self._local.event

    def routed_request(self, event: dict[str, Any]) -> tuple[str, str]:
        """The method and path ``resolve`` will route this event by, computed the way it does.

        Powertools routes ``current_event.path`` (``rawPath`` without the named stage) after
        ``strip_prefixes``; authentication must decide on that very path, or ``/prod/reviews/…``
        would be judged as a non-review path and then routed to a review route.
        """
        proxy = super()._to_proxy_event(event)  # the resolver's own event class; no per-request state
        return proxy.http_method.upper(), self._remove_prefix(proxy.path)


# SIGNED_IN_PREFIX: the same routes behind API Gateway's JWT authorizer (reviewer sign-in).
app = _Resolver(enable_validation=True, strip_prefixes=[SIGNED_IN_PREFIX])
app.include_router(po_router)
app.include_router(dead_letter_router)
app.include_router(callback_router)
app.include_router(console_router)  # the reviewer and operator console (static files, page images)


# Built on first use and kept for the container's settings (keyed by them, so a process that
# switches settings, as local runs and tests do, never reuses services built for others).
def _service() -> EventService:
    return _service_for(get_settings())


def _reviews() -> ReviewService:
    return _reviews_for(get_settings())


@cache
def _service_for(settings: Settings) -> EventService:
    # The agent (brains, guardrails, registry, runner) loads with the first request that needs it.
    from tray_agent.domain.agent.service import build_event_service

    return build_event_service(settings)


@cache
def _reviews_for(settings: Settings) -> ReviewService:
    from tray_agent.domain.reviews import build_review_service

    return build_review_service(settings)


def _reviewer() -> str:
    principal: Principal = app.context["principal"]
    return principal.name


@app.post(
    "/events", summary="Submit a business event (HMAC-signed)", responses={202: {"description": "Accepted"}}
)
def post_event(event: Annotated[InboundEvent, Body()]) -> Response[EventAccepted]:
    # The work ledger is the idempotency: a repeated id gets the first answer, never a second run.
    accepted = _service().handle(event)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=accepted)


@app.get("/decisions/<decision_id>", summary="Read one decision's audit record")
def get_decision(decision_id: str) -> DecisionRecord:
    return _service().get_decision(decision_id)


@app.get("/customers/<customer_id>/decisions", summary="A customer's decisions, newest first")
def get_customer_decisions(customer_id: str) -> list[DecisionRecord]:
    return _service().customer_decisions(customer_id)


@app.get("/summary/<day>", summary="The daily operations summary (day: YYYY-MM-DD)")
def get_summary(day: Annotated[str, Path(pattern=DAY_PATTERN, examples=["2026-12-01"])]) -> DailySummary:
    try:
        date.fromisoformat(day)
    except ValueError:  # the right shape, but no such day in the calendar ("2026-02-30")
        raise NotFoundError(f"{day!r} is not a calendar day") from None
    from tray_agent.domain.agent.memory import OperationsSummary

    return _service().daily_summary(day, OperationsSummary(get_settings()))


@app.get("/reviews", summary="Review items by status (reviewer token)")
def list_reviews(status: Annotated[ReviewStatus, Query()] = ReviewStatus.PENDING) -> list[ReviewItem]:
    return _reviews().list(status)


@app.get("/reviews/<review_id>", summary="One review item (reviewer token)")
def get_review(review_id: str) -> ReviewItem:
    return _reviews().get(review_id)


@app.post("/reviews/<review_id>/approve", summary="Approve, optionally with an edited payload; runs once")
def approve_review(review_id: str, request: Annotated[ApproveRequest | None, Body()] = None) -> ReviewItem:
    return _reviews().approve(review_id, _reviewer(), request or ApproveRequest())


@app.post("/reviews/<review_id>/reject", summary="Reject with a reason")
def reject_review(review_id: str, request: Annotated[RejectRequest, Body()]) -> ReviewItem:
    return _reviews().reject(review_id, _reviewer(), request)


@app.get("/work", summary="Unfinished work by state (held, in_review, acting …), oldest first")
def list_work(
    state: Annotated[WorkState, Query()] = WorkState.HELD,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[WorkItem]:
    return _service().list_work(state, limit)


@app.get("/work/<work_id>", summary="One work item: its state, attempts, executions and incident")
def get_work(work_id: str) -> WorkItem:
    return _service().get_work(work_id)


@app.post("/work/<work_id>/release", summary="Run held or failed work again now (a new attempt)")
def release_work(work_id: str) -> WorkItem:
    return _service().release(work_id)


@app.post("/work/<work_id>/cancel", summary="Cancel held, failed or in-review work: it never runs")
def cancel_work(work_id: str, request: Annotated[RejectRequest, Body()]) -> WorkItem:
    return _service().cancel(work_id, _reviewer(), request.reason)


@app.get("/incidents", summary="Open incidents and the work they hold")
def list_incidents() -> list[Incident]:
    return _service().incidents()


@app.get("/batches", summary="Open batches of non-urgent work: their items and bulk run")
def list_batches() -> list[Batch]:
    return _service().batches()


@app.get("/batches/<batch_id>", summary="One batch: its items, attempt key, bulk execution, outcome")
def get_batch(batch_id: str) -> Batch:
    return _service().batch(batch_id)


@app.get("/follow-ups", summary="Follow-ups the agent scheduled, for a customer or a person (issue 12)")
def list_follow_ups(
    customer: Annotated[str | None, Query(max_length=200)] = None,
    person: Annotated[str | None, Query(max_length=320)] = None,
) -> list[FollowUpView]:
    return _service().follow_ups(customer, person)


@app.get("/customers/<customer_id>/health", summary="The customer's health, explained (issue 12)")
def get_customer_health(customer_id: str) -> HealthAssessment:
    return _service().health(customer_id)


@app.get("/health", summary="Liveness")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    from tray_agent.handlers.openapi_doc import openapi_document

    schema = json.dumps(openapi_document(app), indent=2)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=schema)


@app.not_found
def on_no_route(_: RouteNotFoundError) -> Response[str]:
    # One error body for every answer: a known path with another method is 405 (with Allow),
    # anything else 404, both as ErrorResponse rather than Powertools' own body.
    method = app.current_event.http_method.upper()
    path = app._remove_prefix(app.current_event.path)
    allowed = sorted(
        {r.method for r in app._static_routes + app._dynamic_routes if r.rule.match(path)} - {method}
    )
    if allowed:
        response = error_response(MethodNotAllowedError(f"{method} is not allowed on {path}"))
        response.headers["Allow"] = ", ".join(allowed)
        return response
    return error_response(NotFoundError(f"no route {method} {path}"))


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
    try:
        return _handle(event, context)
    except (ClientError, BotoCoreError) as exc:
        # Our own storage failed after botocore's retries (a nonce, the ledger, the audit).
        # Whatever was accepted is in the ledger and finishes on redelivery or by the sweeper:
        # the answer is "try again" (503, Retry-After), never a bare 500.
        logger.error("storage unavailable", error=type(exc).__name__)
        return proxy_error_response(StorageUnavailableError("storage is unavailable; retry shortly"))


def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    try:
        # Size first (before authentication: cheap, and the HMAC would otherwise hash a huge body).
        raw = request_body(event, settings.max_body_bytes)
        method, path = app.routed_request(event)
        principal = Authenticator(settings).authenticate(
            method, path, event.get("headers") or {}, raw, claims=_verified_claims(event)
        )
        # Then the body's shape, before routing, validation or any storage: 400/422, never a 500.
        check_json_body(raw, (event.get("headers") or {}).get("content-type"))
    except TrayAgentError as exc:  # refused before routing: nothing is parsed further, nothing changes
        return proxy_error_response(exc)
    app.append_context(principal=principal)
    return app.resolve(event, context)


def _verified_claims(event: dict[str, Any]) -> dict[str, object] | None:
    """The JWT claims API Gateway's authorizer verified (only API Gateway sets requestContext)."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = (authorizer.get("jwt") or {}).get("claims") if isinstance(authorizer, dict) else None
    return claims if isinstance(claims, dict) and claims else None
