"""Webhook triggers, both Tray modes, through the real client and the simulator over HTTP."""

from __future__ import annotations

import httpx
import pytest

from tray_agent.models.workflows import TriggerMode
from tray_agent.tray import (
    TrayClients,
    TrayConnectorError,
    TrayNotFoundError,
    TrayPayloadTooLargeError,
    TrayStepTimeoutError,
    TrayWorkflowDisabledError,
)
from tray_agent.tray.webhooks import WEBHOOK_MAX_BODY_BYTES
from tray_local.simulator import StepScript, TraySimulator, WorkflowScript

LEAD_PATH = "/webhooks/5c1f0d2e-lead-enrichment"
LEAD = {"email": "ada@example.com", "source": "webinar", "priority": "high"}


def test_auto_respond_trigger_starts_one_execution_with_the_payload(
    sim: TraySimulator, clients: TrayClients
) -> None:
    result = clients.webhooks.trigger(LEAD_PATH, LEAD, idempotency_key="lead-1")

    assert result.status_code == 200
    assert result.execution_id
    [execution] = sim.executions()
    assert execution.id == result.execution_id
    assert execution.workflow_name == "lead_enrichment"
    assert execution.input == LEAD
    assert execution.idempotency_key == "lead-1"
    assert execution.status == "succeeded"
    # lead_enrichment opts in to the processed-ids check: it runs right after the trigger step.
    assert [step.name for step in execution.steps] == ["trigger", "processed_ids_check", "run", "reply"]
    assert [step.status for step in execution.steps] == ["succeeded"] * 4


def test_absolute_webhook_url_works_too(sim: TraySimulator, clients: TrayClients) -> None:
    result = clients.webhooks.trigger(sim.webhook_url("lead_enrichment"), LEAD, idempotency_key="abs-1")
    assert result.execution_id == sim.executions()[0].id


def test_the_idempotency_header_is_recorded_but_never_deduplicates(
    sim: TraySimulator, clients: TrayClients
) -> None:
    """Tray's webhooks, as documented, do not deduplicate: the same header is a second run."""
    first = clients.webhooks.trigger(LEAD_PATH, LEAD, idempotency_key="same")
    second = clients.webhooks.trigger(LEAD_PATH, LEAD, idempotency_key="same")

    assert first.execution_id != second.execution_id
    runs = sim.runs()
    assert [run.idempotency_key for run in runs] == ["same", "same"]
    assert [run.took_effect for run in runs] == [True, True]  # no key in the payload: not checked


def test_await_mode_returns_the_workflows_reply(sim: TraySimulator, clients: TrayClients) -> None:
    sim.set_trigger_mode("lead_enrichment", TriggerMode.AWAIT_RESPONSE)
    sim.set_script(
        "lead_enrichment",
        WorkflowScript(
            steps=[StepScript(name="trigger", connector="webhook"), StepScript(name="score", seconds=5)],
            output={"score": 87, "routed_to": "smb"},
        ),
    )

    result = clients.webhooks.trigger(
        LEAD_PATH, LEAD, idempotency_key="sync-1", mode=TriggerMode.AWAIT_RESPONSE
    )

    assert result.response == {"score": 87, "routed_to": "smb"}
    [execution] = sim.executions()
    assert result.execution_id == execution.id
    assert execution.status == "succeeded"  # the answer came after the run finished


def test_await_mode_failure_raises_the_runs_error(sim: TraySimulator, clients: TrayClients) -> None:
    sim.set_trigger_mode("salesforce_account_upsert", TriggerMode.AWAIT_RESPONSE)
    sim.set_script(
        "salesforce_account_upsert",
        WorkflowScript(
            steps=[StepScript(name="trigger"), StepScript(name="upsert", connector="salesforce")],
            picklist_fields={"industry": "Account.Industry"},
        ),
    )

    with pytest.raises(TrayConnectorError) as caught:
        clients.webhooks.trigger(
            "/webhooks/c6a2d3e4-sf-account",
            {"name": "Acme", "industry": "SaaS"},
            idempotency_key="sf-1",
            mode=TriggerMode.AWAIT_RESPONSE,
        )

    error = caught.value
    assert error.operation == "webhooks.trigger"
    assert error.code == "CONNECTOR_ERROR"
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" in str(error)
    assert error.execution_id == sim.executions()[0].id
    assert len(sim.executions()) == 1  # a failed run is not retried by the client


def test_await_mode_step_timeout(sim: TraySimulator, clients: TrayClients) -> None:
    sim.set_trigger_mode("order_processing", TriggerMode.AWAIT_RESPONSE)
    sim.set_script(
        "order_processing",
        WorkflowScript(
            steps=[StepScript(name="trigger"), StepScript(name="ship", connector="shipstation", seconds=60)]
        ),
    )

    with pytest.raises(TrayStepTimeoutError) as caught:
        clients.webhooks.trigger(
            "/webhooks/2d9b6c30-order-processing",
            {"order_data": {"id": "ORD-1"}},
            idempotency_key="slow-1",
            mode=TriggerMode.AWAIT_RESPONSE,
        )
    assert "45 s" in str(caught.value)
    [execution] = sim.executions()
    assert execution.error is not None and execution.error.step == "ship"


def test_payload_over_1_mb_is_refused_before_sending(sim: TraySimulator, clients: TrayClients) -> None:
    huge = {"blob": "x" * WEBHOOK_MAX_BODY_BYTES}

    with pytest.raises(TrayPayloadTooLargeError) as caught:
        clients.webhooks.trigger(LEAD_PATH, huge, idempotency_key="big-1")

    assert "1 MB" in str(caught.value)
    assert str(WEBHOOK_MAX_BODY_BYTES) in str(caught.value)
    assert caught.value.code == "PAYLOAD_TOO_LARGE"
    assert sim.calls() == []


def test_simulator_answers_413_to_a_body_over_1_mb(sim: TraySimulator) -> None:
    body = b'{"blob": "' + b"x" * WEBHOOK_MAX_BODY_BYTES + b'"}'
    response = httpx.post(sim.webhook_url("lead_enrichment"), content=body, timeout=10)
    assert response.status_code == 413
    assert response.json()["error"] == "PAYLOAD_TOO_LARGE"
    assert sim.executions() == []


def test_disabled_workflow_answers_workflow_disabled(sim: TraySimulator, clients: TrayClients) -> None:
    sim.set_enabled("lead_enrichment", False)

    with pytest.raises(TrayWorkflowDisabledError) as caught:
        clients.webhooks.trigger(LEAD_PATH, LEAD, idempotency_key="off-1")

    assert caught.value.code == "WORKFLOW_DISABLED"
    [execution] = sim.executions()
    assert execution.status == "failed"
    assert execution.error is not None and execution.error.code == "WORKFLOW_DISABLED"


def test_unknown_webhook_is_not_found(clients: TrayClients) -> None:
    with pytest.raises(TrayNotFoundError) as caught:
        clients.webhooks.trigger("/webhooks/no-such-hook", LEAD, idempotency_key="x")
    assert caught.value.status_code == 404
