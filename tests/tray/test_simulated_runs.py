"""The simulator's runs behave as scripted and as seed 001's limits say."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tray_agent.models.workflows import TriggerMode
from tray_agent.tray import Execution, TrayClients, TrayServerError, build_tray_clients
from tray_local.simulator import (
    DEFAULT_WORKFLOWS_FILE,
    SEED_STORIES,
    StepScript,
    TraySimulator,
    WorkflowScript,
)
from tray_local.simulator.scripts import STEP_DATA_LIMIT_BYTES

from .conftest import settings_for


def test_failure_after_n_steps_names_the_step(sim: TraySimulator, clients: TrayClients) -> None:
    sim.set_script("order_processing", SEED_STORIES["order_processing"])

    execution = clients.workflows.execute("wf-order-processing", {"order_data": {}}, idempotency_key="o-1")

    assert execution.status == "failed"
    assert execution.error is not None
    assert execution.error.code == "SERVICE_UNAVAILABLE"
    assert execution.error.step == "post_to_accounting"
    assert execution.error.retry_after_s == 120
    # trigger, the processed-ids check (order_processing opts in), create_fulfillment, then the failure
    assert [s.status for s in execution.steps] == ["succeeded", "succeeded", "succeeded", "failed"]
    assert execution.steps[1].name == "processed_ids_check"


def test_a_standard_connector_step_times_out_at_45_scaled_seconds(
    sim: TraySimulator, clients: TrayClients
) -> None:
    sim.set_script(
        "lead_enrichment",
        WorkflowScript(
            steps=[StepScript(name="trigger"), StepScript(name="enrich", connector="clearbit", seconds=50)]
        ),
    )
    started = time.monotonic()
    execution = clients.workflows.execute("wf-lead-enrichment", {}, idempotency_key="t-1")
    finished = clients.workflows.wait_for_execution(execution.id, timeout_s=5, poll_interval_s=0.02)
    elapsed = time.monotonic() - started

    assert finished.error is not None and finished.error.code == "STEP_TIMEOUT"
    assert finished.error.step == "enrich"
    assert elapsed >= 45 * sim.time_factor


def test_http_client_steps_may_take_longer_than_45_seconds(sim: TraySimulator, clients: TrayClients) -> None:
    sim.set_script(
        "lead_enrichment",
        WorkflowScript(steps=[StepScript(name="call", connector="http-client", seconds=50)]),
    )
    execution = clients.workflows.execute("wf-lead-enrichment", {}, idempotency_key="h-1")
    finished = clients.workflows.wait_for_execution(execution.id, timeout_s=5, poll_interval_s=0.02)
    assert finished.status == "succeeded"


def test_more_than_6_mb_between_steps_fails_the_next_step(sim: TraySimulator, clients: TrayClients) -> None:
    sim.set_script(
        "order_processing",
        WorkflowScript(
            steps=[
                StepScript(name="export", connector="netsuite", output_bytes=STEP_DATA_LIMIT_BYTES + 1),
                StepScript(name="transform"),
            ]
        ),
    )
    execution = clients.workflows.execute("wf-order-processing", {"order_data": {}}, idempotency_key="p-1")

    assert execution.error is not None
    assert execution.error.code == "PAYLOAD_TOO_LARGE"
    assert execution.error.step == "transform"
    assert "6 MB" in execution.error.message


def test_seeded_failure_rate_reproduces_the_clearbit_story(clients: TrayClients) -> None:
    def outcomes(seed: int) -> list[str]:
        with TraySimulator(scripts={"lead_enrichment": SEED_STORIES["lead_enrichment"]}, seed=seed) as sim:
            url = sim.webhook_url("lead_enrichment")
            for index in range(200):
                clients.webhooks.trigger(url, {"email": f"l{index}@x.io"}, idempotency_key=f"k{index}")
            return [e.status for e in sim.executions()]

    first, again = outcomes(3), outcomes(3)
    rate = Counter(first)["failed"] / len(first)

    assert first == again  # same seed, same story
    assert 0.08 <= rate <= 0.22  # about 15%


def test_await_mode_gives_up_after_5_scaled_minutes(clients: TrayClients) -> None:
    slow = WorkflowScript(steps=[StepScript(name="export", connector="http-client", seconds=600)])
    with TraySimulator(scripts={"order_processing": slow}, time_factor=0.001) as sim:
        sim.set_trigger_mode("order_processing", TriggerMode.AWAIT_RESPONSE)

        with pytest.raises(TrayServerError) as caught:
            clients.webhooks.trigger(
                sim.webhook_url("order_processing"),
                {"order_data": {}},
                idempotency_key="sync-slow",
                mode=TriggerMode.AWAIT_RESPONSE,
            )

        assert caught.value.status_code == 504
        [execution] = sim.executions()
        assert caught.value.execution_id == execution.id
        assert [call.status for call in sim.calls()] == [504]  # tied to a run: not repeated


def test_scripts_can_come_from_the_workflows_files_simulation_field(tmp_path: Path) -> None:
    document = json.loads(DEFAULT_WORKFLOWS_FILE.read_text())
    for workflow in document["workflows"]:
        if workflow["name"] == "csm_health_task":
            workflow["simulation"] = {
                "outcome": "fail",
                "error_code": "AUTH_REFRESH_FAILED",
                "error_message": "refresh token revoked",
            }
    workflows_file = tmp_path / "workflows.json"
    workflows_file.write_text(json.dumps(document))

    with TraySimulator(workflows_file) as sim:
        clients = build_tray_clients(settings_for(sim))
        execution = clients.workflows.execute("wf-csm-health", {"customer_id": "c-9"}, idempotency_key="s-1")
        clients.close()

    assert execution.error is not None
    assert (execution.error.code, execution.error.message) == ("AUTH_REFRESH_FAILED", "refresh token revoked")


def test_ten_thousand_historical_executions_seed_cheaply_and_page_fully(clients: TrayClients) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    history = [
        Execution(
            id=f"h-{index:05d}",
            workflow_id="wf-lead-enrichment",
            workflow_name="lead_enrichment",
            status="failed" if index % 20 == 0 else "succeeded",
            created_at=start + timedelta(seconds=index),
        )
        for index in range(10_000)
    ]
    with TraySimulator(rate_limit_rps=1e6, burst=1_000_000) as sim:
        assert sim.seed_executions(reversed(history)) == 10_000
        local = build_tray_clients(settings_for(sim))
        failed = list(local.workflows.list_executions(since=start, status="failed", page_size=100))
        local.close()

    assert [e.id for e in failed] == [f"h-{i:05d}" for i in range(0, 10_000, 20)]
