"""The API contract tells the truth: the committed openapi.json is what the code serves, and
property-based requests (schemathesis) against ``tray-agent serve`` get no server error and no
status or body the document does not declare."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, settings

from tests.serve.conftest import REPO, Served
from tray_agent.domain.auth import sign
from tray_local.local_env import LOCAL_REVIEWER_TOKEN, LOCAL_SIGNING_SECRET

OPENAPI_FILE = REPO / "openapi.json"
schema = schemathesis.openapi.from_path(OPENAPI_FILE)


def test_the_committed_document_is_what_the_code_generates() -> None:
    from tray_agent.handlers.api import app
    from tray_agent.handlers.openapi_doc import openapi_document

    committed = json.loads(Path(OPENAPI_FILE).read_text())
    generated = openapi_document(app)
    assert committed == generated, (
        "openapi.json differs from the code: regenerate it with "
        "`python -m tray_agent.handlers.openapi_doc > openapi.json` and review the diff"
    )


def test_the_served_document_is_the_committed_one(served: Served) -> None:
    answer = requests.get(f"{served.api_url}/openapi.json", timeout=10)
    assert answer.status_code == 200
    assert answer.json() == json.loads(Path(OPENAPI_FILE).read_text())


def test_every_route_declares_its_credentials_and_the_one_error_model() -> None:
    document = json.loads(Path(OPENAPI_FILE).read_text())
    assert set(document["components"]["securitySchemes"]) == {
        "hmacSignature",
        "hmacTimestamp",
        "hmacNonce",
        "reviewerToken",
    }
    for path, item in document["paths"].items():
        for method, operation in item.items():
            errors = {s: r for s, r in operation["responses"].items() if int(s) >= 400}
            assert {"400", "413", "422"} <= set(errors), (method, path)
            for response in errors.values():
                content = response["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
                assert set(content["example"]) == {"error", "message", "details"}
            if path != "/health":
                assert operation["security"], (method, path)
                assert "401" in errors, (method, path)


class _RealCredentials(requests.auth.AuthBase):
    """Makes the credentials schemathesis generated real: a signature over the body actually
    sent, the local reviewer token. A header it left out (a negative case) stays out."""

    def __call__(self, request: Any) -> Any:
        body = request.body or b""
        raw = body.encode() if isinstance(body, str) else body
        timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
        real = {
            "X-Tray-Agent-Timestamp": timestamp,
            "X-Tray-Agent-Nonce": nonce,
            "X-Tray-Agent-Signature": sign(LOCAL_SIGNING_SECRET, timestamp, nonce, raw),
            "Authorization": f"Bearer {LOCAL_REVIEWER_TOKEN}",
        }
        for name, value in real.items():
            if name in request.headers:
                request.headers[name] = value
        return request


@schema.parametrize()
@settings(
    max_examples=4,  # bounded: 20 operations, positive and negative data, about a minute in all
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_the_served_api_conforms_to_the_document(case: schemathesis.Case, served: Served) -> None:
    # Every check runs: no 5xx (not_a_server_error), only documented statuses, bodies matching
    # their schemas, content types, and 405 for methods a path does not serve.
    case.call_and_validate(base_url=served.api_url, auth=_RealCredentials())
