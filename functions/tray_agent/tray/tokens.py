"""Tray bearer tokens: Secrets Manager in Lambda (cached by Powertools Parameters), env locally."""

from __future__ import annotations

from typing import Literal

from tray_agent.config import Settings
from tray_agent.errors import ConfigurationError

TokenKind = Literal["master", "user"]
# A rotated secret is picked up within this many seconds without a cold start.
SECRET_MAX_AGE_S = 300


class TokenSource:
    """Hands out the master or user token; never logs or formats one."""

    def __init__(self, settings: Settings) -> None:
        self._secret_name = settings.tray_token_secret_name
        self._local = {"master": settings.tray_master_token, "user": settings.tray_user_token}

    def __repr__(self) -> str:
        return f"TokenSource(secret={self._secret_name or None!r})"

    def get(self, kind: TokenKind) -> str:
        token = self._from_secret(kind) if self._secret_name else self._local[kind]
        if not token:
            where = (
                f"secret {self._secret_name}"
                if self._secret_name
                else f"TRAY_AGENT_TRAY_{kind.upper()}_TOKEN"
            )
            raise ConfigurationError(f"no Tray {kind} token configured ({where})")
        return token

    def _from_secret(self, kind: TokenKind) -> str:
        # Imported here: Parameters pulls in boto3, which a container that never calls Tray
        # should not pay for at cold start.
        from aws_lambda_powertools.utilities import parameters

        secret = parameters.get_secret(self._secret_name, transform="json", max_age=SECRET_MAX_AGE_S)
        if not isinstance(secret, dict):
            raise ConfigurationError(f"secret {self._secret_name} is not a JSON object")
        return str(secret.get(f"{kind}_token") or "")
