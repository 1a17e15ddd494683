"""The decisions table: the audit trail of every decision."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from boto3.dynamodb.conditions import Key

from tray_agent.data import aws
from tray_agent.data.payloads import INLINE_LIMIT_BYTES, PayloadStore
from tray_agent.data.serialization import from_item, to_item
from tray_agent.models.decisions import DecisionRecord
from tray_agent.redaction import mask_decision_record


class DecisionsRepository:
    def __init__(self, table_name: str, retention: timedelta, payloads: PayloadStore | None = None) -> None:
        self._table_name = table_name
        self._retention = retention
        self._payloads = payloads

    def put(self, record: DecisionRecord) -> None:
        """Store the record masked: the audit trail never holds a secret, card, SSN or IBAN."""
        document = mask_decision_record(record).model_dump(mode="json")
        inputs_text = json.dumps(document["inputs"], separators=(",", ":"))
        if self._payloads is not None and len(inputs_text.encode()) > INLINE_LIMIT_BYTES // 2:
            # An item holds at most 400 KB: large inputs live in S3, referenced from the record.
            ref = self._payloads.inline_or_ref(inputs_text, f"decisions/{record.decision_id}/inputs.json")
            document["inputs"] = (
                {"inputs_ref": ref.get("doc_ref")} if "doc_ref" in ref else document["inputs"]
            )
        item = to_item(document)
        item["expires_at"] = int((record.created_at + self._retention).timestamp())
        if record.customer_id is None:
            item.pop("customer_id", None)  # GSI keys must be absent, not null
        aws.table(self._table_name).put_item(Item=item)

    def get(self, decision_id: str) -> DecisionRecord | None:
        item = aws.table(self._table_name).get_item(Key={"decision_id": decision_id}).get("Item")
        return None if item is None else self._record(item)

    def _record(self, item: Mapping[str, Any]) -> DecisionRecord:
        document = from_item(dict(item))
        ref = (document.get("inputs") or {}).get("inputs_ref")
        if ref and self._payloads is not None:
            document["inputs"] = json.loads(self._payloads.read({"doc_ref": ref}))
        return DecisionRecord.model_validate(document)

    def for_customer(self, customer_id: str, limit: int = 50) -> list[DecisionRecord]:
        response = aws.table(self._table_name).query(
            IndexName="by_customer",
            KeyConditionExpression=Key("customer_id").eq(customer_id),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [self._record(item) for item in response.get("Items", [])]
