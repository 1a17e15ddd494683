"""boto3 clients and resources, created once per container."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from tray_agent.errors import TransientStorageError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import DynamoDBServiceResource, Table

# Bounded, jittered retries for throttling are botocore's "standard" mode.
_BOTO_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=3, read_timeout=10)


# What botocore's standard retry mode itself treats as throttling or transient
# (botocore.retries.standard), minus LimitExceededException, which is often a hard quota.
TRANSIENT_ERROR_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "EC2ThrottledException",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        "InternalServerError",
        "InternalError",
        "ServiceUnavailable",
    }
)


def is_transient(exc: BaseException) -> bool:
    """Whether the same AWS call may succeed later: throttling, a 5xx, a broken connection."""
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        return True
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in TRANSIENT_ERROR_CODES or int(status or 0) >= 500
    return False


@contextmanager
def transient_storage_errors() -> Iterator[None]:
    """Re-raise a transient AWS failure that outlived botocore's retries as ``TransientStorageError``.

    Step Functions retries a step by that error's name; anything else passes through unchanged.
    """
    try:
        yield
    except (ClientError, BotoConnectionError, HTTPClientError) as exc:
        if not is_transient(exc):
            raise
        if isinstance(exc, ClientError):
            code = exc.response.get("Error", {}).get("Code", "")
            what = f"{exc.operation_name}: {code or 'HTTP 5xx'}"
        else:
            what = type(exc).__name__
        raise TransientStorageError(f"AWS storage call failed transiently ({what})") from exc


# boto3 loads on the first client, not at import: importing it (and s3transfer with it) is a
# large part of a cold start, and the API answers some requests (health, refusals) without AWS.
@cache
def dynamodb() -> DynamoDBServiceResource:
    import boto3

    return boto3.resource("dynamodb", config=_BOTO_CONFIG)


@cache
def client(service: str) -> Any:
    import boto3

    return boto3.client(service, config=_BOTO_CONFIG)  # type: ignore[call-overload]


@cache
def table(name: str) -> Table:
    """One Table per name and container: building a resource object costs milliseconds each time."""
    return dynamodb().Table(name)


def all_items(operation: Callable[..., Any], **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item of a Table ``query`` or ``scan``, page after page."""
    while True:
        response = operation(**kwargs)
        yield from response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def reset_clients() -> None:
    """Forget cached clients (tests that swap the AWS endpoint between runs)."""
    dynamodb.cache_clear()
    table.cache_clear()
    client.cache_clear()
