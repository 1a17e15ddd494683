"""The simulated Platform API (``/core/v1``), checked both ways against tray-platform-openapi.yml.

An invalid request gets a 400 naming the problem, as Tray would; a response of ours that does
not conform is a simulator bug, kept in ``violations`` for tests to assert on.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml
from jsonschema import Draft202012Validator
from openapi_core import OpenAPI
from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.exceptions import ValidationError

from tray_local.simulator import catalog
from tray_local.simulator.engine import iso, utc_now
from tray_local.simulator.replies import Reply, error_reply

# A verbatim copy of shared/tray-platform-openapi.yml, so the simulator runs from a bare clone.
OPENAPI_FILE = Path(__file__).resolve().parent / "tray-platform-openapi.yml"
# Tray's public host for the spec's first server: validation matches paths against ``servers``.
SPEC_HOST = "https://api.tray.io"


_SPEC_LOCK = threading.Lock()
_SPEC: Any = None


def _spec() -> Any:
    """The parsed spec, shared by every simulator in the process (parsing takes ~0.5 s)."""
    global _SPEC  # noqa: PLW0603 - a process-wide cache of an immutable document
    with _SPEC_LOCK:
        if _SPEC is None:
            _SPEC = OpenAPI.from_file_path(str(OPENAPI_FILE))
        return _SPEC


def describe_validation_error(exc: Exception) -> str:
    """A one-line reason naming the failing field(s), from openapi-core's exception chain."""
    cause = exc.__cause__
    schema_errors = getattr(cause, "schema_errors", None) or getattr(exc, "schema_errors", None)
    if schema_errors:
        parts = []
        for error in schema_errors:
            where = "/".join(str(p) for p in error.absolute_path)
            parts.append(f"{where}: {error.message}" if where else error.message)
        return f"{exc.__class__.__name__}: " + "; ".join(parts)
    if isinstance(cause, MediaTypeDeserializeError):
        return f"{exc.__class__.__name__}: the body is not valid JSON"
    detail = f" ({_safe_str(cause)})" if cause else ""
    return f"{exc.__class__.__name__}: {_safe_str(exc)}{detail}"


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # some openapi-core errors cannot render themselves
        return exc.__class__.__name__


def _path_templates() -> list[tuple[re.Pattern[str], frozenset[str]]]:
    """Each spec path as a regex, with the methods it declares (for 405's Allow header)."""
    document = yaml.safe_load(OPENAPI_FILE.read_text())
    templates = []
    for template, item in document["paths"].items():
        pattern = re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template))
        methods = frozenset(m.upper() for m in item if m in {"get", "post", "put", "patch", "delete"})
        templates.append((re.compile(f"^/core/v1{pattern}$"), methods))
    return templates


_TEMPLATES = _path_templates()


def allowed_methods(path: str) -> str:
    for pattern, methods in _TEMPLATES:
        if pattern.match(path):
            return ", ".join(sorted(methods))
    return ""


