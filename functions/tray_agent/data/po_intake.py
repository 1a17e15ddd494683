"""The PO intake table: what happened to every dropped document, and PO-number claims.

Records are keyed by ``intake_id`` and indexed by the dropped object (``by_object``), so the
API can answer "what became of inbox/msg-123.eml?". A claim (``claim#<buyer>#<po number>``)
has no ``object_key`` and so stays out of the index; its conditional write is what makes one
buyer's PO number order at most once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from tray_agent.data import aws
from tray_agent.data.serialization import from_item, to_item
from tray_agent.models.po_pipeline import IntakeRecord


def _claim_id(buyer_key: str, po_number: str) -> str:
    return f"claim#{buyer_key}#{po_number.strip().upper()}"


class IntakeRepository:
    def __init__(self, table_name: str, retention: timedelta) -> None:
        self._table_name = table_name
        self._retention = retention

    def save(self, record: IntakeRecord) -> None:
        item = to_item(record.model_dump(mode="json"))
        item["expires_at"] = int((record.created_at + self._retention).timestamp())
        aws.table(self._table_name).put_item(Item=item)

    def get(self, intake_id: str) -> IntakeRecord | None:
        item = aws.table(self._table_name).get_item(Key={"intake_id": intake_id}).get("Item")
        if item is None or "object_key" not in item:
            return None
        return IntakeRecord.model_validate(from_item(item))

    def for_object(self, bucket: str, key: str) -> list[IntakeRecord]:
        response = aws.table(self._table_name).query(
            IndexName="by_object", KeyConditionExpression=Key("object_key").eq(f"{bucket}/{key}")
        )
        return [IntakeRecord.model_validate(from_item(item)) for item in response.get("Items", [])]

    def po_number_owner(self, buyer_key: str, po_number: str) -> str | None:
        """The intake that already ordered this buyer's PO number, if any."""
        item = (
            aws.table(self._table_name)
            .get_item(Key={"intake_id": _claim_id(buyer_key, po_number)})
            .get("Item")
        )
        return None if item is None else str(item["owner"])

    def claim_po_number(self, buyer_key: str, po_number: str, intake_id: str) -> str | None:
        """Claim the PO number for ``intake_id``; returns the other owner if someone has it."""
        item: dict[str, Any] = {"intake_id": _claim_id(buyer_key, po_number), "owner": intake_id}
        try:
            aws.table(self._table_name).put_item(
                Item=item,
                ConditionExpression="attribute_not_exists(intake_id) OR #o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":me": intake_id},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return self.po_number_owner(buyer_key, po_number)
            raise
        return None

    def release_po_number(self, buyer_key: str, po_number: str, intake_id: str) -> None:
        """Give the PO number back (this intake ordered nothing), unless another intake holds it."""
        try:
            aws.table(self._table_name).delete_item(
                Key={"intake_id": _claim_id(buyer_key, po_number)},
                ConditionExpression="#o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":me": intake_id},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
