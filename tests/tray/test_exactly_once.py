"""Exactly-once without help from Tray: the opt-in processed-ids check and finding an attempt's run.

Tray's triggers never deduplicate; a workflow with ``processed_ids_check`` ends a run whose
attempt key it already processed, as a (billed) step. All through the real clients over HTTP.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from tray_agent.config import DEFAULT_WORKFLOWS_FILE
from tray_agent.models.workflows import (
    DEFAULT_ATTEMPT_KEY_FIELD,
    ProcessedIdsCheck,
    TriggerMode,
    WorkflowTool,
    load_workflows_file,
)
from tray_agent.tray import TrayClients, TrayTransportError, TrayWorkflowDisabledError
from tray_local.simulator import Fault, StepScript, TraySimulator, WorkflowScript

ORDER_PATH = "/webhooks/2d9b6c30-order-processing"
ORDER_ID = "wf-order-processing"
KEY = DEFAULT_ATTEMPT_KEY_FIELD


def _order(key: str) -> dict[str, object]:
    return {"order_data": {"id": "ORD-1", "total": 120}, KEY: key}


def _since() -> datetime:
    return datetime.now(UTC) - timedelta(seconds=2)


def test_the_workflows_file_opts_in_where_a_double_run_would_hurt() -> None:
    tools = load_workflows_file(DEFAULT_WORKFLOWS_FILE).by_name()
    checked = {name for name, tool in tools.items() if tool.processed_ids_check is not None}

    assert checked == {
        "lead_enrichment",
        "lead_enrichment_bulk",  # a batch's bulk run carries the batch's key
        "enterprise_lead_routing",
        "order_processing",
        "csm_health_task",
        "employee_provisioning",
        "support_ticket_triage",
        "issue_refund",
        "onboarding_nudge",  # a nudge or an escalation sent twice is noise a new hire sees
        "onboarding_escalation",
    }
    assert all(tools[name].processed_ids_check == ProcessedIdsCheck() for name in checked)


def test_the_check_model_is_strict() -> None:
    base = {"name": "x_flow", "description": "a test workflow", "trigger": {"workflow_id": "wf-x"}}
    assert WorkflowTool.model_validate({**base, "processed_ids_check": {}}).processed_ids_check == (
        ProcessedIdsCheck(key_field="tray_agent_attempt_key")
    )
    with pytest.raises(ValidationError, match="key_fiel"):
        WorkflowTool.model_validate({**base, "processed_ids_check": {"key_fiel": "k"}})
    with pytest.raises(ValidationError, match="key_field"):
        WorkflowTool.model_validate({**base, "processed_ids_check": {"key_field": "has space"}})


def test_a_repeated_trigger_with_the_same_key_ends_at_the_check(
    sim: TraySimulator, clients: TrayClients
) -> None:
    first = clients.webhooks.trigger(ORDER_PATH, _order("att-1"), idempotency_key="att-1")
    second = clients.webhooks.trigger(ORDER_PATH, _order("att-1"), idempotency_key="att-1")
    other = clients.webhooks.trigger(ORDER_PATH, _order("att-2"), idempotency_key="att-2")

    runs = {run.id: run for run in sim.runs("order_processing")}
    assert len(runs) == 3  # Tray started every one of them
    original, repeat, new = (
        runs[str(first.execution_id)],
        runs[str(second.execution_id)],
        runs[str(other.execution_id)],
    )
    assert repeat.duplicate_of == original.id
    assert repeat.output == {"status": "duplicate", "duplicate_of": original.id}
    assert [s.name for s in repeat.steps] == ["trigger", "processed_ids_check"]  # no further steps
    assert repeat.task_credits == 2 < original.task_credits == 4  # the check is billed, nothing after
    assert [r.took_effect for r in (original, repeat, new)] == [True, False, True]
    assert sim.summary()["duplicates_stopped"] == 1
    # The client's view carries it too (from the workflow's reply).
    [seen] = [e for e in sim.executions() if e.id == repeat.id]
    assert seen.duplicate_of == original.id


def test_await_mode_answers_the_duplicate_reply(sim: TraySimulator, clients: TrayClients) -> None:
    sim.set_trigger_mode("order_processing", TriggerMode.AWAIT_RESPONSE)
    sim.set_script("order_processing", WorkflowScript(output={"order": "created"}))

    first = clients.webhooks.trigger(
        ORDER_PATH, _order("sync-1"), idempotency_key="s", mode=TriggerMode.AWAIT_RESPONSE
    )
    again = clients.webhooks.trigger(
        ORDER_PATH, _order("sync-1"), idempotency_key="s", mode=TriggerMode.AWAIT_RESPONSE
    )

    assert first.response == {"order": "created"}
    assert again.response == {"status": "duplicate", "duplicate_of": first.execution_id}


def test_a_run_still_going_counts_as_processed(sim: TraySimulator, clients: TrayClients) -> None:
    sim.set_script(
        "order_processing",
        WorkflowScript(
            steps=[StepScript(name="trigger", connector="webhook"), StepScript(name="ship", seconds=30)]
        ),
    )

    first = clients.webhooks.trigger(ORDER_PATH, _order("slow-1"), idempotency_key="a")
    again = clients.webhooks.trigger(ORDER_PATH, _order("slow-1"), idempotency_key="a")
    sim.wait_idle()

    [original, repeat] = sim.runs("order_processing")
    assert original.id == first.execution_id and repeat.id == again.execution_id
    assert repeat.duplicate_of == original.id
    assert original.took_effect


def test_a_failed_run_releases_its_key_so_a_retry_runs(sim: TraySimulator, clients: TrayClients) -> None:
    sim.set_script("order_processing", WorkflowScript(outcome="fail", error_code="SERVICE_UNAVAILABLE"))
    failed = clients.workflows.execute(ORDER_ID, _order("retry-1"), idempotency_key="k")
    assert failed.status == "failed"
    sim.set_script("order_processing", WorkflowScript())

    retried = clients.workflows.retry_execution(failed.id, idempotency_key="k-retry")
    repeated = clients.workflows.execute(ORDER_ID, _order("retry-1"), idempotency_key="k")

    assert retried.status == "succeeded" and retried.duplicate_of is None
    assert retried.input[KEY] == "retry-1"  # the retry carries the original input, key included
    assert repeated.duplicate_of == retried.id


def test_without_the_key_or_without_the_opt_in_nothing_is_checked(
    sim: TraySimulator, clients: TrayClients
) -> None:
    clients.webhooks.trigger(ORDER_PATH, {"order_data": {}}, idempotency_key="n")
    clients.webhooks.trigger(ORDER_PATH, {"order_data": {}}, idempotency_key="n")
    alert = {"severity": "info", "title": "t", KEY: "same"}
    clients.workflows.execute("wf-ops-alert", alert, idempotency_key="o")
    clients.workflows.execute("wf-ops-alert", alert, idempotency_key="o")

    orders = sim.runs("order_processing")
    assert [r.took_effect for r in orders] == [True, True]
    assert all("not checked" in " ".join(r.steps[1].logs) for r in orders)
    alerts = sim.runs("ops_alert_notification")
    assert [r.took_effect for r in alerts] == [True, True]  # not opted in: no check step at all
    assert all("processed_ids_check" not in [s.name for s in r.steps] for r in alerts)


def test_a_disabled_workflow_records_no_key(sim: TraySimulator, clients: TrayClients) -> None:
    sim.disable_workflow("order_processing")
    with pytest.raises(TrayWorkflowDisabledError):
        clients.webhooks.trigger(ORDER_PATH, _order("off-1"), idempotency_key="x")
    sim.enable_workflow("order_processing")

    clients.webhooks.trigger(ORDER_PATH, _order("off-1"), idempotency_key="x")

    [refused, ran] = sim.runs("order_processing")
    assert refused.task_credits == 0 and not refused.took_effect
    assert ran.took_effect


def test_find_execution_by_key_after_a_dropped_connection(sim: TraySimulator, clients: TrayClients) -> None:
    since = _since()
    clients.webhooks.trigger(ORDER_PATH, _order("before"), idempotency_key="b")
    sim.inject_fault(Fault(kind="reset", path_prefix=ORDER_PATH, after_processing=True))

    with pytest.raises(TrayTransportError) as caught:
        clients.webhooks.trigger(ORDER_PATH, _order("lost-1"), idempotency_key="lost-1")
    assert caught.value.outcome_unknown

    found = clients.workflows.find_execution_by_key(ORDER_ID, key_field=KEY, key="lost-1", since=since)
    assert found is not None
    assert found.input[KEY] == "lost-1" and found.duplicate_of is None
    assert [r.id for r in sim.runs("order_processing") if r.input.get(KEY) == "lost-1"] == [found.id]
    # Never reached Tray, outside the window, or another workflow: nothing.
    assert clients.workflows.find_execution_by_key(ORDER_ID, key_field=KEY, key="never", since=since) is None
    later = datetime.now(UTC) + timedelta(seconds=5)
    assert clients.workflows.find_execution_by_key(ORDER_ID, key_field=KEY, key="lost-1", since=later) is None
    assert (
        clients.workflows.find_execution_by_key("wf-refund", key_field=KEY, key="lost-1", since=since) is None
    )


def test_find_execution_by_key_pages_and_prefers_the_run_that_took_effect(
    sim: TraySimulator, clients: TrayClients
) -> None:
    since = _since()
    for index in range(620):  # more than one page of 500
        clients.workflows.execute(ORDER_ID, _order(f"bulk-{index}"), idempotency_key="bulk")
    clients.workflows.execute(ORDER_ID, _order("bulk-3"), idempotency_key="bulk")  # a duplicate, later

    found = clients.workflows.find_execution_by_key(ORDER_ID, key_field=KEY, key="bulk-3", since=since)
    last = clients.workflows.find_execution_by_key(ORDER_ID, key_field=KEY, key="bulk-619", since=since)

    assert found is not None and found.duplicate_of is None and found.input[KEY] == "bulk-3"
    assert last is not None and last.input[KEY] == "bulk-619"
    list_calls = [c for c in sim.calls() if c.path == "/api/v1/executions"]
    assert len(list_calls) == 3  # the first search stopped on page 1; the second read two pages


def test_find_execution_by_key_falls_back_to_a_duplicate_or_a_failed_run(
    sim: TraySimulator, clients: TrayClients
) -> None:
    first = clients.workflows.execute(ORDER_ID, _order("d-1"), idempotency_key="d")
    after_first = first.created_at + timedelta(microseconds=1)
    duplicate = clients.workflows.execute(ORDER_ID, _order("d-1"), idempotency_key="d")
    sim.set_script("order_processing", WorkflowScript(outcome="fail"))
    failed = clients.workflows.execute(ORDER_ID, _order("f-1"), idempotency_key="f")

    in_window = clients.workflows.find_execution_by_key(ORDER_ID, key_field=KEY, key="d-1", since=after_first)
    only_failed = clients.workflows.find_execution_by_key(
        ORDER_ID, key_field=KEY, key="f-1", since=after_first
    )

    assert in_window is not None and in_window.id == duplicate.id and in_window.duplicate_of == first.id
    assert only_failed is not None and only_failed.id == failed.id and only_failed.status == "failed"


def test_the_simulator_reads_the_opt_in_from_a_custom_workflows_file(tmp_path: Path) -> None:
    document = json.loads(DEFAULT_WORKFLOWS_FILE.read_text())
    for workflow in document["workflows"]:
        workflow.pop("processed_ids_check", None)
        if workflow["name"] == "ops_alert_notification":
            workflow["processed_ids_check"] = {"key_field": "alert_id"}
    custom = tmp_path / "workflows.json"
    custom.write_text(json.dumps(document))

    with TraySimulator(custom, time_factor=0.01) as sim:
        url = sim.webhook_url("ops_alert_notification")
        for _ in range(2):
            httpx.post(url, json={"severity": "info", "title": "t", "alert_id": 42}, timeout=5)
        httpx.post(sim.webhook_url("order_processing"), json=_order("z"), timeout=5)
        httpx.post(sim.webhook_url("order_processing"), json=_order("z"), timeout=5)

        assert [r.took_effect for r in sim.runs("ops_alert_notification")] == [True, False]
        assert [r.took_effect for r in sim.runs("order_processing")] == [True, True]
