"""The reviews table: pending and resolved review items."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from tray_agent.data import aws
from tray_agent.data.payloads import PayloadStore
from tray_agent.data.serialization import from_item
from tray_agent.errors import ConflictError
from tray_agent.models.reviews import ReviewItem, ReviewStatus
from tray_agent.redaction import mask_review_item


class ReviewAlreadyResolvedError(ConflictError):
    """Another reviewer resolved the item first."""


class ReviewsRepository:
    def __init__(self, table_name: str, retention: timedelta, payloads: PayloadStore | None = None) -> None:
        self._table_name = table_name
        self._retention = retention
        self._payloads = payloads

    def _record(self, item: ReviewItem, masked: ReviewItem) -> dict[str, Any]:
        """Keys and index attributes as attributes; the item itself as one JSON document.

        A payload is the held work's input: as deep (32 levels) and as large (1 MB) as an event,
        past what DynamoDB holds in nested maps (32 levels including the item's own) or in one
        item (400 KB): as a JSON string, in S3 when large, neither limit applies.
        """
        doc = masked.model_dump_json()
        key = f"reviews/{item.review_id}/{masked.status.value}.json"
        stored = self._payloads.inline_or_ref(doc, key) if self._payloads else {"doc": doc}
        record: dict[str, Any] = {
            "review_id": item.review_id,
            "status": masked.status.value,
            "created_at": masked.created_at.isoformat(),
            "expires_at": int((item.created_at + self._retention).timestamp()),
            **stored,
        }
        if item.task_token:
            record["task_token"] = item.task_token  # excluded from the model's dump on purpose
        return record

    def _item(self, record: dict[str, Any]) -> ReviewItem:
        if "doc" in record or "doc_ref" in record:
            text = self._payloads.read(record) if self._payloads else str(record["doc"])
            item = ReviewItem.model_validate_json(text)
            if "task_token" in record:  # kept beside the document, never inside what reviewers see
                item.task_token = str(record["task_token"])
            return item
        return ReviewItem.model_validate(from_item(record))  # written before documents

    def put(self, item: ReviewItem) -> None:
        """Store the item masked: reviewers see ``[redacted:…]`` markers, never the raw values
        (approval restores them from where the real document lives, see ``restore_masked``)."""
        aws.table(self._table_name).put_item(Item=self._record(item, mask_review_item(item)))

    def get(self, review_id: str) -> ReviewItem | None:
        record = aws.table(self._table_name).get_item(Key={"review_id": review_id}).get("Item")
        return None if record is None else self._item(record)

    def list(self, status: ReviewStatus = ReviewStatus.PENDING, limit: int = 50) -> list[ReviewItem]:
        response = aws.table(self._table_name).query(
            IndexName="by_status",
            KeyConditionExpression=Key("status").eq(status.value),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [self._item(record) for record in response.get("Items", [])]

    def queue(self, status: ReviewStatus = ReviewStatus.PENDING) -> tuple[int, str | None]:
        """How many items are in ``status`` and when the oldest was filed (ISO), from the status
        index: counted page by page (no items read), then the oldest one's key only."""
        table = aws.table(self._table_name)
        count, start = 0, None
        while True:
            kwargs: dict[str, Any] = {
                "IndexName": "by_status",
                "KeyConditionExpression": Key("status").eq(status.value),
                "Select": "COUNT",
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = table.query(**kwargs)
            count += int(page.get("Count", 0))
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        if not count:
            return 0, None
        oldest = table.query(
            IndexName="by_status",
            KeyConditionExpression=Key("status").eq(status.value),
            ScanIndexForward=True,
            Limit=1,
        ).get("Items", [])
        return count, str(oldest[0]["created_at"]) if oldest else None

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
        record = self._record(item, resolved)
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
