"""In Lambda the signing key and reviewer tokens come from Secrets Manager (moto here)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3

from tests.agent.test_reviews_and_auth import signed
from tests.conftest import new_event


def test_signing_secret_and_reviewer_tokens_are_read_from_secrets_manager(local_env: Any) -> None:
    client = boto3.client("secretsmanager")
    suffix = uuid.uuid4().hex[:8]
    signing_name, reviewers_name = f"signing-{suffix}", f"reviewers-{suffix}"
    client.create_secret(Name=signing_name, SecretString="key-from-secrets-manager")
    client.create_secret(Name=reviewers_name, SecretString=json.dumps({"alice": "alice-token"}))
    with local_env.reconfigured(
        TRAY_AGENT_SIGNING_SECRET="",
        TRAY_AGENT_SIGNING_SECRET_NAME=signing_name,
        TRAY_AGENT_REVIEWER_TOKENS="",
        TRAY_AGENT_REVIEWER_TOKENS_SECRET_NAME=reviewers_name,
    ):
        body = json.dumps(new_event()).encode()
        good = signed(body, secret="key-from-secrets-manager")
        assert local_env.api("POST", "/events", body, headers=good, auth=False).status == 202
        local = local_env.api("POST", "/events", new_event())  # signed with the local key: refused
        assert local.status == 401
        reviews = local_env.api(
            "GET", "/reviews", headers={"Authorization": "Bearer alice-token"}, auth=False
        )
        assert reviews.status == 200
        refused = local_env.api(
            "GET", "/reviews", headers={"Authorization": "Bearer local-reviewer-token"}, auth=False
        )
        assert refused.status == 401
