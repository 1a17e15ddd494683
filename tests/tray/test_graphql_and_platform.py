"""GraphQL (Embedded API) and Platform API calls, success and error answers."""

from __future__ import annotations

import pytest

from tray_agent.tray import (
    TrayAuthRefreshFailedError,
    TrayBadRequestError,
    TrayClients,
    TrayConnectorError,
    TrayNotFoundError,
    TrayUnauthorizedError,
    build_tray_clients,
)
from tray_local.simulator import TraySimulator

from .conftest import FAST_RETRIES, settings_for


def test_list_workflows_reports_enabled_and_trigger_url(sim: TraySimulator, clients: TrayClients) -> None:
    sim.set_enabled("issue_refund", False)

    workflows = {w.name: w for w in clients.graphql.list_workflows()}

    # The nine tools, lead_enrichment_bulk (batching) and the three onboarding follow-up workflows.
    assert len(workflows) == 13
    assert workflows["issue_refund"].enabled is False
    assert workflows["lead_enrichment"].enabled is True
    assert workflows["lead_enrichment"].id == "wf-lead-enrichment"
    assert workflows["lead_enrichment"].trigger_url == sim.webhook_url("lead_enrichment")


def test_graphql_errors_raise(clients: TrayClients) -> None:
    with pytest.raises(TrayBadRequestError) as caught:
        clients.graphql.query("graphql.custom", "query { nonsense }")
    assert caught.value.code == "GRAPHQL_VALIDATION_FAILED"
    assert caught.value.operation == "graphql.custom"


def test_connectors_and_their_operations(clients: TrayClients) -> None:
    connectors = {c.name: c for c in clients.platform.list_connectors()}
    assert "salesforce" in connectors
    version = connectors["salesforce"].versions[0].version

    salesforce = clients.platform.get_connector_version("salesforce", version)

    assert "get_picklist_values" in {op.name for op in salesforce.operations}
    with pytest.raises(TrayNotFoundError):
        clients.platform.get_connector_version("salesforce", "0.0")


def test_salesforce_picklist_lookup_has_the_valid_industry(sim: TraySimulator, clients: TrayClients) -> None:
    output = clients.platform.call_connector(
        "salesforce",
        "8.1",
        "get_picklist_values",
        auth_id="auth-salesforce-prod",
        input={"sobject": "Account", "field": "Industry"},
        idempotent=True,
    )

    values = [v["value"] for v in output["values"]]
    assert "Technology - SaaS" in values
    assert "SaaS" not in values
    assert sim.platform.calls[-1]["operation"] == "get_picklist_values"


def test_connector_call_errors(clients: TrayClients) -> None:
    with pytest.raises(TrayConnectorError) as rejected:
        clients.platform.call_connector(
            "salesforce",
            "8.1",
            "create_record",
            auth_id="auth-salesforce-prod",
            input={"sobject": "Account", "fields": {"Name": "Acme", "Industry": "SaaS"}},
        )
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" in str(rejected.value)
    assert rejected.value.details["serviceCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"

    with pytest.raises(TrayAuthRefreshFailedError) as expired:
        clients.platform.call_connector(
            "salesforce",
            "8.1",
            "get_picklist_values",
            auth_id="auth-salesforce-csm-expired",
            input={"sobject": "Account", "field": "Industry"},
        )
    assert expired.value.code == "AUTH_REFRESH_FAILED"

    with pytest.raises(TrayBadRequestError) as bad_input:
        clients.platform.call_connector(
            "salesforce", "8.1", "get_picklist_values", auth_id="auth-salesforce-prod", input={"sobject": 3}
        )
    assert "field" in str(bad_input.value) and "is a required property" in str(bad_input.value)


def test_authentications(clients: TrayClients) -> None:
    authentications = {a.id: a for a in clients.platform.list_authentications()}
    assert "auth-salesforce-prod" in authentications

    one = clients.platform.get_authentication("auth-salesforce-prod")

    assert one.service_environment_id == "senv-salesforce-prod"
    with pytest.raises(TrayNotFoundError):
        clients.platform.get_authentication("auth-nope")


def test_triggers_and_subscriptions(sim: TraySimulator, clients: TrayClients) -> None:
    triggers = {t.name: t for t in clients.platform.list_triggers()}
    trigger = triggers["salesforce_record_created"]

    subscription = clients.platform.create_subscription(
        trigger_name=trigger.name,
        connector_name=trigger.connector_name or "",
        connector_version="8.1",
        auth_id="auth-salesforce-prod",
        input={"sobject": "Account"},
    )

    assert subscription.status == "active"
    assert subscription.id in sim.platform.subscriptions
    clients.platform.delete_subscription(subscription.id)
    assert subscription.id not in sim.platform.subscriptions
    with pytest.raises(TrayNotFoundError):
        clients.platform.delete_subscription(subscription.id)
    with pytest.raises(TrayBadRequestError):
        clients.platform.create_subscription(
            trigger_name="no_such_trigger",
            connector_name="salesforce",
            connector_version="8.1",
            auth_id="auth-salesforce-prod",
            input={},
        )


def test_invalid_platform_request_gets_a_400_naming_the_problem(sim: TraySimulator) -> None:
    import httpx

    response = httpx.post(
        f"{sim.base_url}/core/v1/subscriptions",
        json={"triggerName": "salesforce_record_created", "connectorName": "salesforce"},
        headers={"Authorization": f"Bearer {sim.user_token}"},
    )

    assert response.status_code == 400
    message = response.json()["message"]
    assert "'authId' is a required property" in message
    assert "'input' is a required property" in message


def test_bad_token_is_401_on_every_api_and_never_echoed(sim: TraySimulator) -> None:
    wrong = build_tray_clients(
        settings_for(sim, tray_master_token="leaked-master", tray_user_token="leaked-user"),
        retry_policy=FAST_RETRIES,
    )
    calls = [
        lambda: wrong.workflows.get_execution("exec-1"),
        wrong.graphql.list_workflows,
        wrong.platform.list_connectors,
        wrong.platform.list_authentications,
    ]
    for call in calls:
        with pytest.raises(TrayUnauthorizedError) as caught:
            call()
        assert caught.value.status_code == 401
        assert "leaked" not in str(caught.value) and "leaked" not in repr(caught.value.details)
    wrong.close()
    assert sim.platform.violations == []
