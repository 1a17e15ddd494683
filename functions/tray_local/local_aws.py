"""AWS for local runs and tests: moto in-process, with our tables made from the shared specs."""

from __future__ import annotations

import os
from typing import Any

import boto3

from tray_agent.config import Settings
from tray_agent.data.schema import ALL_TABLES, TableSpec

FAKE_AWS_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_NAMESPACE": "TrayAgent",
    "POWERTOOLS_DEV": "0",
}


def use_fake_aws_credentials() -> None:
    """Make sure nothing can ever reach a real AWS account from a local run."""
    os.environ.update(FAKE_AWS_ENV)


def _table_definition(name: str, spec: TableSpec) -> dict[str, Any]:
    attributes = {spec.partition_key}
    keys = [{"AttributeName": spec.partition_key, "KeyType": "HASH"}]
    if spec.sort_key:
        attributes.add(spec.sort_key)
        keys.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
    indexes = []
    for index in spec.indexes:
        index_keys = [{"AttributeName": index.partition_key, "KeyType": "HASH"}]
        attributes.add(index.partition_key)
        if index.sort_key:
            index_keys.append({"AttributeName": index.sort_key, "KeyType": "RANGE"})
            attributes.add(index.sort_key)
        indexes.append(
            {"IndexName": index.name, "KeySchema": index_keys, "Projection": {"ProjectionType": "ALL"}}
        )
    definition: dict[str, Any] = {
        "TableName": name,
        "KeySchema": keys,
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if indexes:
        definition["GlobalSecondaryIndexes"] = indexes
    return definition


def create_tables(settings: Settings) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    existing = set(client.list_tables()["TableNames"])
    for spec in ALL_TABLES:
        name = getattr(settings, spec.settings_field)
        if name not in existing:
            client.create_table(**_table_definition(name, spec))
    # The payloads bucket holds what does not fit in an item (the ledger's and the audit's).
    s3 = boto3.client("s3", region_name="us-east-1")
    if settings.payloads_bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=settings.payloads_bucket)


def queue_name(name_or_url: str) -> str:
    """Settings name a queue by name (local) or URL (deployed): the name either way."""
    return name_or_url.rstrip("/").rsplit("/", 1)[-1]


def create_queues(settings: Settings) -> None:
    """The dead-letter queues, as the stack creates them (14 days' retention)."""
    client = boto3.client("sqs", region_name="us-east-1")
    for name_or_url in (settings.failed_invocations_queue, settings.undelivered_events_queue):
        client.create_queue(
            QueueName=queue_name(name_or_url), Attributes={"MessageRetentionPeriod": str(14 * 24 * 3600)}
        )
