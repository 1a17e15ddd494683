"""The console's routes: its static files (open) and PO page images (read credential).

Static files carry no data: every figure the console shows comes from the JSON routes, called
with the reviewer's token, so the console is one more client of the API and no second path.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TypeVar

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from tray_agent.config import get_settings
from tray_agent.errors import NotFoundError

router = APIGatewayHttpRouter()

_F = TypeVar("_F", bound=Callable[..., object])


def _binary(route: _F) -> _F:
    """Hide a binary route's return annotation from Powertools' response validation.

    With validation on, Powertools serializes the returned body by the annotation as JSON
    (bytes as UTF-8 text), which fails for a PNG; a route without an annotation passes a
    non-JSON ``Response`` through untouched, and the body is then base64-encoded for API
    Gateway as any bytes body is. Type checkers still see the annotation.
    """
    signature = inspect.signature(route)
    route.__signature__ = signature.replace(return_annotation=inspect.Signature.empty)  # type: ignore[attr-defined]
    return route


# The page is not cached by browsers or proxies: a reviewer's screen must show the current code.
_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


# Every script and style is our own file; images are the page PNGs, fetched as blobs.
# Deployed with Cognito the page also talks to the user pool's token endpoint (code + PKCE).
def _csp() -> str:
    cognito = get_settings().cognito_domain_url if get_settings().reviewer_auth == "jwt" else ""
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
        f"connect-src 'self'{' ' + cognito if cognito else ''}; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def _asset(name: str) -> Response[str]:
    from tray_agent.console import read_asset  # the files are read on the first console request

    found = read_asset(name)
    if found is None:
        raise NotFoundError(f"the console has no file {name!r}")
    text, content_type = found
    return Response(
        status_code=200,
        content_type=content_type,
        body=text,
        headers={**_NO_STORE, "Content-Security-Policy": _csp()},
    )


@router.get("/console", include_in_schema=False)
def console_root() -> Response[str]:
    # Relative, so a named stage (/prod/console) lands on /prod/console/ and asset URLs resolve.
    return Response(status_code=308, body="", headers={"Location": "console/"})


@router.get("/console/", include_in_schema=False)
def console_index() -> Response[str]:
    return _asset("index.html")


@router.get("/console/sign-in", include_in_schema=False)
def console_sign_in() -> Response[str]:
    """How the console signs a reviewer in: a typed token (local), or the Cognito hosted UI (deployed)."""
    import json

    from tray_agent.domain.auth import SIGNED_IN_PREFIX

    settings = get_settings()
    jwt = settings.reviewer_auth == "jwt"
    body = {
        "mode": settings.reviewer_auth,
        "domain_url": settings.cognito_domain_url if jwt else "",
        "client_id": settings.cognito_client_id if jwt else "",
        "api_prefix": SIGNED_IN_PREFIX if jwt else "",
    }
    return Response(
        status_code=200, content_type="application/json", body=json.dumps(body), headers=_NO_STORE
    )


@router.get("/console/<name>", include_in_schema=False)
def console_asset(name: str) -> Response[str]:
    return _asset(name)


@router.get(
    "/po/intake/<intake_id>/pages/<page>.png",
    summary="One page of a dropped PO's PDF as a PNG image (page: 1-based)",
    responses={200: {"description": "The page", "content": {"image/png": {}}}},
)
@_binary
def get_intake_page(intake_id: str, page: int) -> Response[bytes]:
    from tray_agent.domain.po.pages import PageImages  # pypdfium2 and the parser: on first use

    if page < 1:
        raise NotFoundError(f"pages are numbered from 1, there is no page {page}")
    png, pages = PageImages(get_settings()).page_png(intake_id, page)
    return Response(
        status_code=200,
        content_type="image/png",
        body=png,
        # X-Page-Count: the viewer shows "page 1 of N" and never asks for a page that is not there.
        headers={"Cache-Control": "private, max-age=300", "X-Page-Count": str(pages)},
    )
