"""Faults: 429 bursts, 5xx, connection resets and read timeouts are retried only within bounds,
and only where repeating is safe."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tray_agent.config import Settings
from tray_agent.tray import (
    TrayClients,
    TrayRateLimitedError,
    TrayServerError,
    TrayTimeoutError,
    TrayTransportError,
    build_tray_clients,
)
from tray_local.simulator import Fault, TraySimulator

from .conftest import FAST_RETRIES, settings_for

LEAD_PATH = "/webhooks/5c1f0d2e-lead-enrichment"
KEY_FIELD = "tray_agent_attempt_key"
PICKLIST = {"sobject": "Account", "field": "Industry"}
SLACK = {"channel": "#integrations-alerts", "text": "hello"}


@pytest.fixture
def impatient(sim: TraySimulator) -> Iterator[TrayClients]:
    """Clients whose read timeout is short enough to hit in a test."""
    built = build_tray_clients(settings_for(sim, tray_timeout_s=0.3), retry_policy=FAST_RETRIES)
    yield built
    built.close()


def _statuses(sim: TraySimulator, prefix: str) -> list[int]:
    return [call.status for call in sim.calls() if call.path.startswith(prefix)]


def test_a_429_burst_is_waited_out(sim: TraySimulator, clients: TrayClients) -> None:
    execution = clients.workflows.execute("wf-ops-alert", {"severity": "info"}, idempotency_key="a-1")
    sim.inject_fault(
        Fault(kind="status", status=429, retry_after=0.05, path_prefix="/api/v1/executions", times=3)
    )

    fetched = clients.workflows.get_execution(execution.id)

    assert fetched.id == execution.id
    assert _statuses(sim, "/api/v1/executions") == [429, 429, 429, 200]


def test_429_that_does_not_end_reaches_the_caller_after_bounded_attempts(
    sim: TraySimulator, clients: TrayClients
) -> None:
    sim.inject_fault(Fault(kind="status", status=429, retry_after=0.01, path_prefix="/core/v1", times=100))

    with pytest.raises(TrayRateLimitedError) as caught:
        clients.platform.list_connectors()

    assert caught.value.retry_after_s == pytest.approx(0.01)
    assert caught.value.operation == "platform.list_connectors"
    assert _statuses(sim, "/core/v1") == [429] * FAST_RETRIES.max_attempts


def test_a_retry_after_longer_than_the_budget_is_left_to_the_caller(
    sim: TraySimulator, clients: TrayClients
) -> None:
    sim.inject_fault(Fault(kind="status", status=429, retry_after=120, path_prefix="/core/v1"))

    with pytest.raises(TrayRateLimitedError) as caught:
        clients.platform.list_triggers()

    assert caught.value.retry_after_s == 120
    assert _statuses(sim, "/core/v1") == [429]


def test_5xx_is_retried_for_reads(sim: TraySimulator, clients: TrayClients) -> None:
    sim.inject_fault(Fault(kind="status", status=503, path_prefix="/graphql", times=2))

    workflows = clients.graphql.list_workflows()

    assert workflows
    assert _statuses(sim, "/graphql") == [503, 503, 200]


def test_5xx_that_persists_raises_after_bounded_attempts(sim: TraySimulator, clients: TrayClients) -> None:
    sim.inject_fault(Fault(kind="status", status=502, path_prefix="/core/v1", times=100))

    with pytest.raises(TrayServerError) as caught:
        clients.platform.list_authentications()

    assert caught.value.status_code == 502
    assert len(_statuses(sim, "/core/v1")) == FAST_RETRIES.max_attempts


def test_5xx_on_a_connector_call_is_not_repeated(sim: TraySimulator, clients: TrayClients) -> None:
    sim.inject_fault(Fault(kind="status", status=500, path_prefix="/core/v1/connectors", times=5))

    with pytest.raises(TrayServerError):
        clients.platform.call_connector(
            "salesforce", "8.1", "get_picklist_values", auth_id="a", input=PICKLIST
        )

    assert _statuses(sim, "/core/v1") == [500]  # a billable, maybe-writing call is never blindly repeated


def test_connection_reset_before_an_answer_is_retried(sim: TraySimulator, clients: TrayClients) -> None:
    sim.inject_fault(Fault(kind="reset", path_prefix="/core/v1/triggers", times=2))

    triggers = clients.platform.list_triggers()

    assert triggers
    assert _statuses(sim, "/core/v1/triggers") == [0, 0, 200]


def test_reset_after_a_trigger_took_effect_is_not_repeated_and_the_run_can_be_found(
    sim: TraySimulator, clients: TrayClients
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    sim.inject_fault(Fault(kind="reset", path_prefix=LEAD_PATH, after_processing=True))
    payload = {"email": "a@b.co", KEY_FIELD: "reset-1"}

    with pytest.raises(TrayTransportError) as caught:
        clients.webhooks.trigger(LEAD_PATH, payload, idempotency_key="reset-1")

    assert caught.value.outcome_unknown  # Tray may have acted: never blindly sent again
    [execution] = sim.executions()
    assert _statuses(sim, LEAD_PATH) == [0]
    found = clients.workflows.find_execution_by_key(
        "wf-lead-enrichment", key_field=KEY_FIELD, key="reset-1", since=since
    )
    assert found is not None and found.id == execution.id


def test_read_timeout_on_a_trigger_is_not_repeated(sim: TraySimulator, impatient: TrayClients) -> None:
    sim.inject_fault(Fault(kind="delay", delay_s=1.0, path_prefix=LEAD_PATH, after_processing=True))

    with pytest.raises(TrayTimeoutError) as caught:
        impatient.webhooks.trigger(LEAD_PATH, {"email": "a@b.co"}, idempotency_key="slow-1")

    assert caught.value.outcome_unknown
    assert len(sim.executions()) == 1


def test_read_timeout_on_execute_is_not_repeated(sim: TraySimulator, impatient: TrayClients) -> None:
    sim.inject_fault(Fault(kind="delay", delay_s=1.0, path_prefix="/api/v1/workflows", after_processing=True))

    with pytest.raises(TrayTimeoutError) as caught:
        impatient.workflows.execute("wf-lead-enrichment", {"email": "a@b.co"}, idempotency_key="x-1")

    assert caught.value.outcome_unknown
    assert len(sim.executions()) == 1


def test_a_503_refusal_of_a_trigger_is_repeated_and_runs_once(
    sim: TraySimulator, clients: TrayClients
) -> None:
    sim.inject_fault(Fault(kind="status", status=503, path_prefix=LEAD_PATH, times=2))

    result = clients.webhooks.trigger(LEAD_PATH, {"email": "a@b.co"}, idempotency_key="busy-1")

    [execution] = sim.executions()
    assert result.execution_id == execution.id
    assert _statuses(sim, LEAD_PATH) == [503, 503, 200]


def test_a_502_on_a_trigger_is_not_repeated_and_leaves_the_outcome_open(
    sim: TraySimulator, clients: TrayClients
) -> None:
    sim.inject_fault(Fault(kind="status", status=502, path_prefix=LEAD_PATH, times=2))

    with pytest.raises(TrayServerError) as caught:
        clients.webhooks.trigger(LEAD_PATH, {"email": "a@b.co"}, idempotency_key="gw-1")

    assert caught.value.outcome_unknown
    assert _statuses(sim, LEAD_PATH) == [502]


def test_read_timeout_on_a_connector_call_is_not_repeated(sim: TraySimulator, impatient: TrayClients) -> None:
    sim.inject_fault(
        Fault(kind="delay", delay_s=1.0, path_prefix="/core/v1/connectors", after_processing=True, times=5)
    )

    with pytest.raises(TrayTimeoutError) as caught:
        impatient.platform.call_connector(
            "slack", "10.2", "send_message", auth_id="auth-slack-ops", input=SLACK
        )

    assert caught.value.code == "TIMEOUT"
    assert caught.value.operation == "platform.call_connector"
    assert len(sim.platform.calls) == 1  # sent once; never a second, possibly duplicate, message


def test_timeouts_on_reads_are_retried_then_raised(sim: TraySimulator, impatient: TrayClients) -> None:
    sim.inject_fault(Fault(kind="delay", delay_s=0.6, path_prefix="/graphql", times=100))

    with pytest.raises(TrayTimeoutError) as caught:
        impatient.graphql.list_workflows()

    assert caught.value.operation == "graphql.list_workflows"


def test_nothing_listening_is_a_transport_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(
        tray_api_base_url=f"http://127.0.0.1:{port}", tray_master_token="t", tray_user_token="t"
    )
    clients = build_tray_clients(settings, retry_policy=FAST_RETRIES)

    with pytest.raises(TrayTransportError) as caught:
        clients.workflows.get_execution("exec-1")

    assert caught.value.code == "TRANSPORT"
    clients.close()
