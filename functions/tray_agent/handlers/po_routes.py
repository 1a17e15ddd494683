"""PO intake routes for the HTTP API, as a Router the API handler includes.

Wire in ``handlers/api.py``: ``from tray_agent.handlers.po_routes import router as po_router``
and ``app.include_router(po_router)``; grant the API function read access to the intake table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from tray_agent.config import get_settings
from tray_agent.models.po_pipeline import IntakeRecord, RerunAnswer

if TYPE_CHECKING:
    from tray_agent.domain.auth import Principal

router = APIGatewayHttpRouter()


@router.get("/po/intake/<intake_id>", summary="What became of one dropped PO document")
def get_intake(intake_id: str) -> IntakeRecord:
    from tray_agent.domain.po.queries import build_intake_queries  # the PO services load on first use

    return build_intake_queries(get_settings()).get(intake_id)


@router.get("/po/intake", summary="Every intake record of one dropped object (an email gives one per PDF)")
def list_intakes(bucket: Annotated[str, Query()], key: Annotated[str, Query()]) -> list[IntakeRecord]:
    from tray_agent.domain.po.queries import build_intake_queries

    return build_intake_queries(get_settings()).for_object(bucket, key)


@router.post(
    "/po/intake/<intake_id>/rerun",
    summary="Re-run a failed PO from its original document (reviewer token); 409 unless it failed",
    responses={202: {"description": "A new execution started"}},
)
def rerun_intake(intake_id: str) -> Response[RerunAnswer]:
    from tray_agent.domain.po.rerun import build_rerun_service

    principal: Principal = router.context["principal"]
    answer = build_rerun_service(get_settings()).rerun(intake_id, requested_by=principal.name)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=answer)