class PlatformApi:
    def __init__(self, *, validate: bool = True) -> None:
        self._validate = validate
        self._spec = _spec() if validate else None
        self._lock = threading.Lock()
        self.authentications: dict[str, dict[str, Any]] = {a["id"]: dict(a) for a in catalog.AUTHENTICATIONS}
        # Authentications whose refresh token Tray no longer accepts. The spec's
        # PlatformAuthentication has no validity field, so this shows only where the
        # authentication is used: connector calls and workflow runs answer AUTH_REFRESH_FAILED.
        self.expired: set[str] = set(catalog.EXPIRED_AUTHENTICATIONS)
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.calls: list[dict[str, Any]] = []  # connector calls received (no credentials in them)
        self.violations: list[str] = []
        self.users = [
            {
                "id": "user-1",
                "name": "Ops Admin",
                "email": "ops@example.com",
                "role": "admin",
                "status": "active",
            }
        ]
        self.workspaces = [
            {
                "id": "ws-prod",
                "name": "Production",
                "description": "Live workflows",
                "createdAt": "2026-01-01T00:00:00Z",
            }
        ]

    def handle(self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes) -> Reply:
        request = None
        if self._spec is not None:
            request = MockRequest(
                SPEC_HOST,
                method.lower(),
                path,
                args=query,
                headers=dict(headers.items()),
                data=body or None,
                content_type=headers.get("Content-Type") or "application/json",
            )
            try:
                self._spec.validate_request(request)
            except PathNotFound:
                return error_reply(404, "NOT_FOUND", f"no Platform API path {path}")
            except OperationNotFound:
                reply = error_reply(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {path}")
                reply.headers["Allow"] = allowed_methods(path)
                return reply
            except ValidationError as exc:
                return error_reply(400, "INVALID_REQUEST", describe_validation_error(exc))
        reply = self._route(method, path[len("/core/v1") :], body)
        if request is not None:
            self._check_response(request, reply)
        return reply

    def _check_response(self, request: Any, reply: Reply) -> None:
        data = b"" if reply.body is None else json.dumps(reply.body).encode()
        response = MockResponse(data, status_code=reply.status, headers=reply.headers)
        if self._spec is None:
            return
        try:
            self._spec.validate_response(request, response)
        except ValidationError as exc:
            with self._lock:
                self.violations.append(f"{request.method} {request.path} -> {reply.status}: {exc}")

    # -- routes ---------------------------------------------------------------------------
    def _route(self, method: str, path: str, body: bytes) -> Reply:  # noqa: PLR0911, PLR0912 - a router
        parts = [unquote(p) for p in path.strip("/").split("/")]
        try:
            request: Any = json.loads(body) if body else {}
        except ValueError:
            return error_reply(400, "INVALID_REQUEST", "the body is not valid JSON")
        match method, parts:
            case "GET", ["connectors"]:
                return Reply(200, {"elements": catalog.connectors()})
            case "GET", ["connectors", name, "versions", version]:
                spec = catalog.CONNECTOR_VERSIONS.get((name, version))
                if spec is None:
                    return error_reply(404, "NOT_FOUND", f"connector {name} version {version} not found")
                return Reply(200, spec)
            case "POST", ["connectors", name, "versions", version, "call"]:
                return self._call_connector(name, version, request)
            case "POST", ["connectors", name, "versions", version, "deploy"]:
                return Reply(200, {"connectorName": name, "connectorVersion": version, "status": "deployed"})
            case "GET", ["authentications"]:
                with self._lock:
                    return Reply(200, {"elements": list(self.authentications.values())})
            case "POST", ["authentications"]:
                auth = {
                    "id": f"auth-{uuid.uuid4().hex[:12]}",
                    "name": request["name"],
                    "serviceEnvironmentId": request["serviceEnvironmentId"],
                    "scopes": [],
                    "createdAt": iso(utc_now()),
                }
                with self._lock:
                    self.authentications[auth["id"]] = auth
                return Reply(200, auth)
            case "GET", ["authentications", auth_id]:
                with self._lock:
                    found = self.authentications.get(auth_id)
                if found is None:
                    return error_reply(404, "NOT_FOUND", f"authentication {auth_id} not found")
                return Reply(200, found)
            case "DELETE", ["authentications", auth_id]:
                with self._lock:
                    removed = self.authentications.pop(auth_id, None)
                if removed is None:
                    return error_reply(404, "NOT_FOUND", f"authentication {auth_id} not found")
                return Reply(204)
            case "GET", ["triggers"]:
                return Reply(200, {"elements": catalog.TRIGGERS})
            case "POST", ["subscriptions"]:
                return self._create_subscription(request)
            case "DELETE", ["subscriptions", subscription_id]:
                with self._lock:
                    removed = self.subscriptions.pop(subscription_id, None)
                if removed is None:
                    return error_reply(404, "NOT_FOUND", f"subscription {subscription_id} not found")
                return Reply(204)
            case "GET", ["users"]:
                return Reply(200, {"elements": self.users})
            case "POST", ["users", "invite"]:
                user = {
                    "id": f"user-{uuid.uuid4().hex[:8]}",
                    "name": request["email"].split("@")[0],
                    "email": request["email"],
                    "role": request.get("role", "member"),
                    "status": "invited",
                }
                return Reply(200, user)
            case "GET", ["workspaces"]:
                return Reply(200, {"elements": self.workspaces})
            case "GET", ["workspaces", workspace_id]:
                for workspace in self.workspaces:
                    if workspace["id"] == workspace_id:
                        return Reply(200, workspace)
                return error_reply(404, "NOT_FOUND", f"workspace {workspace_id} not found")
            case "GET", ["workspaces", workspace_id, "users"]:
                if not any(w["id"] == workspace_id for w in self.workspaces):
                    return error_reply(404, "NOT_FOUND", f"workspace {workspace_id} not found")
                return Reply(200, {"elements": self.users})
            case "POST", ["projects", "import"]:
                return Reply(200, {"projectId": f"proj-{uuid.uuid4().hex[:8]}"})
            case "POST", ["projects", project_id, "export"]:
                if project_id != "proj-agent-workflows":
                    return error_reply(404, "NOT_FOUND", f"project {project_id} not found")
                return Reply(200, {"exportedData": json.dumps({"project": project_id, "workflows": []})})
        return error_reply(404, "NOT_FOUND", f"no Platform API route for {method} {path}")

    def _call_connector(self, name: str, version: str, request: dict[str, Any]) -> Reply:
        spec = catalog.CONNECTOR_VERSIONS.get((name, version))
        if spec is None:
            return error_reply(404, "NOT_FOUND", f"connector {name} version {version} not found")
        operation = next((op for op in spec["operations"] if op["name"] == request["operation"]), None)
        if operation is None:
            return error_reply(
                400, "INVALID_OPERATION", f"{name} {version} has no operation {request['operation']!r}"
            )
        op_input = request.get("input") or {}
        problems = [
            f"{'/'.join(str(p) for p in e.absolute_path) or 'input'}: {e.message}"
            for e in Draft202012Validator(operation["inputSchema"]).iter_errors(op_input)
        ]
        if problems:
            return error_reply(
                400, "INVALID_INPUT", f"input does not match {operation['name']}: {'; '.join(problems)}"
            )
        auth_id = request.get("authId")
        with self._lock:
            known = auth_id in self.authentications
            expired = auth_id in self.expired
            self.calls.append(
                {"connector": name, "version": version, "operation": operation["name"], "authId": auth_id}
            )
        if not auth_id or not known:
            return error_reply(400, "INVALID_AUTH", f"{name}.{operation['name']} needs a valid authId")
        if expired:
            return error_reply(
                400,
                "AUTH_REFRESH_FAILED",
                f"OAuth token refresh failed after 3 retries for authentication {auth_id}; "
                "re-authenticate it",
            )
        return _connector_output(name, operation["name"], op_input)

    def auth_state(self, auth_id: str) -> tuple[str, bool] | None:
        """(display name, valid) of an authentication, None when there is none (workflow runs)."""
        with self._lock:
            auth = self.authentications.get(auth_id)
            return None if auth is None else (str(auth.get("name") or auth_id), auth_id not in self.expired)

    def set_expired(self, auth_id: str, expired: bool) -> None:
        with self._lock:
            if auth_id not in self.authentications:
                raise KeyError(f"no simulated authentication {auth_id!r}")
            if expired:
                self.expired.add(auth_id)
            else:
                self.expired.discard(auth_id)

    def _create_subscription(self, request: dict[str, Any]) -> Reply:
        trigger = next((t for t in catalog.TRIGGERS if t["name"] == request["triggerName"]), None)
        if trigger is None or trigger["connectorName"] != request["connectorName"]:
            return error_reply(
                400,
                "INVALID_TRIGGER",
                f"no trigger {request['triggerName']!r} on connector {request['connectorName']!r}",
            )
        with self._lock:
            if request["authId"] not in self.authentications:
                return error_reply(400, "INVALID_AUTH", f"authentication {request['authId']!r} not found")
            subscription = {
                "id": f"sub-{uuid.uuid4().hex[:12]}",
                "triggerName": trigger["name"],
                "connectorName": trigger["connectorName"],
                "status": "active",
                "createdAt": iso(utc_now()),
            }
            self.subscriptions[subscription["id"]] = subscription
        return Reply(200, subscription)


def _connector_output(  # noqa: PLR0911 - one answer per simulated operation
    connector: str, operation: str, op_input: dict[str, Any]
) -> Reply:
    if connector == "salesforce" and operation in ("get_picklist_values", "describe_field"):
        key = f"{op_input['sobject']}.{op_input['field']}"
        values = catalog.SALESFORCE_PICKLISTS.get(key)
        if values is None:
            return error_reply(
                400, "CONNECTOR_ERROR", f"INVALID_FIELD: no picklist field {key}", serviceCode="INVALID_FIELD"
            )
        picklist = [{"value": v, "label": v, "active": True} for v in values]
        if operation == "describe_field":
            return Reply(
                200,
                {
                    "name": op_input["field"],
                    "type": "picklist",
                    "restricted": True,
                    "picklistValues": picklist,
                },
            )
        return Reply(200, {"sobject": op_input["sobject"], "field": op_input["field"], "values": picklist})
    if connector == "salesforce" and operation == "create_record":
        for field_name, value in op_input["fields"].items():
            valid = catalog.SALESFORCE_PICKLISTS.get(f"{op_input['sobject']}.{field_name}")
            if valid is not None and value not in valid:
                return error_reply(
                    400,
                    "CONNECTOR_ERROR",
                    f"FIELD_CUSTOM_VALIDATION_EXCEPTION: {field_name}: "
                    f"bad value for restricted picklist field: {value}",
                    serviceCode="FIELD_CUSTOM_VALIDATION_EXCEPTION",
                )
        return Reply(200, {"id": f"001{uuid.uuid4().hex[:15]}", "success": True})
    if connector == "clearbit":
        domain = str(op_input["email"]).rsplit("@", 1)[-1]
        return Reply(
            200, {"person": {"email": op_input["email"]}, "company": {"domain": domain, "employees": 200}}
        )
    return Reply(200, {"ok": True, "ts": f"{utc_now().timestamp():.6f}"})
