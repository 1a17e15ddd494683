"""Client wiring: one shared client per container, regions, tokens from Secrets Manager."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from tray_agent.config import Settings
from tray_agent.errors import ConfigurationError
from tray_agent.tray import build_tray_clients, get_tray_clients
from tray_agent.tray.endpoints import endpoints_for, resolve_webhook_url
from tray_agent.tray.tokens import TokenSource
from tray_local.simulator import TraySimulator

from .conftest import FAST_RETRIES, settings_for


def test_get_tray_clients_is_one_shared_set_per_container() -> None:
    settings = Settings(tray_master_token="m", tray_user_token="u", tray_region="eu")

    first, second = get_tray_clients(settings), get_tray_clients(settings)

    assert first is second
    assert first.webhooks._http is first.workflows._http is first.platform._http is first.graphql._http
    assert first.http.limiter.rate_per_s == settings.tray_client_rps


@pytest.mark.parametrize(
    ("region", "platform", "graphql", "workflow_api"),
    [
        ("us", "https://api.tray.io/core/v1", "https://tray.io/graphql", "https://tray.io/api/v1"),
        (
            "eu",
            "https://api.eu1.tray.io/core/v1",
            "https://eu1.tray.io/graphql",
            "https://eu1.tray.io/api/v1",
        ),
        (
            "apac",
            "https://api.ap1.tray.io/core/v1",
            "https://ap1.tray.io/graphql",
            "https://ap1.tray.io/api/v1",
        ),
    ],
)
def test_region_base_urls(region: str, platform: str, graphql: str, workflow_api: str) -> None:
    endpoints = endpoints_for(Settings.model_validate({"tray_region": region}))
    assert (endpoints.platform, endpoints.graphql, endpoints.workflow_api) == (
        platform,
        graphql,
        workflow_api,
    )


def test_webhook_paths_need_a_base_url() -> None:
    endpoints = endpoints_for(Settings(tray_webhook_base_url="https://acme.trayapp.io"))
    assert resolve_webhook_url("/webhooks/abc", endpoints) == "https://acme.trayapp.io/webhooks/abc"
    assert resolve_webhook_url("https://x.trayapp.io/h", endpoints) == "https://x.trayapp.io/h"
    with pytest.raises(ConfigurationError, match="WEBHOOK_BASE_URL"):
        resolve_webhook_url("/webhooks/abc", endpoints_for(Settings()))


def test_missing_token_is_a_configuration_error_naming_where_to_put_it() -> None:
    with pytest.raises(ConfigurationError, match="TRAY_AGENT_TRAY_MASTER_TOKEN"):
        TokenSource(Settings()).get("master")
    assert "hunter2" not in repr(TokenSource(Settings(tray_master_token="hunter2")))
    assert "hunter2" not in repr(Settings(tray_master_token="hunter2"))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        parameters.clear_caches()
        yield
        parameters.clear_caches()


@pytest.mark.usefixtures("aws")
def test_tokens_come_from_secrets_manager_in_lambda(sim: TraySimulator) -> None:
    name = f"tray-agent/tray-{uuid.uuid4().hex[:8]}"
    boto3.client("secretsmanager").create_secret(
        Name=name, SecretString=json.dumps({"master_token": sim.master_token, "user_token": sim.user_token})
    )
    settings = settings_for(sim, tray_master_token="", tray_user_token="", tray_token_secret_name=name)
    clients = build_tray_clients(settings, retry_policy=FAST_RETRIES)

    connectors = clients.platform.list_connectors()  # master token
    workflows = clients.graphql.list_workflows()  # user token

    assert connectors and workflows
    clients.close()
