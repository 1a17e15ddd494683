"""The Workflow and Executions API (seed 000's tools): execute, inspect, list, retry."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from tray_agent.tray.endpoints import TrayEndpoints
from tray_agent.tray.errors import TrayTimeoutError
from tray_agent.tray.http import IDEMPOTENCY_HEADER, RetrySafety, TrayHttp, encode_json
from tray_agent.tray.models import Execution, ExecutionPage

MAX_PAGE_SIZE = 500


class WorkflowsClient:
    def __init__(self, http: TrayHttp, endpoints: TrayEndpoints, token: Callable[[], str]) -> None:
        self._http = http
        self._base = endpoints.workflow_api
        self._token = token

    def execute(self, workflow_id: str, input: dict[str, Any], *, idempotency_key: str) -> Execution:
        """Start a run of ``workflow_id``. Each call is a new run (Tray does not deduplicate on the
        key, sent for its logs only): repeated only when Tray certainly did not act."""
        response = self._http.request(
            "workflows.execute",
            "POST",
            f"{self._base}/workflows/{quote(workflow_id, safe='')}/execute",
            safety=RetrySafety.REJECTED_ONLY,
            token=self._token(),
            body=encode_json({"input": input}),
            headers={IDEMPOTENCY_HEADER: _required_key(idempotency_key)},
        )
        return Execution.model_validate(response.json())

    def get_execution(self, execution_id: str) -> Execution:
        response = self._http.request(
            "workflows.get_execution",
            "GET",
            f"{self._base}/executions/{quote(execution_id, safe='')}",
            safety=RetrySafety.IDEMPOTENT,
            token=self._token(),
        )
        return Execution.model_validate(response.json())

    def list_executions_page(
        self,
        *,
        since: datetime,
        until: datetime | None = None,
        status: str | None = None,
        workflow_id: str | None = None,
        page_size: int = 100,
        cursor: str | None = None,
    ) -> ExecutionPage:
        """One page, oldest first; pass ``next_cursor`` back to continue (a monitor checkpoints it)."""
        params = {"since": _iso(since), "limit": str(max(1, min(page_size, MAX_PAGE_SIZE)))}
        if until is not None:
            params["until"] = _iso(until)
        if status:
            params["status"] = status
        if workflow_id:
            params["workflowId"] = workflow_id
        if cursor:
            params["cursor"] = cursor
        response = self._http.request(
            "workflows.list_executions",
            "GET",
            f"{self._base}/executions",
            safety=RetrySafety.IDEMPOTENT,
            token=self._token(),
            params=params,
        )
        body = response.json()
        return ExecutionPage(
            items=[Execution.model_validate(item) for item in body.get("items", [])],
            next_cursor=body.get("nextCursor"),
        )

    def list_executions(
        self,
        *,
        since: datetime,
        until: datetime | None = None,
        status: str | None = None,
        workflow_id: str | None = None,
        page_size: int = 100,
    ) -> Iterator[Execution]:
        """Every execution created in [since, until), following pagination lazily."""
        cursor: str | None = None
        while True:
            page = self.list_executions_page(
                since=since,
                until=until,
                status=status,
                workflow_id=workflow_id,
                page_size=page_size,
                cursor=cursor,
            )
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def find_execution_by_key(
        self,
        workflow_id: str,
        *,
        key_field: str,
        key: str,
        since: datetime,
        until: datetime | None = None,
    ) -> Execution | None:
        """The run of ``workflow_id`` created in [since, until) whose input carries ``key`` under
        ``key_field``: how an attempt whose outcome is unknown (a timeout, a crash after sending)
        is found before anything is sent again. None: that attempt never reached Tray.

        When several runs carry the key, the first that took effect wins (not a duplicate, running
        or succeeded), else the latest failed one, else the first duplicate. A listing that leaves
        the input out is completed with a read of the execution.
        """
        failed: Execution | None = None
        duplicate: Execution | None = None
        for listed in self.list_executions(
            since=since, until=until, workflow_id=workflow_id, page_size=MAX_PAGE_SIZE
        ):
            execution = listed if listed.input else self.get_execution(listed.id)
            if execution.input.get(key_field) != key:
                continue
            if execution.duplicate_of is not None:
                duplicate = duplicate or execution
            elif execution.status == "failed":
                failed = execution
            else:
                return execution  # at most one run per key gets past the processed-ids check
        return failed or duplicate

    def retry_execution(
        self, execution_id: str, *, modified_input: dict[str, Any] | None = None, idempotency_key: str
    ) -> Execution:
        """Run a failed execution's workflow again, with its input or ``modified_input``: a new
        run each call (repeated only when Tray certainly did not act)."""
        body: dict[str, Any] = {}
        if modified_input is not None:
            body["modifiedInput"] = modified_input
        response = self._http.request(
            "workflows.retry_execution",
            "POST",
            f"{self._base}/executions/{quote(execution_id, safe='')}/retry",
            safety=RetrySafety.REJECTED_ONLY,
            token=self._token(),
            body=encode_json(body),
            headers={IDEMPOTENCY_HEADER: _required_key(idempotency_key)},
        )
        return Execution.model_validate(response.json())

    def wait_for_execution(
        self, execution_id: str, *, timeout_s: float, poll_interval_s: float = 1.0
    ) -> Execution:
        """Poll until the execution finishes; raises TrayTimeoutError if it is still running."""
        deadline = time.monotonic() + timeout_s
        while True:
            execution = self.get_execution(execution_id)
            if execution.finished:
                return execution
            if time.monotonic() + poll_interval_s > deadline:
                raise TrayTimeoutError(
                    f"execution {execution_id} still running after {timeout_s} s",
                    operation="workflows.wait_for_execution",
                    execution_id=execution_id,
                )
            time.sleep(poll_interval_s)


def _required_key(idempotency_key: str) -> str:
    if not idempotency_key:
        raise ValueError("this Tray call needs an idempotency key")
    return idempotency_key


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
