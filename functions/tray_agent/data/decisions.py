"""The decisions table: the audit trail of every decision."""

from __future__ import annotations

from datetime import timedelta

from boto3.dynamodb.conditions import Key

from tray_agent.data import aws
from tray_agent.data.serialization import from_item, to_item
from tray_agent.models.decisions import DecisionRecord
from tray_agent.redaction import mask_decision_record


class DecisionsRepository:
    def __init__(self, table_name: str, retention: timedelta) -> None:
        self._table_name = table_name
        self._retention = retention

    def put(self, record: DecisionRecord) -> None:
        """Store the record masked: the audit trail never holds a secret, card, SSN or IBAN."""
        item = to_item(mask_decision_record(record).model_dump(mode="json"))
        item["expires_at"] = int((record.created_at + self._retention).timestamp())
        if record.customer_id is None:
            item.pop("customer_id", None)  # GSI keys must be absent, not null
        aws.table(self._table_name).put_item(Item=item)

    def get(self, decision_id: str) -> DecisionRecord | None:
        item = aws.table(self._table_name).get_item(Key={"decision_id": decision_id}).get("Item")
        return None if item is None else DecisionRecord.model_validate(from_item(item))

    def for_customer(self, customer_id: str, limit: int = 50) -> list[DecisionRecord]:
        response = aws.table(self._table_name).query(
            IndexName="by_customer",
            KeyConditionExpression=Key("customer_id").eq(customer_id),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [DecisionRecord.model_validate(from_item(item)) for item in response.get("Items", [])]
