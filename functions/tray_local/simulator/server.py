"""``TraySimulator``: Tray's HTTP surfaces on 127.0.0.1, behaving (and failing) as seed 001 says.

Paths served, under ``sim.base_url``:

- webhooks at the workflows file's paths (``/webhooks/...``), both trigger modes;
- Workflow/Executions API under ``/api/v1``; GraphQL (Embedded API) at ``/graphql``;
- Platform API under ``/core/v1``, validated against tray-platform-openapi.yml.
"""

from __future__ import annotations

import base64
import binascii
import json
import socket
import struct
import sys
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from tray_agent.config import DEFAULT_WORKFLOWS_FILE
from tray_agent.models.workflows import TriggerMode, load_workflows_file
from tray_agent.tray.models import Execution
from tray_local.simulator.alerting import ALL, Alerting, AlertingDelivery
from tray_local.simulator.catalog import WORKFLOW_AUTHENTICATIONS
from tray_local.simulator.engine import (
    CallRecord,
    ConnectorFault,
    Engine,
    ExecutionRecord,
    ServiceOutage,
    SimRateLimiter,
    SimWorkflow,
    parse_time,
    retry_after_header,
)
from tray_local.simulator.platform_api import PlatformApi
from tray_local.simulator.replies import Reply, error_reply
from tray_local.simulator.scripts import WorkflowScript

WEBHOOK_MAX_BODY_BYTES = 1024 * 1024  # seed 001: webhook trigger payload 1 MB
SYNC_RESPONSE_TIMEOUT_S = 300.0  # seed 001: "await workflow and respond" waits up to 5 minutes
EXECUTION_ID_HEADER = "X-Tray-Execution-Id"
MAX_LIST_LIMIT = 500
_STATUSES = ("running", "succeeded", "failed")
_TRAY_SURFACES = ("/webhooks/", "/api/v1/", "/graphql", "/core/v1/")


@dataclass
class Fault:
    """A failure injected into the next ``times`` requests whose path starts with ``path_prefix``.

    - ``status``: answer ``status`` at once (with ``retry_after`` for 429), nothing processed;
    - ``reset``: drop the connection without an answer;
    - ``delay``: wait ``delay_s`` before answering (a client read timeout).
    ``after_processing`` makes ``reset``/``delay`` happen after the request took effect: the
    case where repeating a non-idempotent request would do it twice.
    """

    kind: Literal["status", "reset", "delay"]
    path_prefix: str = "/"
    status: int = 503
    retry_after: float | None = None
    delay_s: float = 0.0
    after_processing: bool = False
    times: int = 1


