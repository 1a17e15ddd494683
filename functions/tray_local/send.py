"""Talk to a tray-agent API as its callers do: signed machine requests and reviewer requests.

Used by ``tray-agent send`` / ``drop`` and by tests. Credentials, in order: the environment
(``TRAY_AGENT_SIGNING_SECRET``, ``TRAY_AGENT_REVIEWER_TOKEN``), Secrets Manager (the deployed
stack's secrets, named by ``--signing-secret-name`` / ``--reviewer-tokens-secret-name`` or the
usual ``TRAY_AGENT_*_SECRET_NAME`` variables), and for an API on this machine the well-known local
values ``tray-agent serve`` uses.

A stack deployed with reviewer sign-in (Cognito, ``TRAY_AGENT_REVIEWER_AUTH=jwt``) refuses static
tokens: pass a signed-in reviewer's ID token instead (``--id-token`` or ``TRAY_AGENT_ID_TOKEN``,
e.g. from the console's sign-in or ``aws cognito-idp initiate-auth``). Reviewer reads then go under
``/signed-in``, the prefix API Gateway's JWT authorizer verifies.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tray_local.cli_common import CommandFailedError, aws_session

TERMINAL_INTAKE = frozenset({"refused", "ordered", "rejected", "failed", "in_review", "held"})


def signed_headers(secret: str, body: bytes) -> dict[str, str]:
    from tray_agent.domain.auth import sign

    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
    return {
        "Content-Type": "application/json",
        "X-Tray-Agent-Timestamp": timestamp,
        "X-Tray-Agent-Nonce": nonce,
        "X-Tray-Agent-Signature": sign(secret, timestamp, nonce, body),
    }


def is_local(api_url: str) -> bool:
    return (urlsplit(api_url).hostname or "") in ("127.0.0.1", "localhost", "::1")


@dataclass
class Credentials:
    api_url: str
    region: str | None = None
    profile: str | None = None
    signing_secret_name: str | None = None
    reviewer_tokens_secret_name: str | None = None
    reviewer: str | None = None
    id_token: str | None = None

    def signing_secret(self) -> str:
        from tray_local.local_env import LOCAL_SIGNING_SECRET

        if os.environ.get("TRAY_AGENT_SIGNING_SECRET"):
            return os.environ["TRAY_AGENT_SIGNING_SECRET"]
        name = self.signing_secret_name or os.environ.get("TRAY_AGENT_SIGNING_SECRET_NAME")
        if name:
            return self._secret(name)
        if is_local(self.api_url):
            return LOCAL_SIGNING_SECRET
        raise CommandFailedError(
            "no signing secret: set TRAY_AGENT_SIGNING_SECRET or pass --signing-secret-name", usage=True
        )

    def signed_in_token(self) -> str | None:
        """A Cognito ID token for a stack with reviewer sign-in, if one was given."""
        return self.id_token or os.environ.get("TRAY_AGENT_ID_TOKEN") or None

    def reviewer_headers_and_prefix(self) -> tuple[dict[str, str], str]:
        """How a reviewer request is authenticated: an ID token under the JWT authorizer's prefix,
        else a static reviewer token on the plain routes."""
        from tray_agent.domain.auth import SIGNED_IN_PREFIX

        token = self.signed_in_token()
        if token:
            return {"Authorization": f"Bearer {token}"}, SIGNED_IN_PREFIX
        return {"Authorization": f"Bearer {self.reviewer_token()}"}, ""

    def reviewer_token(self) -> str:
        from tray_local.local_env import LOCAL_REVIEWER_TOKEN

        if os.environ.get("TRAY_AGENT_REVIEWER_TOKEN"):
            return os.environ["TRAY_AGENT_REVIEWER_TOKEN"]
        name = self.reviewer_tokens_secret_name or os.environ.get("TRAY_AGENT_REVIEWER_TOKENS_SECRET_NAME")
        if name:
            try:
                tokens = json.loads(self._secret(name))
            except ValueError:
                raise CommandFailedError(f"secret {name} is not a JSON object of reviewer tokens") from None
            if not isinstance(tokens, dict) or not tokens:
                raise CommandFailedError(f"secret {name} holds no reviewer tokens")
            reviewer = self.reviewer or next(iter(tokens))
            if reviewer not in tokens:
                raise CommandFailedError(f"secret {name} has no token for reviewer {reviewer!r}")
            return str(tokens[reviewer])
        if is_local(self.api_url):
            return LOCAL_REVIEWER_TOKEN
        raise CommandFailedError(
            "no reviewer credentials: pass --id-token (a stack with reviewer sign-in), set "
            "TRAY_AGENT_REVIEWER_TOKEN or pass --reviewer-tokens-secret-name",
            usage=True,
        )

    def _secret(self, name: str) -> str:
        client = aws_session(self.region, self.profile).client("secretsmanager")
        return str(client.get_secret_value(SecretId=name)["SecretString"])


@dataclass
class Answer:
    status: int
    body: Any


def request(
    method: str, url: str, *, body: bytes = b"", headers: dict[str, str] | None = None, timeout: float = 60
) -> Answer:
    import httpx

    try:
        response = httpx.request(method, url, content=body or None, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        raise CommandFailedError(f"cannot reach {url}: {exc or type(exc).__name__}") from None
    try:
        parsed: Any = response.json()
    except ValueError:
        parsed = response.text
    return Answer(response.status_code, parsed)


def describe_error(answer: Answer) -> str:
    if isinstance(answer.body, dict) and "message" in answer.body:
        name = answer.body.get("error") or ""
        return f"HTTP {answer.status} {name}: {answer.body['message']}".replace(" :", ":")
    return f"HTTP {answer.status}: {str(answer.body)[:200]}"


def post_event(credentials: Credentials, event: dict[str, Any]) -> Answer:
    body = json.dumps(event).encode()
    headers = signed_headers(credentials.signing_secret(), body)
    return request("POST", f"{credentials.api_url.rstrip('/')}/events", body=body, headers=headers)


def follow_intake(
    credentials: Credentials, bucket: str, key: str, *, timeout_s: float = 120, poll_s: float = 0.5
) -> list[dict[str, Any]]:
    """The intake records of one dropped object, once each reached an outcome (or the timeout)."""
    from urllib.parse import urlencode

    headers, prefix = credentials.reviewer_headers_and_prefix()
    query = urlencode({"bucket": bucket, "key": key})
    url = f"{credentials.api_url.rstrip('/')}{prefix}/po/intake?{query}"
    deadline = time.monotonic() + timeout_s
    records: list[dict[str, Any]] = []
    while True:
        answer = request("GET", url, headers=headers)
        if answer.status != 200:
            raise CommandFailedError(f"cannot follow the drop: {describe_error(answer)}")
        records = list(answer.body)
        if records and all(record.get("status") in TERMINAL_INTAKE for record in records):
            return records
        if time.monotonic() > deadline:
            state = ", ".join(str(r.get("status")) for r in records) or "not picked up yet"
            raise CommandFailedError(f"no outcome for s3://{bucket}/{key} within {timeout_s:.0f}s ({state})")
        time.sleep(poll_s)
