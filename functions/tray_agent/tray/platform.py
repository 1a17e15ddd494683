"""The Platform (Connectivity) API, as described by tray-platform-openapi.yml."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from tray_agent.tray.endpoints import TrayEndpoints
from tray_agent.tray.errors import TrayAuthRefreshFailedError, TrayBadRequestError, TrayNotFoundError
from tray_agent.tray.http import RetrySafety, TrayHttp, encode_json
from tray_agent.tray.models import Authentication, Connector, ConnectorVersion, Subscription, Trigger
from tray_agent.tray.tokens import TokenKind


@dataclass(frozen=True)
class AuthProbe:
    """A read-only connector operation that needs the authentication, e.g. Salesforce
    ``get_picklist_values`` of Account.Industry: what ``authentication_valid`` calls."""

    connector: str
    version: str
    operation: str
    input: dict[str, Any] = field(default_factory=dict)


# Tray's answers that mean "this authentication cannot be used" (seed 001, the Platform API).
_INVALID_AUTH_CODES = frozenset({"AUTH_REFRESH_FAILED", "INVALID_AUTH"})


class PlatformClient:
    """Master token for the catalogue (connectors, triggers); user token for user-scoped calls."""

    def __init__(self, http: TrayHttp, endpoints: TrayEndpoints, token: Callable[[TokenKind], str]) -> None:
        self._http = http
        self._base = endpoints.platform
        self._token = token

    def list_connectors(self) -> list[Connector]:
        body = self._get("platform.list_connectors", "/connectors", "master")
        return [Connector.model_validate(item) for item in body.get("elements", [])]

    def get_connector_version(self, name: str, version: str) -> ConnectorVersion:
        body = self._get(
            "platform.get_connector_version", f"/connectors/{_p(name)}/versions/{_p(version)}", "master"
        )
        return ConnectorVersion.model_validate(body)

    def call_connector(
        self,
        name: str,
        version: str,
        operation: str,
        *,
        auth_id: str | None,
        input: dict[str, Any],
        idempotent: bool = False,
    ) -> dict[str, Any]:
        """Run one connector operation. Billable and possibly a write: only repeated when Tray
        certainly did not act, unless the caller says the operation is a read (``idempotent``)."""
        request: dict[str, Any] = {"operation": operation, "input": input}
        if auth_id:
            request["authId"] = auth_id
        response = self._http.request(
            "platform.call_connector",
            "POST",
            f"{self._base}/connectors/{_p(name)}/versions/{_p(version)}/call",
            safety=RetrySafety.IDEMPOTENT if idempotent else RetrySafety.REJECTED_ONLY,
            token=self._token("user"),
            body=encode_json(request),
        )
        output = response.json()
        return output if isinstance(output, dict) else {"value": output}

    def list_authentications(self) -> list[Authentication]:
        body = self._get("platform.list_authentications", "/authentications", "user")
        return [Authentication.model_validate(item) for item in body.get("elements", [])]

    def get_authentication(self, authentication_id: str) -> Authentication:
        body = self._get("platform.get_authentication", f"/authentications/{_p(authentication_id)}", "user")
        return Authentication.model_validate(body)

    def authentication_valid(self, authentication_id: str, probe: AuthProbe) -> bool:
        """Whether ``authentication_id`` works (the probe that closes an auth incident).

        The Platform API's authentication schema has no validity field (id, name,
        serviceEnvironmentId, scopes, createdAt), so existence is read with GET
        /authentications/{id} and validity with one read-only connector call using it (billable:
        call it at a probe's pace, not per item). False when Tray no longer has it or answers
        AUTH_REFRESH_FAILED / INVALID_AUTH; any other failure raises (nothing was learnt).
        """
        try:
            self.get_authentication(authentication_id)
        except TrayNotFoundError:
            return False
        try:
            self.call_connector(
                probe.connector,
                probe.version,
                probe.operation,
                auth_id=authentication_id,
                input=probe.input,
                idempotent=True,
            )
        except (TrayAuthRefreshFailedError, TrayBadRequestError) as exc:
            if exc.code in _INVALID_AUTH_CODES:
                return False
            raise
        return True

    def list_triggers(self) -> list[Trigger]:
        body = self._get("platform.list_triggers", "/triggers", "master")
        return [Trigger.model_validate(item) for item in body.get("elements", [])]

    def create_subscription(
        self,
        *,
        trigger_name: str,
        connector_name: str,
        connector_version: str,
        auth_id: str,
        input: dict[str, Any],
    ) -> Subscription:
        request = {
            "triggerName": trigger_name,
            "connectorName": connector_name,
            "connectorVersion": connector_version,
            "authId": auth_id,
            "input": input,
        }
        response = self._http.request(
            "platform.create_subscription",
            "POST",
            f"{self._base}/subscriptions",
            safety=RetrySafety.REJECTED_ONLY,
            token=self._token("user"),
            body=encode_json(request),
        )
        return Subscription.model_validate(response.json())

    def delete_subscription(self, subscription_id: str) -> None:
        self._http.request(
            "platform.delete_subscription",
            "DELETE",
            f"{self._base}/subscriptions/{_p(subscription_id)}",
            safety=RetrySafety.IDEMPOTENT,
            token=self._token("user"),
        )

    def _get(self, operation: str, path: str, token_kind: TokenKind) -> dict[str, Any]:
        response = self._http.request(
            operation, "GET", self._base + path, safety=RetrySafety.IDEMPOTENT, token=self._token(token_kind)
        )
        body: dict[str, Any] = response.json()
        return body


def _p(segment: str) -> str:
    return quote(segment, safe="")
