"""Reviewers sign in with Cognito; API Gateway's JWT authorizer guards exactly the reviewer routes.

Also: the state machine may invoke its functions by their unqualified ARNs only (no ``:*``).
"""

from __future__ import annotations

import json
from typing import Any

from tray_agent.domain.auth import Access, required_access

REVIEWER_ROUTE_KEYS = {
    "ANY /reviews",
    "ANY /reviews/{proxy+}",
    "ANY /dead-letters",
    "ANY /dead-letters/{proxy+}",
    "POST /work/{proxy+}",
    "POST /po/intake/{intake_id}/rerun",
    "ANY /signed-in/{proxy+}",  # the signed-in console's calls (reads included)
}


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def test_user_pool_admin_created_strong_passwords_mfa_and_threat_protection(
    template_json: dict[str, Any],
) -> None:
    [pool] = _of_type(template_json, "AWS::Cognito::UserPool").values()
    props = pool["Properties"]
    assert props["UserPoolName"] == "tray-agent-dev-reviewers"
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True  # no self sign-up
    policy = props["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 14
    assert all(
        policy[k] for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols")
    )
    assert props["MfaConfiguration"] == "ON"
    assert props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert props["UserPoolTier"] == "PLUS"
    assert props["UserPoolAddOns"]["AdvancedSecurityMode"] == "ENFORCED"


def test_hosted_ui_domain_console_client_and_reviewers_group(template_json: dict[str, Any]) -> None:
    [domain] = _of_type(template_json, "AWS::Cognito::UserPoolDomain").values()
    assert "tray-agent-dev-" in json.dumps(domain["Properties"]["Domain"])  # the stage names it
    [client] = _of_type(template_json, "AWS::Cognito::UserPoolClient").values()
    props = client["Properties"]
    assert props["GenerateSecret"] is False
    assert props["AllowedOAuthFlows"] == ["code"]
    assert props["AllowedOAuthFlowsUserPoolClient"] is True
    assert "openid" in props["AllowedOAuthScopes"]
    callback = json.dumps(props["CallbackURLs"])
    assert "ApiEndpoint" in callback and "/console/" in callback  # the deployed console
    [group] = _of_type(template_json, "AWS::Cognito::UserPoolGroup").values()
    assert group["Properties"]["GroupName"] == "reviewers"

    outputs = template_json["Outputs"]
    for name in ("ReviewerUserPoolId", "ReviewerConsoleClientId", "ReviewerHostedUiUrl"):
        assert name in outputs
    assert "/login?client_id=" in json.dumps(outputs["ReviewerHostedUiUrl"]["Value"])


def test_jwt_authorizer_on_reviewer_routes_only(template_json: dict[str, Any]) -> None:
    [authorizer_id] = _of_type(template_json, "AWS::ApiGatewayV2::Authorizer")
    authorizer = template_json["Resources"][authorizer_id]["Properties"]
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    assert "cognito-idp" in json.dumps(authorizer["JwtConfiguration"]["Issuer"])
    assert authorizer["JwtConfiguration"]["Audience"]

    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in _of_type(template_json, "AWS::ApiGatewayV2::Route").values()
    }
    guarded = {key for key, route in routes.items() if route.get("AuthorizationType") == "JWT"}
    assert guarded == REVIEWER_ROUTE_KEYS
    for key in guarded:
        assert routes[key]["AuthorizerId"] == {"Ref": authorizer_id}
    # Machine senders (HMAC), reads, /health and the console's files stay on the open $default route.
    assert routes["$default"].get("AuthorizationType", "NONE") == "NONE"

    # The guarded routes are exactly the function's reviewer-only routes, and vice versa.
    for method, path in [
        ("GET", "/reviews"),
        ("POST", "/reviews/r1/approve"),
        ("POST", "/reviews/r1/reject"),
        ("GET", "/dead-letters"),
        ("POST", "/dead-letters/redrive"),
        ("POST", "/work/w1/release"),
        ("POST", "/po/intake/i1/rerun"),
    ]:
        assert required_access(method, path) is Access.REVIEWER, (method, path)
    for method, path in [
        ("POST", "/events"),
        ("POST", "/callbacks/tray-failure"),
        ("GET", "/decisions/d1"),
        ("GET", "/work/w1"),
        ("GET", "/console/"),
        ("GET", "/health"),
    ]:
        assert required_access(method, path) is not Access.REVIEWER, (method, path)


def test_api_function_runs_in_jwt_mode_with_the_console_sign_in_settings(
    template_json: dict[str, Any],
) -> None:
    [api] = [
        f
        for f in _of_type(template_json, "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "tray_agent.handlers.api.handler"
    ]
    variables = api["Properties"]["Environment"]["Variables"]
    assert variables["TRAY_AGENT_REVIEWER_AUTH"] == "jwt"
    assert variables["TRAY_AGENT_REVIEWER_GROUP"] == "reviewers"
    assert "amazoncognito.com" in json.dumps(variables["TRAY_AGENT_COGNITO_DOMAIN_URL"])
    assert "Ref" in variables["TRAY_AGENT_COGNITO_CLIENT_ID"]


def test_no_policy_grants_a_lambda_function_by_any_version(template_json: dict[str, Any]) -> None:
    lambda_statements = 0
    for policy in _of_type(template_json, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if not any(str(a).startswith("lambda:") for a in actions):
                continue
            lambda_statements += 1
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            for resource in resources:
                text = json.dumps(resource)
                assert not text.rstrip('"]}').endswith(":*"), statement
                assert ':*"' not in text, statement
    assert lambda_statements, "the state machine and the API invoke functions"
