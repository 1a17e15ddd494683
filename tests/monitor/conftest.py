"""Each monitor test gets its own Tray simulator, monitor table and alerts topic.

The monitor's lease and checkpoint are per table, so a fresh table per test keeps tests
independent; moto itself (and the decisions and reviews tables) come from the session's
``local_env``. The monitor handler reads ``get_settings()`` on every invocation, so
patching the environment points it at this test's simulator.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import pytest

from tray_agent.config import Settings, get_settings
from tray_agent.data.monitor import MonitorRepository
from tray_agent.tray import Execution
from tray_local.local_aws import create_tables
from tray_local.simulator import TraySimulator


@dataclass
class MonitorEnv:
    settings: Settings
    sim: TraySimulator
    queue_url: str
    api: Any  # the session LocalEnvironment, for GET /decisions/{id}

    @property
    def repository(self) -> MonitorRepository:
        return MonitorRepository(self.settings.monitor_table)

    def trigger(self, workflow: str, payload: dict[str, Any], key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return httpx.post(self.sim.webhook_url(workflow), json=payload, headers=headers, timeout=10)

    def alerts(self) -> list[dict[str, Any]]:
        """Every SNS alert delivered so far (the topic's SQS subscription, raw delivery)."""
        sqs = boto3.client("sqs", region_name="us-east-1")
        found: list[dict[str, Any]] = []
        while True:
            messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def retries_of(self, execution_id: str) -> list[Execution]:
        return [e for e in self.sim.executions() if e.retry_of == execution_id]

    def ops_notifications(self) -> list[Execution]:
        return [e for e in self.sim.executions() if e.workflow_name == "ops_alert_notification"]


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


def later(**delta: float) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


@pytest.fixture
def monitor_env(local_env: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[MonitorEnv]:
    # The API handler reads its settings once, at import: import it under the session's settings
    # so that this test's patched environment never leaks into later API tests of this process.
    import tray_agent.handlers.api  # noqa: F401

    suffix = uuid.uuid4().hex[:10]
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic_arn = sns.create_topic(Name=f"alerts-{suffix}")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"alerts-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )
    # Time factor 0.01: Tray's waits (timeouts, slow steps) take a hundredth of their real time.
    with TraySimulator(time_factor=0.01, seed=11) as sim:
        for name, value in {
            "TRAY_AGENT_TRAY_API_BASE_URL": sim.base_url,
            "TRAY_AGENT_TRAY_WEBHOOK_BASE_URL": sim.base_url,
            "TRAY_AGENT_TRAY_MASTER_TOKEN": sim.master_token,
            "TRAY_AGENT_TRAY_USER_TOKEN": sim.user_token,
            "TRAY_AGENT_MONITOR_TABLE": f"monitor-{suffix}",
            "TRAY_AGENT_WORK_TABLE": f"work-{suffix}",  # held failed runs and their incidents
            "TRAY_AGENT_ALERTS_TOPIC_ARN": topic_arn,
            "TRAY_AGENT_MONITOR_PROBE_TIMEOUT_S": "2",
        }.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        settings = get_settings()
        create_tables(settings)
        try:
            yield MonitorEnv(settings=settings, sim=sim, queue_url=queue_url, api=local_env)
        finally:
            get_settings.cache_clear()


def use_settings(monkeypatch: pytest.MonkeyPatch, **values: str) -> Settings:
    """Override monitor settings for one test (the handler reads them on its next tick)."""
    for name, value in values.items():
        monkeypatch.setenv(f"TRAY_AGENT_{name.upper()}", value)
    get_settings.cache_clear()
    return get_settings()
