"""The simulator's scripts for held work (auth expiry, disabled workflow, outages) and the
client probes that observe recovery, through the real clients over HTTP."""

from __future__ import annotations

import pytest

from tray_agent.domain.monitor.classify import classify
from tray_agent.tray import (
    TrayAuthRefreshFailedError,
    TrayClients,
    TrayNotFoundError,
    TrayServerError,
    TrayWorkflowDisabledError,
)
from tray_agent.tray.platform import AuthProbe
from tray_local.simulator import TraySimulator, WorkflowScript
from tray_local.simulator.scripts import ORDER_STEPS

from .conftest import FAST_RETRIES

ACCOUNT_PATH = "/webhooks/c6a2d3e4-sf-account"
ACCOUNT = {"name": "Acme", "industry": "Technology - SaaS"}
SALESFORCE_PROD = "auth-salesforce-prod"
PICKLIST_PROBE = AuthProbe(
    "salesforce", "8.1", "get_picklist_values", {"sobject": "Account", "field": "Industry"}
)


def test_an_expired_authentication_fails_runs_until_restored_and_again_after(
    sim: TraySimulator, clients: TrayClients
) -> None:
    assert clients.platform.authentication_valid(SALESFORCE_PROD, PICKLIST_PROBE) is True

    sim.expire_authentication(SALESFORCE_PROD)
    expired = clients.workflows.execute("wf-sf-account-upsert", ACCOUNT, idempotency_key="a-1")

    assert expired.status == "failed"
    assert expired.error is not None and expired.error.code == "AUTH_REFRESH_FAILED"
    assert expired.error.details == {"authId": SALESFORCE_PROD}
    assert [s.status for s in expired.steps] == ["succeeded", "failed"]  # fails at the first work step
    assert classify(expired).auth_name == "Salesforce (Production)"  # the monitor names the auth
    with pytest.raises(TrayAuthRefreshFailedError):
        clients.platform.call_connector(
            "salesforce", "8.1", "get_picklist_values", auth_id=SALESFORCE_PROD, input=PICKLIST_PROBE.input
        )
    assert clients.platform.authentication_valid(SALESFORCE_PROD, PICKLIST_PROBE) is False
    # Tray's authentication schema has no validity field: it is still listed, unchanged.
    assert SALESFORCE_PROD in {a.id for a in clients.platform.list_authentications()}
    # A workflow that does not use it is not affected.
    other = clients.workflows.execute("wf-order-processing", {"order_data": {}}, idempotency_key="o-1")
    assert other.status == "succeeded"

    sim.restore_authentication(SALESFORCE_PROD)
    assert clients.platform.authentication_valid(SALESFORCE_PROD, PICKLIST_PROBE) is True
    assert (
        clients.workflows.execute("wf-sf-account-upsert", ACCOUNT, idempotency_key="a-2").status
        == "succeeded"
    )

    sim.expire_authentication(SALESFORCE_PROD)  # a second expiry after recovery
    again = clients.workflows.execute("wf-sf-account-upsert", ACCOUNT, idempotency_key="a-3")
    assert again.error is not None and again.error.code == "AUTH_REFRESH_FAILED"
    assert clients.platform.authentication_valid(SALESFORCE_PROD, PICKLIST_PROBE) is False


def test_a_workflow_can_be_pointed_at_another_authentication(
    sim: TraySimulator, clients: TrayClients
) -> None:
    sim.set_authentications("order_processing", ["auth-salesforce-csm-expired"])

    run = clients.workflows.execute("wf-order-processing", {"order_data": {}}, idempotency_key="o-2")

    assert run.error is not None and run.error.code == "AUTH_REFRESH_FAILED"
    assert "Salesforce (CSM)" in run.error.message
    with pytest.raises(KeyError, match="auth-nope"):
        sim.expire_authentication("auth-nope")


def test_a_deleted_authentication_is_not_valid(clients: TrayClients) -> None:
    assert clients.platform.authentication_valid("auth-deleted", PICKLIST_PROBE) is False


def test_disable_and_enable_a_workflow(sim: TraySimulator, clients: TrayClients) -> None:
    sim.disable_workflow("salesforce_account_upsert")

    with pytest.raises(TrayWorkflowDisabledError):
        clients.webhooks.trigger(ACCOUNT_PATH, ACCOUNT, idempotency_key="d-1")
    assert clients.graphql.workflow_enabled("wf-sf-account-upsert") is False
    assert clients.graphql.workflow_enabled("wf-lead-enrichment") is True

    sim.enable_workflow("salesforce_account_upsert")

    assert clients.graphql.workflow_enabled("wf-sf-account-upsert") is True
    result = clients.webhooks.trigger(ACCOUNT_PATH, ACCOUNT, idempotency_key="d-1")  # same key: a new run
    assert [r.status for r in sim.runs("salesforce_account_upsert")] == ["failed", "succeeded"]
    assert sim.runs("salesforce_account_upsert")[-1].id == result.execution_id
    with pytest.raises(TrayNotFoundError):
        clients.graphql.workflow_enabled("wf-nope")


def test_a_tray_outage_answers_503_everywhere_and_runs_nothing(
    sim: TraySimulator, clients: TrayClients
) -> None:
    sim.start_outage(retry_after_s=30)

    with pytest.raises(TrayServerError) as trigger:
        clients.webhooks.trigger(ACCOUNT_PATH, ACCOUNT, idempotency_key="out-1")
    with pytest.raises(TrayServerError):
        clients.graphql.workflow_enabled("wf-sf-account-upsert")

    assert trigger.value.status_code == 503 and trigger.value.code == "SERVICE_UNAVAILABLE"
    assert not trigger.value.outcome_unknown  # a refusal: nothing ran
    assert sim.runs() == []
    answered = [c.status for c in sim.calls() if c.path == ACCOUNT_PATH]
    assert answered == [503] * FAST_RETRIES.max_attempts  # a refusal is safe to repeat, within bounds

    sim.end_outage()

    assert clients.webhooks.trigger(ACCOUNT_PATH, ACCOUNT, idempotency_key="out-1").status_code == 200
    assert clients.graphql.workflow_enabled("wf-sf-account-upsert") is True


def test_a_service_outage_fails_the_steps_that_use_it(sim: TraySimulator, clients: TrayClients) -> None:
    sim.set_script("order_processing", WorkflowScript(steps=ORDER_STEPS))
    sim.start_outage(service="netsuite", retry_after_s=120)

    down = clients.workflows.execute("wf-order-processing", {"order_data": {}}, idempotency_key="n-1")

    assert down.error is not None
    assert (down.error.code, down.error.step, down.error.service_code) == (
        "SERVICE_UNAVAILABLE",
        "post_to_accounting",
        "HTTP_503",
    )
    assert down.error.retry_after_s == 120
    assert clients.workflows.execute("wf-lead-enrichment", {}, idempotency_key="l-1").status == "succeeded"

    sim.end_outage(service="netsuite")

    assert clients.workflows.execute(
        "wf-order-processing", {"order_data": {}}, idempotency_key="n-2"
    ).status == ("succeeded")
