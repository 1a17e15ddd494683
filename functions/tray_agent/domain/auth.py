"""API authentication: HMAC-signed machine requests and reviewer bearer tokens.

Machine senders sign ``<timestamp>.<nonce>.<raw body>`` with HMAC-SHA256 and the shared secret:

    X-Tray-Agent-Timestamp: 1767225600            (unix seconds; 5-minute window)
    X-Tray-Agent-Nonce: 3f2a9c...                 (unique per request, 16-128 of [A-Za-z0-9_-])
    X-Tray-Agent-Signature: v1=<hex HMAC-SHA256(secret, f"{timestamp}.{nonce}.".encode() + body)>

A request outside the window, or whose nonce was already used, is a replay (401).

Reviewers send ``Authorization: Bearer <token>``; the token names the reviewer, so the audit
trail says who approved. Secrets come from Secrets Manager (Powertools Parameters, cached) in
Lambda and from Settings locally. Without configured secrets every protected request is
refused (fail closed).

Deployed with Cognito (``Settings.reviewer_auth == "jwt"``), reviewers sign in through the user
pool's hosted UI and API Gateway's JWT authorizer verifies their token on the reviewer routes
before the function runs. The function then takes the reviewer from the verified claims API
Gateway passes along (``requestContext.authorizer.jwt.claims``: only API Gateway can set them),
requires membership of ``Settings.reviewer_group`` (``cognito:groups``), and accepts no static
token. Machine senders keep HMAC either way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from tray_agent.clock import epoch_s
from tray_agent.config import Settings
from tray_agent.data.context import NonceStore
from tray_agent.errors import AuthenticationError, ForbiddenError

TIMESTAMP_HEADER = "x-tray-agent-timestamp"
SIGNATURE_HEADER = "x-tray-agent-signature"
NONCE_HEADER = "x-tray-agent-nonce"
AUTHORIZATION_HEADER = "authorization"
SIGNATURE_VERSION = "v1"
# Header shapes, matched with fullmatch (``$`` would let a trailing newline through). Checked
# before any use: int() accepts "1_0" and non-ASCII digits, and hmac.compare_digest raises
# TypeError on non-ASCII text, which would surface as a 500 instead of a 401.
NONCE_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,128}")
TIMESTAMP_PATTERN = re.compile(r"[0-9]{1,12}")
SIGNATURE_PATTERN = re.compile(rf"{SIGNATURE_VERSION}=[0-9a-f]{{64}}")


# Deployed with Cognito, the console calls every route under this prefix, which API Gateway sends
# through the JWT authorizer (reviewer_sign_in.py); the resolver strips it (handlers/api.py). So a
# reviewer's reads of routes that also serve signed machine reads carry verified claims too.
SIGNED_IN_PREFIX = "/signed-in"


class Access(StrEnum):
    PUBLIC = "public"
    SIGNED = "signed"  # machine senders
    REVIEWER = "reviewer"  # people with a reviewer token
    READER = "reader"  # either


@dataclass(frozen=True)
class Principal:
    kind: str  # "sender", "reviewer", "anonymous"
    name: str


ANONYMOUS = Principal("anonymous", "anonymous")


def required_access(method: str, path: str) -> Access:
    """Which credential a route needs (decided before routing, so 401 precedes validation)."""
    if path in ("/health", "/openapi.json"):
        return Access.PUBLIC
    if method == "GET" and (path == "/console" or path.startswith("/console/")):
        return Access.PUBLIC  # the console's static files: no data; its data calls carry a token
    if path.startswith(("/reviews", "/dead-letters")) or (method == "POST" and path.startswith("/work/")):
        return Access.REVIEWER  # people decide: approvals, held work, dead letters
    if method == "POST" and path.startswith("/po/intake/") and path.endswith("/rerun"):
        return Access.REVIEWER  # an operator's act, recorded with their name: not a machine's
    if method == "GET":
        return Access.READER
    return Access.SIGNED


def sign(secret: str, timestamp: int | str, nonce: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.{nonce}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def _is_latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


class Authenticator:
    def __init__(self, settings: Settings, nonces: NonceStore | None = None) -> None:
        self._settings = settings
        self._nonces = nonces or NonceStore(settings.context_table)

    def authenticate(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        claims: Mapping[str, object] | None = None,
    ) -> Principal:
        """``claims``: the JWT claims API Gateway verified for this request (jwt mode), if any."""
        access = required_access(method, path)
        if access is Access.PUBLIC:
            return ANONYMOUS
        lowered = {k.lower(): v for k, v in headers.items()}
        if self._settings.reviewer_auth == "jwt":
            return self._jwt_mode(access, lowered, body, claims)
        if access in (Access.REVIEWER, Access.READER) and AUTHORIZATION_HEADER in lowered:
            return self._reviewer(lowered[AUTHORIZATION_HEADER])
        if access in (Access.SIGNED, Access.READER):
            return self._signed(lowered, body)
        raise AuthenticationError("a reviewer token is required (Authorization: Bearer <token>)")

    def _jwt_mode(
        self, access: Access, headers: dict[str, str], body: bytes, claims: Mapping[str, object] | None
    ) -> Principal:
        if claims and access in (Access.REVIEWER, Access.READER):
            return reviewer_from_claims(claims, self._settings.reviewer_group)
        if access is Access.SIGNED or (access is Access.READER and AUTHORIZATION_HEADER not in headers):
            return self._signed(headers, body)
        # A reviewer route without verified claims never came through the JWT authorizer (or the
        # reader route has none): a static token is no reviewer identity when Cognito is in use.
        raise AuthenticationError(
            "sign in through the reviewers' identity provider (Cognito hosted UI); "
            "this request carries no verified sign-in"
        )

    def _signed(self, headers: dict[str, str], body: bytes) -> Principal:
        timestamp, signature = headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER)
        nonce = headers.get(NONCE_HEADER, "")
        if not timestamp or not signature:
            raise AuthenticationError("the request is not signed")
        if not isinstance(nonce, str) or not NONCE_PATTERN.fullmatch(nonce):
            raise AuthenticationError("the request needs a nonce (16-128 of A-Z a-z 0-9 _ -)")
        if not isinstance(timestamp, str) or not TIMESTAMP_PATTERN.fullmatch(timestamp):
            raise AuthenticationError("the signature timestamp is not unix seconds")
        signature = signature.strip() if isinstance(signature, str) else ""
        if not SIGNATURE_PATTERN.fullmatch(signature):
            raise AuthenticationError(
                f"the signature header is malformed (expected {SIGNATURE_VERSION}=<64 hex>)"
            )
        sent_at = int(timestamp)
        now = epoch_s()
        window = self._settings.signature_tolerance_s
        if abs(now - sent_at) > window:
            raise AuthenticationError("the signature timestamp is outside the allowed window")
        secret = self._signing_secret()
        if not secret:
            raise AuthenticationError("request signing is not configured")
        if not hmac.compare_digest(sign(secret, timestamp, nonce, body), signature):
            raise AuthenticationError("the signature does not match")
        # Only a valid signature claims its nonce, so garbage cannot burn a sender's nonces.
        if not self._nonces.first_use(nonce, now=int(now), expires_at=int(now) + 2 * window):
            raise AuthenticationError("the request was already received (replayed nonce)")
        return Principal("sender", "signed-sender")

    def _reviewer(self, authorization: str) -> Principal:
        if not isinstance(authorization, str) or not _is_latin1(authorization):
            # HTTP header values are latin-1 at most; anything else (a lone surrogate) has no bytes.
            raise AuthenticationError("the Authorization header is not valid header text")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("use Authorization: Bearer <reviewer token>")
        presented = token.strip().encode()
        for name, known in self._reviewer_tokens().items():
            if known and hmac.compare_digest(known.encode(errors="surrogatepass"), presented):
                return Principal("reviewer", name)
        raise AuthenticationError("unknown reviewer token")

    def _signing_secret(self) -> str:
        if self._settings.signing_secret_name and not self._settings.signing_secret:
            from tray_agent.data.secrets import read_secret

            return read_secret(self._settings.signing_secret_name)
        return self._settings.signing_secret

    def _reviewer_tokens(self) -> dict[str, str]:
        raw = self._settings.reviewer_tokens
        if self._settings.reviewer_tokens_secret_name and not raw:
            from tray_agent.data.secrets import read_secret

            raw = read_secret(self._settings.reviewer_tokens_secret_name)
        if not raw:
            return {}
        try:
            tokens = json.loads(raw)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in tokens.items()} if isinstance(tokens, dict) else {}


def _groups(value: object) -> set[str]:
    """``cognito:groups`` as API Gateway passes it: a list, or HTTP APIs' flattened ``"[a b]"``."""
    if isinstance(value, list | tuple):
        return {str(item) for item in value}
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        return {part.strip(" \"'") for part in re.split(r"[,\s]+", text) if part.strip(" \"'")}
    return set()


def reviewer_from_claims(claims: Mapping[str, object], group: str) -> Principal:
    """The reviewer API Gateway's JWT authorizer verified: named by e-mail (else user name), and
    only if they belong to the reviewers group (403 otherwise: signed in, but not a reviewer)."""
    name = next(
        (
            str(claims[key]).strip()
            for key in ("email", "cognito:username", "username")
            if isinstance(claims.get(key), str) and str(claims[key]).strip()
        ),
        "",
    )
    if not name:
        raise AuthenticationError("the sign-in token names no user (no email or cognito:username claim)")
    if group not in _groups(claims.get("cognito:groups")):
        raise ForbiddenError(f"signed in, but not a member of the '{group}' group")
    return Principal("reviewer", name)
