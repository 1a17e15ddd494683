"""The PO intake table: what happened to every dropped document, and PO-number claims.

Records are keyed by ``intake_id`` and indexed by the dropped object (``by_object``), so the
API can answer "what became of inbox/msg-123.eml?". A claim (``claim#<buyer>#<po number>``)
has no ``object_key`` and so stays out of the index; its conditional write is what makes one
buyer's PO number order at most once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from tray_agent.data import aws
from tray_agent.data.serialization import from_item, to_item
from tray_agent.models.po_pipeline import IntakeRecord, IntakeStatus, Rerun


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

    def mark_order_sending(self, intake_id: str, attempt_key: str, at: datetime) -> datetime | None:
        """Record the intent to send ``attempt_key``'s order, before it is sent.

        Returns when an earlier invocation already recorded it (its send may have reached Tray),
        or None when this is the first send of the attempt (now recorded).
        """
        try:
            aws.table(self._table_name).update_item(
                Key={"intake_id": intake_id},
                UpdateExpression="SET order_attempt_key = :key, order_sent_at = :at",
                ConditionExpression="attribute_exists(object_key) AND "
                "(attribute_not_exists(order_attempt_key) OR order_attempt_key <> :key)",
                ExpressionAttributeValues={":key": attempt_key, ":at": at.isoformat()},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            record = self.get(intake_id)
            if record is None or record.order_attempt_key != attempt_key:
                return None  # no intake record to hold the intent: the key alone protects the send
            return record.order_sent_at or at
        return None

    def begin_rerun(self, intake_id: str, rerun: Rerun, *, previous_attempt: int) -> bool:
        """Move a failed intake to ``started`` for ``rerun.attempt``, the rerun appended.

        Conditional on the intake still being failed at ``previous_attempt``: of two concurrent
        re-runs one wins, the other gets False. The failed attempt's reason moves into the entry.
        """
        # Records written before re-runs existed have no attempt: they are at attempt 1.
        same_attempt = "attempt = :previous"
        if previous_attempt == 1:
            same_attempt = "(attribute_not_exists(attempt) OR attempt = :previous)"
        values = to_item(
            {
                ":failed": IntakeStatus.FAILED.value,
                ":started": IntakeStatus.STARTED.value,
                ":previous": previous_attempt,
                ":attempt": rerun.attempt,
                ":name": rerun.execution_name,
                ":entry": [rerun.model_dump(mode="json")],
                ":empty": [],
                ":now": rerun.requested_at.isoformat(),
                ":zero": 0,
            }
        )
        try:
            aws.table(self._table_name).update_item(
                Key={"intake_id": intake_id},
                UpdateExpression=(
                    "SET #s = :started, attempt = :attempt, execution_name = :name, updated_at = :now, "
                    "hold_count = :zero, reruns = list_append(if_not_exists(reruns, :empty), :entry) "
                    "REMOVE reason, #e, retry_at, held_since, order_execution_id, "
                    "order_attempt_key, order_sent_at"
                ),
                ConditionExpression=f"attribute_exists(object_key) AND #s = :failed AND {same_attempt}",
                ExpressionAttributeNames={"#s": "status", "#e": "error"},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def undo_rerun(self, intake_id: str, rerun: Rerun) -> None:
        """The execution could not be started: back to failed, the entry kept and marked so."""
        aws.table(self._table_name).update_item(
            Key={"intake_id": intake_id},
            UpdateExpression="SET #s = :failed, #e = :error, reason = :reason",
            ConditionExpression="#s = :started AND attempt = :attempt",
            ExpressionAttributeNames={"#s": "status", "#e": "error"},
            ExpressionAttributeValues=to_item(
                {
                    ":failed": IntakeStatus.FAILED.value,
                    ":started": IntakeStatus.STARTED.value,
                    ":attempt": rerun.attempt,
                    ":error": rerun.previous_error,
                    ":reason": f"re-run {rerun.attempt} could not be started; before it: "
                    f"{rerun.previous_reason or 'no reason recorded'}",
                }
            ),
        )