class TraySimulator:
    def __init__(
        self,
        workflows_file: Path = DEFAULT_WORKFLOWS_FILE,
        scripts: dict[str, WorkflowScript] | None = None,
        *,
        time_factor: float = 1.0,
        rate_limit_rps: float = 30,
        burst: int = 50,
        seed: int = 0,
        master_token: str = "sim-master-token",  # noqa: S107 - the simulator's well-known test token
        user_token: str = "sim-user-token",  # noqa: S107
        port: int = 0,
        validate_platform: bool = True,
    ) -> None:
        workflows = []
        for tool in load_workflows_file(workflows_file).workflows:
            script = WorkflowScript.model_validate(tool.simulation) if tool.simulation else WorkflowScript()
            workflows.append(
                SimWorkflow(
                    tool=tool,
                    workflow_id=tool.trigger.workflow_id or f"wf-{tool.name.replace('_', '-')}",
                    webhook_path=_path_of(tool.trigger.webhook_url),
                    mode=tool.trigger.mode,
                    script=(scripts or {}).get(tool.name, script),
                    processed_ids_check=tool.processed_ids_check,
                    authentications=WORKFLOW_AUTHENTICATIONS.get(tool.name, ()),
                )
            )
        unknown = set(scripts or {}) - {w.tool.name for w in workflows}
        if unknown:
            raise KeyError(f"scripts for unknown workflows: {sorted(unknown)}")
        self.platform = PlatformApi(validate=validate_platform)  # its state is public for assertions
        self.engine = Engine(
            workflows, time_factor=time_factor, seed=seed, auth_state=self.platform.auth_state
        )
        self.alerting = Alerting()
        self.engine.on_failed = self.alerting.on_failed
        self.time_factor = time_factor
        self.limiter = SimRateLimiter(rate_limit_rps, burst)
        self.tokens = {master_token: "master", user_token: "user"}
        self.master_token = master_token
        self.user_token = user_token
        self._faults: deque[Fault] = deque()
        self._calls: list[CallRecord] = []
        self._lock = threading.Lock()
        self._outage: ServiceOutage | None = None  # Tray itself answering 5xx
        self._server = _QuietServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> TraySimulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="tray-sim", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.engine.join(timeout_s=1.0)

    def __enter__(self) -> TraySimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- for tests and the demo --------------------------------------------------------------
    def executions(self) -> list[Execution]:
        """Every execution so far, oldest first, as the client's model."""
        return [Execution.model_validate(record.wire()) for record in self.engine.executions()]

    def calls(self) -> list[CallRecord]:
        with self._lock:
            return list(self._calls)

    @property
    def rejected_429(self) -> int:
        return self.limiter.rejected

    def runs(self, workflow_name: str | None = None) -> list[ExecutionRecord]:
        """The simulator's own records, oldest first: ``duplicate_of``, ``took_effect``,
        ``task_credits`` and the ``idempotency_key`` header each request carried."""
        return [r for r in self.engine.executions() if workflow_name in (None, r.workflow_name)]

    def task_credits(self, workflow_name: str | None = None) -> int:
        """Task credits spent so far: one per step run (the processed-ids check included)."""
        return sum(record.task_credits for record in self.runs(workflow_name))

    def summary(self) -> dict[str, Any]:
        """What happened, for the demo's printout: runs per workflow and status, errors, 429s."""
        runs: dict[str, dict[str, int]] = {}
        errors: dict[str, int] = {}
        duplicates = 0
        for record in self.engine.executions():
            per_status = runs.setdefault(record.workflow_name, {})
            per_status[record.status] = per_status.get(record.status, 0) + 1
            if record.error:
                errors[record.error["code"]] = errors.get(record.error["code"], 0) + 1
            duplicates += record.duplicate_of is not None
        return {
            "runs": runs,
            "errors": errors,
            "duplicates_stopped": duplicates,
            "task_credits": self.task_credits(),
            "calls": len(self.calls()),
            "rejected_429": self.rejected_429,
        }

    def set_script(self, workflow_name: str, script: WorkflowScript) -> None:
        self.engine.workflow(workflow_name).script = script

    def set_enabled(self, workflow_name: str, enabled: bool) -> None:
        """Disabled: triggers answer 409 WORKFLOW_DISABLED; GraphQL shows ``enabled`` false."""
        self.engine.workflow(workflow_name).enabled = enabled

    def disable_workflow(self, workflow_name: str) -> None:
        self.set_enabled(workflow_name, False)

    def enable_workflow(self, workflow_name: str) -> None:
        self.set_enabled(workflow_name, True)

    # -- held-work scripts: an auth that expires, a Tray or service outage ----------------------
    def expire_authentication(self, auth_id: str) -> None:
        """Tray can no longer refresh ``auth_id``: runs of workflows using it fail with
        AUTH_REFRESH_FAILED at their first work step, connector calls with it answer 400
        AUTH_REFRESH_FAILED. (GET /authentications still lists it: Tray's schema has no validity.)"""
        self.platform.set_expired(auth_id, True)

    def restore_authentication(self, auth_id: str) -> None:
        """Someone re-authenticated ``auth_id`` in Tray: it works again."""
        self.platform.set_expired(auth_id, False)

    def set_authentications(self, workflow_name: str, auth_ids: Iterable[str]) -> None:
        """The authentications a workflow's connector steps use (catalog.WORKFLOW_AUTHENTICATIONS)."""
        self.engine.workflow(workflow_name).authentications = tuple(auth_ids)

    def start_outage(
        self, *, service: str | None = None, status: int = 503, retry_after_s: float | None = None
    ) -> None:
        """``service`` None: Tray itself answers ``status`` (with Retry-After if given) on every
        surface (webhooks, Workflow API, GraphQL, Platform API) and runs nothing. A connector name
        (``"netsuite"``): steps using it fail with SERVICE_UNAVAILABLE while it lasts."""
        outage = ServiceOutage(status=status, retry_after_s=retry_after_s)
        if service is None:
            with self._lock:
                self._outage = outage
        else:
            self.engine.service_outages[service] = outage

    def set_connector_fault(self, connector: str, fault: ConnectorFault | None) -> None:
        """Inside bulk loops, ``connector`` fails this share of its calls (None: it stops)."""
        if fault is None:
            self.engine.connector_faults.pop(connector, None)
        else:
            self.engine.connector_faults[connector] = fault

    def end_outage(self, *, service: str | None = None) -> None:
        if service is None:
            with self._lock:
                self._outage = None
        else:
            self.engine.service_outages.pop(service, None)

    def set_trigger_mode(self, workflow_name: str, mode: TriggerMode) -> None:
        self.engine.workflow(workflow_name).mode = mode

    def seed_executions(self, executions: Iterable[Execution]) -> int:
        return self.engine.seed(executions)

    def inject_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def remove_fault(self, fault: Fault) -> None:
        """End an injected fault early (an outage "recovers"); no-op when it was used up."""
        with self._lock:
            if fault in self._faults:
                self._faults.remove(fault)

    def webhook_url(self, workflow_name: str) -> str:
        workflow = self.engine.workflow(workflow_name)
        return f"{self.base_url}{workflow.webhook_path}"

    def workflow_id(self, workflow_name: str) -> str:
        return self.engine.workflow(workflow_name).workflow_id

    def wait_idle(self, timeout_s: float = 5.0) -> None:
        """Wait for runs still going in the background, and for their alerting posts."""
        self.engine.join(timeout_s)
        self.alerting.join(timeout_s)

    def set_alerting_url(
        self, url: str | None, *, workflow: str | None = None, secret: str | None = None
    ) -> None:
        """Tray's alerting workflow: each failed run of ``workflow`` (of every workflow when None)
        is posted to ``url``, signed with ``secret`` as a machine sender; ``url=None`` removes it."""
        if workflow is not None:
            self.engine.workflow(workflow)  # a typo is an error, not a silent no-op
        self.alerting.set_url(url, workflow=workflow or ALL, secret=secret)

    def deliver_alert(self, execution_id: str) -> AlertingDelivery:
        """Post the alerting payload of a failed run now and wait for the answer (a re-run of the
        alerting workflow, or a seeded failure's alert)."""
        record = self.engine.execution(execution_id)
        if record is None or record.status != "failed":
            raise KeyError(f"no failed execution {execution_id!r}")
        return self.alerting.deliver(record)

    def alerting_deliveries(self) -> list[AlertingDelivery]:
        """Every alerting post so far, in the order they finished."""
        return self.alerting.deliveries()

    # -- internals used by the handler -------------------------------------------------------
    def take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.path_prefix):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def record_call(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self._calls.append(CallRecord(method, path, status))

    def handle(  # noqa: PLR0911 - a router
        self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes
    ) -> Reply:
        with self._lock:
            outage = self._outage
        if outage is not None and path.startswith(_TRAY_SURFACES):
            reply = error_reply(
                outage.status, "SERVICE_UNAVAILABLE", "Tray is unavailable (simulated outage)"
            )
            if outage.retry_after_s is not None:
                reply.headers["Retry-After"] = retry_after_header(outage.retry_after_s)
            return reply
        if path.startswith(("/api/v1/", "/graphql", "/core/v1/")):
            wait = self.limiter.try_acquire()
            if wait is not None:
                return self._too_many(wait)
            kind = self._token_kind(headers)
            if kind is None:
                return error_reply(401, "UNAUTHORIZED", "missing or invalid bearer token")
            if path.startswith("/api/v1/"):
                return self._workflow_api(method, path[len("/api/v1") :], query, headers, body)
            if path.startswith("/graphql"):
                return self._graphql(method, body)
            return self.platform.handle(method, path, query, headers, body)
        workflow = self.engine.workflow_by_path(path)
        if workflow is not None:
            return self._webhook(workflow, method, headers, body)
        return error_reply(404, "NOT_FOUND", f"no route for {method} {path}")

    def _too_many(self, wait: float) -> Reply:
        reply = error_reply(429, "HTTP_429", "rate limit exceeded: 30 requests per second (burst 50)")
        reply.headers["Retry-After"] = retry_after_header(wait)
        return reply

    def _token_kind(self, headers: Any) -> str | None:
        auth = headers.get("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.tokens.get(token.strip())

    # -- webhooks -------------------------------------------------------------------------
    def _webhook(self, workflow: SimWorkflow, method: str, headers: Any, body: bytes) -> Reply:
        if method != "POST":
            return error_reply(405, "METHOD_NOT_ALLOWED", "webhooks accept POST")
        # Seed 001: "Auto respond with HTTP 200" is not rate limited; awaiting triggers are.
        if workflow.mode is TriggerMode.AWAIT_RESPONSE:
            wait = self.limiter.try_acquire()
            if wait is not None:
                return self._too_many(wait)
        payload = _json_or_none(body) if body else {}
        if payload is None:
            return error_reply(400, "INVALID_JSON", "the webhook body is not valid JSON")
        run_input = payload if isinstance(payload, dict) else {"body": payload}
        # Tray's webhooks do not deduplicate: the header is only recorded on the run.
        record = self.engine.start(workflow, run_input, idempotency_key=headers.get("Idempotency-Key"))
        id_header = {EXECUTION_ID_HEADER: record.id}
        if record.error and record.error["code"] == "WORKFLOW_DISABLED":
            reply = error_reply(409, "WORKFLOW_DISABLED", record.error["message"], executionId=record.id)
            reply.headers.update(id_header)
            return reply
        if workflow.mode is TriggerMode.AUTO_RESPOND:
            return Reply(200, {"status": "accepted", "executionId": record.id}, id_header)
        if not record.done.wait(SYNC_RESPONSE_TIMEOUT_S * self.time_factor):
            reply = error_reply(
                504, "TIMEOUT", "the workflow did not respond within 5 minutes", executionId=record.id
            )
        elif record.status == "succeeded":
            reply = Reply(200, record.output or {})
        else:
            reply = _failed_run_reply(record)
        reply.headers.update(id_header)
        return reply

    # -- Workflow / Executions API -------------------------------------------------------------
    def _workflow_api(  # noqa: PLR0911 - a router
        self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes
    ) -> Reply:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        key = headers.get("Idempotency-Key")
        if method == "POST" and len(parts) == 3 and parts[0] == "workflows" and parts[2] == "execute":
            workflow = self.engine.workflow_by_id(parts[1])
            if workflow is None:
                return error_reply(404, "NOT_FOUND", f"workflow {parts[1]} not found")
            request = _json_or_none(body) if body else {}
            if not isinstance(request, dict) or not isinstance(request.get("input", {}), dict):
                return error_reply(
                    400, "INVALID_REQUEST", "the body must be an object with an object 'input'"
                )
            record = self.engine.start(workflow, request.get("input", {}), idempotency_key=key)
            return self._started(record)
        if method == "GET" and parts == ["executions"]:
            return self._list_executions(query)
        if method == "GET" and len(parts) == 2 and parts[0] == "executions":
            found = self.engine.execution(parts[1])
            if found is None:
                return error_reply(404, "NOT_FOUND", f"execution {parts[1]} not found")
            return Reply(200, found.wire())
        if method == "POST" and len(parts) == 3 and parts[0] == "executions" and parts[2] == "retry":
            return self._retry(parts[1], key, body)
        return error_reply(404, "NOT_FOUND", f"no route for {method} /api/v1{path}")

    def _started(self, record: ExecutionRecord) -> Reply:
        if record.error and record.error["code"] == "WORKFLOW_DISABLED":
            return error_reply(409, "WORKFLOW_DISABLED", record.error["message"], executionId=record.id)
        return Reply(200, record.wire())

    def _list_executions(self, query: dict[str, str]) -> Reply:
        try:
            since = parse_time(query["since"])
            until = parse_time(query["until"]) if "until" in query else None
            limit = int(query.get("limit", "100"))
        except KeyError:
            return error_reply(400, "INVALID_REQUEST", "query parameter 'since' is required")
        except ValueError as exc:
            return error_reply(400, "INVALID_REQUEST", f"invalid query parameter: {exc}")
        status = query.get("status")
        if status is not None and status not in _STATUSES:
            return error_reply(400, "INVALID_REQUEST", f"status must be one of {', '.join(_STATUSES)}")
        if not 1 <= limit <= MAX_LIST_LIMIT:
            return error_reply(400, "INVALID_REQUEST", f"limit must be between 1 and {MAX_LIST_LIMIT}")
        cursor = None
        if "cursor" in query:
            try:
                created, execution_id = json.loads(base64.urlsafe_b64decode(query["cursor"].encode()))
                cursor = (str(created), str(execution_id))
            except (ValueError, TypeError, binascii.Error):
                return error_reply(400, "INVALID_REQUEST", "invalid cursor")
        items, next_key = self.engine.list_page(
            since=since,
            until=until,
            status=status,
            workflow_id=query.get("workflowId"),
            limit=limit,
            cursor=cursor,
        )
        next_cursor = (
            base64.urlsafe_b64encode(json.dumps(list(next_key)).encode()).decode() if next_key else None
        )
        return Reply(200, {"items": [record.wire() for record in items], "nextCursor": next_cursor})

    def _retry(self, execution_id: str, key: str | None, body: bytes) -> Reply:
        original = self.engine.execution(execution_id)
        if original is None:
            return error_reply(404, "NOT_FOUND", f"execution {execution_id} not found")
        request = _json_or_none(body) if body else {}
        modified = request.get("modifiedInput") if isinstance(request, dict) else None
        if not isinstance(request, dict) or (modified is not None and not isinstance(modified, dict)):
            return error_reply(400, "INVALID_REQUEST", "'modifiedInput' must be an object")
        workflow = self.engine.workflow_by_id(original.workflow_id)
        if workflow is None:
            return error_reply(404, "NOT_FOUND", f"workflow {original.workflow_id} not found")
        if original.status != "failed":
            return error_reply(
                409, "NOT_RETRYABLE", f"execution {execution_id} is {original.status}, not failed"
            )
        # As documented, a retry is a new run each time it is asked for: no header deduplicates it.
        record = self.engine.start(
            workflow,
            modified if modified is not None else dict(original.input),
            idempotency_key=key,
            retry_of=execution_id,
        )
        return self._started(record)

    # -- GraphQL (Embedded API) ---------------------------------------------------------------
    def _graphql(self, method: str, body: bytes) -> Reply:
        request = _json_or_none(body) if method == "POST" and body else None
        if not isinstance(request, dict) or not isinstance(request.get("query"), str):
            return error_reply(400, "INVALID_REQUEST", "POST a JSON body with a 'query' string")
        query = " ".join(request["query"].split())
        if "workflows" in query:
            nodes = [
                {
                    "id": w.workflow_id,
                    "name": w.tool.name,
                    "enabled": w.enabled,
                    "triggerUrl": f"{self.base_url}{w.webhook_path}" if w.webhook_path else None,
                }
                for w in self.engine.workflows.values()
            ]
            return Reply(200, {"data": {"viewer": {"workflows": {"edges": [{"node": n} for n in nodes]}}}})
        if "viewer" in query and "name" in query:
            return Reply(200, {"data": {"viewer": {"name": "Tray simulator"}}})
        return Reply(
            200,
            {
                "errors": [
                    {"message": "unsupported query", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}
                ]
            },
        )


def _failed_run_reply(record: ExecutionRecord) -> Reply:
    error = record.error or {"code": "HTTP_5XX", "message": "the workflow failed"}
    return error_reply(
        500,
        error["code"],
        error["message"],
        executionId=record.id,
        step=error.get("step"),
        connector=error.get("connector"),
        serviceCode=error.get("serviceCode"),
    )


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _path_of(url: str | None) -> str | None:
    if not url:
        return None
    return urlsplit(url).path if "://" in url else "/" + url.lstrip("/")


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout tests, injected resets) is expected, not a failure.
        if isinstance(sys.exc_info()[1], ConnectionError | OSError):
            return
        super().handle_error(request, client_address)


def _handler_for(sim: TraySimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real client would get
        # Headers and body go out in two writes; with Nagle on, delayed ACKs add ~40 ms to each.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._dispatch()

        def do_POST(self) -> None:
            self._dispatch()

        def do_PUT(self) -> None:
            self._dispatch()

        def do_PATCH(self) -> None:
            self._dispatch()

        def do_DELETE(self) -> None:
            self._dispatch()

        def __getattr__(self, name: str) -> Any:
            # Any other method (HEAD, TRACE, QUERY...) gets Tray's answer (405/404), not a 501.
            if name.startswith("do_"):
                return self._dispatch
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            return  # the calls() record is the log

        def _dispatch(self) -> None:
            split = urlsplit(self.path)
            path = split.path
            query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
            length = int(self.headers.get("Content-Length") or 0)
            if path.startswith("/webhooks/") and length > WEBHOOK_MAX_BODY_BYTES:
                self._discard(length)
                reply = error_reply(
                    413,
                    "PAYLOAD_TOO_LARGE",
                    f"webhook body is {length} bytes; the limit is {WEBHOOK_MAX_BODY_BYTES} bytes (1 MB)",
                    limitBytes=WEBHOOK_MAX_BODY_BYTES,
                )
                self._send(path, reply)
                return
            body = self.rfile.read(length) if length else b""
            fault = sim.take_fault(path)
            if fault is not None and not fault.after_processing and self._apply_fault(path, fault):
                return
            reply = sim.handle(self.command, path, query, self.headers, body)
            if fault is not None and fault.after_processing and self._apply_fault(path, fault):
                return
            self._send(path, reply)

        def _apply_fault(self, path: str, fault: Fault) -> bool:
            """True when the fault replaced the answer."""
            if fault.kind == "delay":
                threading.Event().wait(fault.delay_s)
                return False
            if fault.kind == "reset":
                sim.record_call(self.command, path, 0)
                # SO_LINGER 0: close with a TCP RST, like a load balancer dropping the connection.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return True
            reply = error_reply(fault.status, f"HTTP_{fault.status}", "injected fault")
            if fault.retry_after is not None:
                # Fractions kept so tests stay fast; the client also reads RFC whole seconds.
                reply.headers["Retry-After"] = f"{fault.retry_after:g}"
            self._send(path, reply)
            return True

        def _discard(self, length: int) -> None:
            remaining = length
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 65536))
                if not chunk:
                    break
                remaining -= len(chunk)

        def _send(self, path: str, reply: Reply) -> None:
            data = b"" if reply.body is None or reply.status == 204 else json.dumps(reply.body).encode()
            # Recorded before the answer leaves, so a client that has its answer sees the record.
            sim.record_call(self.command, path, reply.status)
            self.send_response(reply.status)
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

    return Handler
