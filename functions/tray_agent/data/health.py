"""Customer health signals, bucketed by day, in the context table (kept as long as the memory).

    signals#<customer> / <day>#<signal>#<event id digest>   one signal an event carried
    health-active#<shard> / <customer>                      customers with signals (the daily sweep)
    health#<customer> / episode                             the current risk episode, if any

A signal is keyed by the event that carried it, so a redelivered event is one signal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from tray_agent.data import aws
from tray_agent.data.serialization import from_item, to_item

ACTIVE_SHARDS = 16  # spreads the sweep's list over partitions (10,000s of customers)


def _shard(customer_id: str) -> int:
    return int(hashlib.sha256(customer_id.encode()).hexdigest()[:4], 16) % ACTIVE_SHARDS


class HealthRepository:
    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    @property
    def _table(self) -> Any:
        return aws.table(self._table_name)

    def put_signal(
        self, customer_id: str, *, day: date, signal: str, event_id: str, doc: dict[str, Any], expires_at: int
    ) -> None:
        digest = hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        item = to_item(doc)
        item.update(
            pk=f"signals#{customer_id}", sk=f"{day.isoformat()}#{signal}#{digest}", expires_at=expires_at
        )
        self._table.put_item(Item=item)
        self._table.put_item(
            Item={
                "pk": f"health-active#{_shard(customer_id)}",
                "sk": customer_id,
                "last_signal": day.isoformat(),
                "expires_at": expires_at,
            }
        )

    def signals(self, customer_id: str, since: date) -> list[dict[str, Any]]:
        found = aws.all_items(
            self._table.query,
            KeyConditionExpression=Key("pk").eq(f"signals#{customer_id}") & Key("sk").gte(since.isoformat()),
        )
        return [from_item(item) for item in found]

    def active_customers(self, since: date) -> Iterator[str]:
        for shard in range(ACTIVE_SHARDS):
            for item in aws.all_items(
                self._table.query, KeyConditionExpression=Key("pk").eq(f"health-active#{shard}")
            ):
                if str(item.get("last_signal", "")) >= since.isoformat():
                    yield str(item["sk"])

    def episode(self, customer_id: str) -> dict[str, Any] | None:
        item = self._table.get_item(
            Key={"pk": f"health#{customer_id}", "sk": "episode"}, ConsistentRead=True
        ).get("Item")
        return None if item is None else from_item(item)

    def open_episode(
        self, customer_id: str, episode_id: str, at: datetime, score: float, expires_at: int
    ) -> bool:
        """Claim a new risk episode: True for the first caller only (one CSM task per episode)."""
        try:
            self._table.put_item(
                Item=to_item(
                    {
                        "pk": f"health#{customer_id}",
                        "sk": "episode",
                        "status": "open",
                        "episode_id": episode_id,
                        "opened_at": at.isoformat(),
                        "score": str(round(score, 3)),
                        "expires_at": expires_at,
                    }
                ),
                ConditionExpression="attribute_not_exists(pk) OR #s = :closed",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":closed": "closed"},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def close_episode(self, customer_id: str, episode_id: str, at: datetime) -> bool:
        try:
            self._table.update_item(
                Key={"pk": f"health#{customer_id}", "sk": "episode"},
                UpdateExpression="SET #s = :closed, closed_at = :at",
                ConditionExpression="#s = :open AND episode_id = :id",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":closed": "closed",
                    ":open": "open",
                    ":id": episode_id,
                    ":at": at.isoformat(),
                },
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
