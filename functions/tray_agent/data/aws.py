"""boto3 clients and resources, created once per container."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import DynamoDBServiceResource, Table

# Bounded, jittered retries for throttling are botocore's "standard" mode.
_BOTO_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=3, read_timeout=10)


@cache
def dynamodb() -> DynamoDBServiceResource:
    return boto3.resource("dynamodb", config=_BOTO_CONFIG)


@cache
def client(service: str) -> Any:
    return boto3.client(service, config=_BOTO_CONFIG)  # type: ignore[call-overload]


def table(name: str) -> Table:
    return dynamodb().Table(name)


def reset_clients() -> None:
    """Forget cached clients (tests that swap the AWS endpoint between runs)."""
    dynamodb.cache_clear()
    client.cache_clear()
