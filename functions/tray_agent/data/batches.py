"""Batch records (models/batches.py) in the work table, beside the items they carry.

    batch#<batch id>    a batch: its items, attempt key, status and bulk execution

An open batch is in the sparse ``by_open_state`` index under ``batch`` (due: its lease expiry,
or at once while its bulk run is running), so the sweeper reads open batches only. Writes are
conditional on the version read: two flushers never both move a batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from tray_agent.data import aws
from tray_agent.data.work import StaleWorkError
from tray_agent.models.batches import Batch

BATCH_PREFIX = "batch#"
OPEN_BATCHES = "batch"  # the open_state of an open batch


class BatchRepository:
    def __init__(self, table_name: str, retention: timedelta) -> None:
        self._table_name = table_name
        self._retention = retention

    @property
    def _table(self) -> Any:
        return aws.table(self._table_name)

    def _item(self, batch: Batch) -> dict[str, Any]:
        item: dict[str, Any] = {
            "work_id": BATCH_PREFIX + batch.batch_id,
            "doc": batch.model_dump_json(),
            "batch_version": batch.version,
            "expires_at": int((batch.created_at + self._retention).timestamp()),
        }
        if batch.open:
            item["open_state"] = OPEN_BATCHES
            item["due_at"] = (batch.lease_until or batch.updated_at).isoformat()
        return item

    def create(self, batch: Batch) -> None:
        self._table.put_item(Item=self._item(batch), ConditionExpression="attribute_not_exists(work_id)")

    def save(self, batch: Batch) -> Batch:
        """The next version of ``batch``; StaleWorkError if someone moved it since it was read."""
        updated = batch.model_copy(update={"version": batch.version + 1})
        try:
            self._table.put_item(
                Item=self._item(updated),
                ConditionExpression="batch_version = :expected",
                ExpressionAttributeValues={":expected": batch.version},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise StaleWorkError(f"batch {batch.batch_id} moved on since it was read") from exc
            raise
        return updated

    def get(self, batch_id: str) -> Batch | None:
        item = self._table.get_item(Key={"work_id": BATCH_PREFIX + batch_id}, ConsistentRead=True).get("Item")
        return None if item is None else Batch.model_validate_json(str(item["doc"]))

    def open_batches(self, *, due_before: datetime | None = None) -> Iterator[Batch]:
        condition: Any = Key("open_state").eq(OPEN_BATCHES)
        if due_before is not None:
            condition = condition & Key("due_at").lte(due_before.isoformat())
        for item in aws.all_items(
            self._table.query, IndexName="by_open_state", KeyConditionExpression=condition
        ):
            yield Batch.model_validate_json(str(item["doc"]))
