"""The decisions table: the audit trail of every decision."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from boto3.dynamodb.conditions import Key

from tray_agent.data import aws
from tray_agent.data.payloads import PayloadStore
from tray_agent.data.serialization import from_item
from tray_agent.models.decisions import DecisionRecord
from tray_agent.redaction import mask_decision_record


class DecisionsRepository:
    def __init__(self, table_name: str, retention: timedelta, payloads: PayloadStore | None = None) -> None:
        self._table_name = table_name
        self._retention = retention
        self._payloads = payloads

    def put(self, record: DecisionRecord) -> None:
        """Store the record masked: the audit trail never holds a secret, card, SSN or IBAN.

        The record is one JSON document (in S3 when large): an event's data sits several levels
        down in it (inputs, each call's input), past DynamoDB's 32 levels of nested maps, and a
        near-1 MB event would not fit in one 400 KB item. Keys and the index stay attributes.
        """
        masked = mask_decision_record(record)
        doc = masked.model_dump_json()
        key = f"decisions/{record.decision_id}/record.json"
        stored = self._payloads.inline_or_ref(doc, key) if self._payloads else {"doc": doc}
        item: dict[str, Any] = {
            "decision_id": record.decision_id,
            "created_at": masked.created_at.isoformat(),
            "expires_at": int((record.created_at + self._retention).timestamp()),
            **stored,
        }
        if record.customer_id is not None:  # GSI keys must be absent, not null
            item["customer_id"] = record.customer_id
        aws.table(self._table_name).put_item(Item=item)

    def get(self, decision_id: str) -> DecisionRecord | None:
        item = aws.table(self._table_name).get_item(Key={"decision_id": decision_id}).get("Item")
        return None if item is None else self._record(item)

    def _record(self, item: Mapping[str, Any]) -> DecisionRecord:
        if "doc" in item or "doc_ref" in item:
            text = self._payloads.read(dict(item)) if self._payloads else str(item["doc"])
            return DecisionRecord.model_validate_json(text)
        return DecisionRecord.model_validate(from_item(dict(item)))  # written before documents

    def for_customer(self, customer_id: str, limit: int = 50) -> list[DecisionRecord]:
        response = aws.table(self._table_name).query(
            IndexName="by_customer",
            KeyConditionExpression=Key("customer_id").eq(customer_id),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [self._record(item) for item in response.get("Items", [])]
