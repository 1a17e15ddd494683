"""The local partition-only Query gives the answers DynamoDB's Query gives (order, paging, filters)."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from moto import mock_aws

from tray_local import moto_speedups


@pytest.fixture
def table() -> Any:
    moto_speedups.install()
    with mock_aws():
        resource = boto3.resource("dynamodb", region_name="eu-west-1")
        created = resource.create_table(
            TableName=f"speedups-{uuid.uuid4().hex[:8]}",  # moto may be shared with other tests
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by-g",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        with created.batch_writer() as batch:
            for p in ("a", "b", "c"):
                for n in range(40):
                    batch.put_item(Item={"pk": p, "sk": f"{n:03d}", "g": f"g{n % 2}", "n": n})
        yield created


def _pages(table: Any, **kwargs: Any) -> list[str]:
    found: list[str] = []
    while True:
        page = table.query(**kwargs)
        found += [item["sk"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_partition_query_keeps_order_paging_conditions_and_filters(table: Any) -> None:
    assert _pages(table, KeyConditionExpression=Key("pk").eq("b"), Limit=7) == [f"{n:03d}" for n in range(40)]
    newest_first = _pages(table, KeyConditionExpression=Key("pk").eq("b"), ScanIndexForward=False, Limit=6)
    assert newest_first == [f"{n:03d}" for n in reversed(range(40))]
    ranged = _pages(table, KeyConditionExpression=Key("pk").eq("c") & Key("sk").between("010", "014"))
    assert ranged == ["010", "011", "012", "013", "014"]
    filtered = _pages(table, KeyConditionExpression=Key("pk").eq("a"), FilterExpression=Attr("n").gt(36))
    assert filtered == ["037", "038", "039"]
    assert _pages(table, KeyConditionExpression=Key("pk").eq("missing")) == []


def test_index_queries_and_concurrent_queries_still_answer_from_their_own_partition(table: Any) -> None:
    on_index = table.query(IndexName="by-g", KeyConditionExpression=Key("g").eq("g1"))["Items"]
    assert len(on_index) == 60 and {item["n"] % 2 for item in on_index} == {1}

    answers: dict[str, set[str]] = {}

    def read(partition: str) -> None:
        for _ in range(20):
            items = table.query(KeyConditionExpression=Key("pk").eq(partition))["Items"]
            answers.setdefault(partition, set()).update(str(item["pk"]) for item in items)

    threads = [threading.Thread(target=read, args=(p,)) for p in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == {"a": {"a"}, "b": {"b"}, "c": {"c"}}
