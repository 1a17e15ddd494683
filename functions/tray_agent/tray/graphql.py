"""The Embedded (GraphQL) API: discover workflows and whether each is enabled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tray_agent.tray.endpoints import TrayEndpoints
from tray_agent.tray.errors import ERROR_CLASS_BY_CODE, TrayBadRequestError, TrayNotFoundError
from tray_agent.tray.http import RetrySafety, TrayHttp, encode_json
from tray_agent.tray.models import WorkflowSummary

LIST_WORKFLOWS_QUERY = "query { viewer { workflows { edges { node { id name enabled triggerUrl } } } } }"


class GraphQLClient:
    def __init__(self, http: TrayHttp, endpoints: TrayEndpoints, token: Callable[[], str]) -> None:
        self._http = http
        self._url = endpoints.graphql
        self._token = token

    def list_workflows(self) -> list[WorkflowSummary]:
        data = self.query("graphql.list_workflows", LIST_WORKFLOWS_QUERY)
        edges = data.get("viewer", {}).get("workflows", {}).get("edges", [])
        return [WorkflowSummary.model_validate(edge["node"]) for edge in edges]

    def workflow_enabled(self, workflow_id: str) -> bool:
        """Whether Tray has ``workflow_id`` enabled (the probe that closes a disabled-workflow
        incident); a workflow Tray does not list raises TrayNotFoundError."""
        for workflow in self.list_workflows():
            if workflow.id == workflow_id:
                return workflow.enabled
        raise TrayNotFoundError(
            f"workflow {workflow_id} is not in Tray's workflow list",
            operation="graphql.workflow_enabled",
            details={"workflow_id": workflow_id},
        )

    def query(self, operation: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run a read-only query; GraphQL errors in a 200 answer raise like HTTP errors do."""
        payload: dict[str, Any] = {"query": query}
        if variables:
            payload["variables"] = variables
        response = self._http.request(
            operation,
            "POST",
            self._url,
            safety=RetrySafety.IDEMPOTENT,
            token=self._token(),
            body=encode_json(payload),
        )
        body = response.json()
        errors = body.get("errors")
        if errors:
            first: dict[str, Any] = errors[0] if isinstance(errors[0], dict) else {"message": str(errors[0])}
            code = str((first.get("extensions") or {}).get("code") or "GRAPHQL_ERROR")
            cls = ERROR_CLASS_BY_CODE.get(code, TrayBadRequestError)
            raise cls(str(first.get("message", ""))[:500], operation=operation, code=code)
        data: dict[str, Any] = body.get("data") or {}
        return data
