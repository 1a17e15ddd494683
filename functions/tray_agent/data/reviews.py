"""The reviews table: pending and resolved review items."""

from __future__ import annotations

from datetime import datetime, timedelta

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from tray_agent.data import aws
from tray_agent.data.serialization import from_item, to_item
from tray_agent.errors import ConflictError
from tray_agent.models.reviews import ReviewItem, ReviewStatus
from tray_agent.redaction import mask_review_item


class ReviewAlreadyResolvedError(ConflictError):
    """Another reviewer resolved the item first."""


class ReviewsRepository:
    def __init__(self, table_name: str, retention: timedelta) -> None:
        self._table_name = table_name
        self._retention = retention

    def put(self, item: ReviewItem) -> None:
        """Store the item masked: reviewers see ``[redacted:…]`` markers, never the raw values
        (approval restores them from where the real document lives, see ``restore_masked``)."""
        record = to_item(mask_review_item(item).model_dump(mode="json"))
        if item.task_token:
            record["task_token"] = item.task_token  # excluded from the model's dump on purpose
        record["expires_at"] = int((item.created_at + self._retention).timestamp())
        aws.table(self._table_name).put_item(Item=record)

    def get(self, review_id: str) -> ReviewItem | None:
        record = aws.table(self._table_name).get_item(Key={"review_id": review_id}).get("Item")
        return None if record is None else ReviewItem.model_validate(from_item(record))

    def list(self, status: ReviewStatus = ReviewStatus.PENDING, limit: int = 50) -> list[ReviewItem]:
        response = aws.table(self._table_name).query(
            IndexName="by_status",
            KeyConditionExpression=Key("status").eq(status.value),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [ReviewItem.model_validate(from_item(record)) for record in response.get("Items", [])]

    def resolve(
        self,
        item: ReviewItem,
        *,
        status: ReviewStatus,
        by: str,
        at: datetime,
        note: str | None,
        payload: dict[str, object] | None,
    ) -> ReviewItem:
        """Pending → approved/rejected, exactly once (a conditional write, not a read-then-write).

        Returns the resolved item as stored, masked; ``payload`` itself is the caller's to act on."""
        resolved = mask_review_item(
            item.model_copy(
                update={
                    "status": status,
                    "resolved_by": by,
                    "resolved_at": at,
                    "resolution_note": note,
                    "resolution_payload": payload,
                }
            )
        )  # masked: what is stored and what the API answers with (the real payload goes to the resolver)
        record = to_item(resolved.model_dump(mode="json"))
        if item.task_token:
            record["task_token"] = item.task_token
        record["expires_at"] = int((item.created_at + self._retention).timestamp())
        try:
            aws.table(self._table_name).put_item(
                Item=record,
                ConditionExpression="#s = :pending",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":pending": ReviewStatus.PENDING.value},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ReviewAlreadyResolvedError(
                    f"review {item.review_id} was resolved by someone else just now"
                ) from exc
            raise
        return resolved
