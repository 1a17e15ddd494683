"""Workflow/Executions API: execute, get, list with pagination and filters, retry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tray_agent.tray import (
    Execution,
    TrayAuthRefreshFailedError,
    TrayBadRequestError,
    TrayClients,
    TrayNotFoundError,
    TrayServerError,
    TrayWorkflowDisabledError,
)
from tray_agent.tray.errors import TrayError
from tray_local.simulator import SEED_STORIES, StepScript, TraySimulator, WorkflowScript

ACCOUNT = {"name": "Acme", "industry": "SaaS", "employees": 200}


def test_execute_runs_the_workflow_by_id(sim: TraySimulator, clients: TrayClients) -> None:
    execution = clients.workflows.execute("wf-lead-enrichment", {"email": "a@b.co"}, idempotency_key="e-1")

    assert execution.workflow_id == "wf-lead-enrichment"
    assert execution.workflow_name == "lead_enrichment"
    assert execution.status == "succeeded"
    assert execution.input == {"email": "a@b.co"}
    assert execution.created_at <= execution.finished_at  # type: ignore[operator]
    again = clients.workflows.execute("wf-lead-enrichment", {"email": "a@b.co"}, idempotency_key="e-1")
    assert again.id != execution.id  # the header does not deduplicate: each execute is a run
    assert len(sim.executions()) == 2


def test_execute_unknown_and_disabled_workflows(sim: TraySimulator, clients: TrayClients) -> None:
    with pytest.raises(TrayNotFoundError) as missing:
        clients.workflows.execute("wf-nope", {}, idempotency_key="e-2")
    assert missing.value.operation == "workflows.execute"

    sim.set_enabled("order_processing", False)
    with pytest.raises(TrayWorkflowDisabledError):
        clients.workflows.execute("wf-order-processing", {"order_data": {}}, idempotency_key="e-3")


def test_get_execution_has_step_logs_and_the_error(sim: TraySimulator, clients: TrayClients) -> None:
    sim.set_script("salesforce_account_upsert", SEED_STORIES["salesforce_account_upsert"])
    started = clients.workflows.execute("wf-sf-account-upsert", ACCOUNT, idempotency_key="sf-1")

    execution = clients.workflows.get_execution(started.id)

    assert execution.status == "failed"
    assert execution.error is not None
    assert execution.error.code == "CONNECTOR_ERROR"
    assert execution.error.service_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert execution.error.step == "salesforce_upsert_account"
    assert execution.error.connector == "salesforce"
    assert "SaaS" in execution.error.message
    assert [s.status for s in execution.steps] == ["succeeded", "succeeded", "failed"]
    failed_step = execution.steps[-1]
    assert failed_step.error is not None
    assert any("FIELD_CUSTOM_VALIDATION_EXCEPTION" in line for line in failed_step.logs)


def test_get_unknown_execution_is_not_found(clients: TrayClients) -> None:
    with pytest.raises(TrayNotFoundError) as caught:
        clients.workflows.get_execution("exec-missing")
    assert caught.value.operation == "workflows.get_execution"
    assert "exec-missing" in str(caught.value)


def test_retry_with_modified_input_succeeds(sim: TraySimulator, clients: TrayClients) -> None:
    sim.set_script("salesforce_account_upsert", SEED_STORIES["salesforce_account_upsert"])
    failed = clients.workflows.execute("wf-sf-account-upsert", ACCOUNT, idempotency_key="sf-2")
    fixed_input = {**ACCOUNT, "industry": "Technology - SaaS"}

    retried = clients.workflows.retry_execution(
        failed.id, modified_input=fixed_input, idempotency_key="fix-1"
    )
    repeated = clients.workflows.retry_execution(
        failed.id, modified_input=fixed_input, idempotency_key="fix-1"
    )

    assert retried.status == "succeeded"
    assert retried.retry_of == failed.id
    assert retried.input == fixed_input
    assert repeated.id != retried.id  # asked twice, run twice: the header does not deduplicate
    assert repeated.retry_of == failed.id
    assert len(sim.executions()) == 3


def test_retry_without_input_reuses_the_original_input(sim: TraySimulator, clients: TrayClients) -> None:
    sim.set_script("csm_health_task", WorkflowScript(outcome="fail", error_code="AUTH_REFRESH_FAILED"))
    failed = clients.workflows.execute("wf-csm-health", {"customer_id": "c-1"}, idempotency_key="c-1")
    assert failed.error is not None and failed.error.code == "AUTH_REFRESH_FAILED"

    retried = clients.workflows.retry_execution(failed.id, idempotency_key="c-1-retry")

    assert retried.input == {"customer_id": "c-1"}
    assert retried.status == "failed"  # the auth is still broken: the agent must escalate


def test_retry_of_a_successful_execution_is_refused(clients: TrayClients) -> None:
    done = clients.workflows.execute(
        "wf-ops-alert", {"severity": "info", "title": "t"}, idempotency_key="o-1"
    )
    with pytest.raises(TrayError) as caught:
        clients.workflows.retry_execution(done.id, idempotency_key="o-1-retry")
    assert caught.value.status_code == 409


def _seeded(workflow_id: str, count: int, start: datetime, *, every_failed: int = 0) -> list[Execution]:
    executions = []
    for index in range(count):
        failed = every_failed and index % every_failed == 0
        created = start + timedelta(seconds=index)
        executions.append(
            Execution.model_validate(
                {
                    "id": f"hist-{workflow_id}-{index:05d}",
                    "workflow_id": workflow_id,
                    "workflow_name": workflow_id.removeprefix("wf-").replace("-", "_"),
                    "status": "failed" if failed else "succeeded",
                    "error": {"code": "CONNECTOR_ERROR", "message": "Clearbit 502"} if failed else None,
                    "created_at": created,
                    "finished_at": created + timedelta(milliseconds=300),
                }
            )
        )
    return executions


def test_list_executions_follows_pagination_and_filters(sim: TraySimulator, clients: TrayClients) -> None:
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    sim.seed_executions(_seeded("wf-lead-enrichment", 250, start, every_failed=10))
    sim.seed_executions(_seeded("wf-ops-alert", 40, start))

    everything = list(clients.workflows.list_executions(since=start, page_size=100))
    failures = list(clients.workflows.list_executions(since=start, status="failed", page_size=7))
    window = list(
        clients.workflows.list_executions(
            since=start + timedelta(seconds=10), until=start + timedelta(seconds=20), page_size=3
        )
    )
    only_alerts = list(clients.workflows.list_executions(since=start, workflow_id="wf-ops-alert"))

    assert len(everything) == 290
    assert len({e.id for e in everything}) == 290
    assert [e.created_at for e in everything] == sorted(e.created_at for e in everything)
    assert len(failures) == 25 and all(e.status == "failed" for e in failures)
    assert {e.created_at for e in window} == {start + timedelta(seconds=s) for s in range(10, 20)}
    assert len(window) == 20  # both workflows have runs in each of those 10 seconds
    assert len(only_alerts) == 40


def test_list_page_returns_a_cursor_a_monitor_can_checkpoint(
    sim: TraySimulator, clients: TrayClients
) -> None:
    start = datetime(2026, 11, 21, tzinfo=UTC)
    sim.seed_executions(_seeded("wf-lead-enrichment", 5, start))

    first = clients.workflows.list_executions_page(since=start, page_size=3)
    rest = clients.workflows.list_executions_page(since=start, page_size=3, cursor=first.next_cursor)

    assert [e.id for e in first.items] == [f"hist-wf-lead-enrichment-{i:05d}" for i in range(3)]
    assert first.next_cursor
    assert [e.id for e in rest.items] == [f"hist-wf-lead-enrichment-{i:05d}" for i in (3, 4)]
    assert rest.next_cursor is None


def test_list_rejects_a_bad_status_filter(clients: TrayClients) -> None:
    with pytest.raises(TrayBadRequestError) as caught:
        clients.workflows.list_executions_page(since=datetime.now(UTC), status="exploded")
    assert "status must be one of" in str(caught.value)


def test_wait_for_execution_polls_until_done(sim: TraySimulator, clients: TrayClients) -> None:
    sim.set_script("order_processing", WorkflowScript(steps=[StepScript(name="ship", seconds=20)]))
    started = clients.workflows.execute("wf-order-processing", {"order_data": {}}, idempotency_key="w-1")
    assert started.status == "running"

    finished = clients.workflows.wait_for_execution(started.id, timeout_s=5, poll_interval_s=0.05)

    assert finished.status == "succeeded"


def test_a_failed_execution_raises_its_named_error(sim: TraySimulator, clients: TrayClients) -> None:
    sim.set_script("csm_health_task", SEED_STORIES["csm_health_task"])
    sim.set_script("order_processing", SEED_STORIES["order_processing"])
    expired = clients.workflows.execute("wf-csm-health", {"customer_id": "c"}, idempotency_key="r-1")
    outage = clients.workflows.execute("wf-order-processing", {"order_data": {}}, idempotency_key="r-2")
    fine = clients.workflows.execute("wf-ops-alert", {"severity": "info"}, idempotency_key="r-3")

    with pytest.raises(TrayAuthRefreshFailedError) as auth:
        expired.raise_for_status()
    with pytest.raises(TrayServerError) as down:
        outage.raise_for_status("monitor.check")

    assert auth.value.execution_id == expired.id
    assert down.value.code == "SERVICE_UNAVAILABLE" and down.value.operation == "monitor.check"
    assert down.value.details["connector"] == "netsuite"
    assert fine.raise_for_status() is fine
    assert sim.summary()["errors"] == {"AUTH_REFRESH_FAILED": 1, "SERVICE_UNAVAILABLE": 1}
