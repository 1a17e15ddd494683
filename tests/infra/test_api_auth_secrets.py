"""The API function finds its authentication secrets by name and may read only those it needs.

Deployed reviewers sign in with Cognito, so the stack has no reviewer-token secret at all."""

from __future__ import annotations

import json
from typing import Any


def test_api_function_gets_the_signing_secret_and_no_reviewer_tokens(synthesized: Any) -> None:
    template, _ = synthesized
    functions = template.find_resources("AWS::Lambda::Function")
    [api] = [f for f in functions.values() if f["Properties"]["Handler"] == "tray_agent.handlers.api.handler"]
    variables = api["Properties"]["Environment"]["Variables"]
    assert "TRAY_AGENT_SIGNING_SECRET_NAME" in variables
    assert "TRAY_AGENT_REVIEWER_TOKENS_SECRET_NAME" not in variables
    assert variables["TRAY_AGENT_REVIEWER_AUTH"] == "jwt"
    assert "TRAY_AGENT_SIGNING_SECRET" not in variables  # never a secret value in the environment

    secrets = template.find_resources("AWS::SecretsManager::Secret")
    signing = [k for k, s in secrets.items() if "HMAC" in s["Properties"].get("Description", "")]
    reviewers = [k for k, s in secrets.items() if "Reviewer" in s["Properties"].get("Description", "")]
    assert len(signing) == 1 and reviewers == []
    policies = json.dumps(template.find_resources("AWS::IAM::Policy"))
    assert signing[0] in policies
