"""Deployed with Cognito, reviewers are who API Gateway's JWT authorizer verified; locally, tokens.

The events are API Gateway v2 events as the JWT authorizer passes them on: the verified claims
under ``requestContext.authorizer.jwt.claims`` (HTTP APIs flatten a list claim to ``"[a b]"``).
"""

from __future__ import annotations

import json
from typing import Any

from tests.agent.conftest import customer
from tests.agent.test_reviews_and_auth import signed
from tests.conftest import new_event
from tray_agent.handlers import api
from tray_local.apigw import HttpAnswer, LambdaContext, http_api_event

REVIEWER_CLAIMS = {
    "sub": "5f1c0b7e-0000-4000-8000-000000000001",
    "email": "rita@example.com",
    "cognito:username": "rita",
    "cognito:groups": "[reviewers operators]",
    "token_use": "id",
}


def _call(
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    claims: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpAnswer:
    event = http_api_event(method, path, body, headers=headers)
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return HttpAnswer.from_proxy_result(api.handler(event, LambdaContext()))


def _held_refund(env: Any) -> str:
    event = new_event(
        "refund.requested", customer_id=customer(), source="zendesk", data={"amount": 120, "currency": "EUR"}
    )
    answer = env.api("POST", "/events", event)
    assert answer.status == 202, answer.body
    review_id: str = answer.body["review_id"]
    assert review_id
    return review_id


def test_a_verified_reviewer_approves_and_is_named_by_the_claims(local_env: Any) -> None:
    review_id = _held_refund(local_env)
    with local_env.reconfigured(TRAY_AGENT_REVIEWER_AUTH="jwt"):
        listed = _call("GET", "/reviews", claims=REVIEWER_CLAIMS)
        assert listed.status == 200, listed.body
        assert review_id in [item["review_id"] for item in listed.body]
        approved = _call("POST", f"/reviews/{review_id}/approve", {}, claims=REVIEWER_CLAIMS)
        assert approved.status == 200, approved.body
        record = _call("GET", f"/reviews/{review_id}", claims=REVIEWER_CLAIMS).body
    assert record["status"] == "approved"
    assert record["resolved_by"] == "rita@example.com"


def test_group_claim_as_a_list_and_a_username_without_email(local_env: Any) -> None:
    review_id = _held_refund(local_env)
    claims = {"cognito:username": "sam", "cognito:groups": ["reviewers"]}
    with local_env.reconfigured(TRAY_AGENT_REVIEWER_AUTH="jwt"):
        rejected = _call("POST", f"/reviews/{review_id}/reject", {"reason": "duplicate"}, claims=claims)
        assert rejected.status == 200, rejected.body
        assert _call("GET", f"/reviews/{review_id}", claims=claims).body["resolved_by"] == "sam"


def test_a_signed_in_user_outside_the_reviewers_group_is_403_and_changes_nothing(local_env: Any) -> None:
    review_id = _held_refund(local_env)
    outsider = {**REVIEWER_CLAIMS, "email": "eve@example.com", "cognito:groups": "[operators]"}
    no_groups = {k: v for k, v in REVIEWER_CLAIMS.items() if k != "cognito:groups"}
    with local_env.reconfigured(TRAY_AGENT_REVIEWER_AUTH="jwt"):
        for claims in (outsider, no_groups):
            answer = _call("POST", f"/reviews/{review_id}/approve", {}, claims=claims)
            assert answer.status == 403, answer.body
            assert "reviewers" in answer.body["message"]
        assert _call("GET", f"/reviews/{review_id}", claims=REVIEWER_CLAIMS).body["status"] == "pending"


def test_jwt_mode_without_verified_claims_is_401_and_static_tokens_no_longer_count(local_env: Any) -> None:
    review_id = _held_refund(local_env)
    token = {"Authorization": "Bearer local-reviewer-token"}
    with local_env.reconfigured(TRAY_AGENT_REVIEWER_AUTH="jwt"):
        for headers in ({}, token):
            answer = _call("POST", f"/reviews/{review_id}/approve", {}, headers=headers)
            assert answer.status == 401, answer.body
            assert "sign in" in answer.body["message"]
        assert _call("GET", "/reviews", headers=token).status == 401
        # Claims that name nobody are no sign-in either.
        assert _call("GET", "/reviews", claims={"cognito:groups": "[reviewers]"}).status == 401
        # Machine senders keep HMAC: a signed event and a signed read still pass.
        body = json.dumps(new_event()).encode()
        accepted = local_env.api("POST", "/events", body, headers=signed(body), auth=False)
        assert accepted.status == 202, accepted.body
        decision_id = accepted.body["decision_id"]
        read = local_env.api("GET", f"/decisions/{decision_id}", headers=signed(b""), auth=False)
        assert read.status == 200, read.body
        assert _call("GET", "/health").status == 200
    assert _call("GET", f"/reviews/{review_id}", headers=token).body["status"] == "pending"


def test_local_token_mode_is_unchanged_and_ignores_claims(local_env: Any) -> None:
    review_id = _held_refund(local_env)
    token = {"Authorization": "Bearer local-reviewer-token"}
    # Claims do not stand in for a token when the stack did not turn Cognito on.
    assert _call("GET", "/reviews", claims=REVIEWER_CLAIMS).status == 401
    approved = _call("POST", f"/reviews/{review_id}/approve", {}, headers=token)
    assert approved.status == 200, approved.body
    assert _call("GET", f"/reviews/{review_id}", headers=token).body["resolved_by"] == "local-reviewer"


def test_signed_in_console_reads_go_through_the_authorized_prefix(local_env: Any) -> None:
    body = json.dumps(new_event()).encode()
    decision_id = local_env.api("POST", "/events", body, headers=signed(body), auth=False).body["decision_id"]
    with local_env.reconfigured(
        TRAY_AGENT_REVIEWER_AUTH="jwt",
        TRAY_AGENT_COGNITO_DOMAIN_URL="https://tray-agent-dev-1.auth.us-east-1.amazoncognito.com",
        TRAY_AGENT_COGNITO_CLIENT_ID="console-client-id",
    ):
        # A reviewer's read of a route machine senders also read: under /signed-in, with claims.
        read = _call("GET", f"/signed-in/decisions/{decision_id}", claims=REVIEWER_CLAIMS)
        assert read.status == 200, read.body
        assert read.body["decision_id"] == decision_id
        # The same read with an unverified bearer token (no authorizer on that route): refused.
        bare = _call("GET", f"/decisions/{decision_id}", headers={"Authorization": "Bearer x.y.z"})
        assert bare.status == 401
        # A machine route under the prefix still needs its HMAC signature.
        assert _call("POST", "/signed-in/events", new_event(), claims=REVIEWER_CLAIMS).status == 401

        sign_in = _call("GET", "/console/sign-in")
        assert sign_in.status == 200
        assert sign_in.body == {
            "mode": "jwt",
            "domain_url": "https://tray-agent-dev-1.auth.us-east-1.amazoncognito.com",
            "client_id": "console-client-id",
            "api_prefix": "/signed-in",
        }
        page = _call("GET", "/console/")
        csp = page.headers["Content-Security-Policy"]
        assert "connect-src 'self' https://tray-agent-dev-1.auth.us-east-1.amazoncognito.com;" in csp
    local = _call("GET", "/console/sign-in").body
    assert local == {"mode": "tokens", "domain_url": "", "client_id": "", "api_prefix": ""}
    assert "connect-src 'self';" in _call("GET", "/console/").headers["Content-Security-Policy"]
