"""The simulator's runs behave as scripted and as seed 001's limits say."""

from __future__ import annotations

import time
from collections import Counter

from tray_agent.tray import TrayClients
from tray_local.simulator import SEED_STORIES, StepScript, TraySimulator, WorkflowScript
from tray_local.simulator.scripts import STEP_DATA_LIMIT_BYTES


def test_failure_after_n_steps_names_the_step(sim: TraySimulator, clients: TrayClients) -> None:
    sim.set_script("order_processing", SEED_STORIES["order_processing"])

    execution = clients.workflows.execute("wf-order-processing", {"order_data": {}}, idempotency_key="o-1")

    assert execution.status == "failed"
    assert execution.error is not None
    assert execution.error.code == "SERVICE_UNAVAILABLE"
    assert execution.error.step == "post_to_accounting"
    assert execution.error.retry_after_s == 120
    assert [s.status for s in execution.steps] == ["succeeded", "succeeded", "failed"]


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
