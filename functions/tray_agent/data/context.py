"""The context table: per-customer memory, the daily operations summary, event fingerprints.

One table, three kinds of items (``pk`` / ``sk``):

- ``customer#<id>`` / ``<iso time>#<entry id>``: one remembered event, decision or outcome;
- ``summary#<day>`` / ``count#<kind>#<workflow>#<outcome>``: an atomic counter,
  ``summary#<day>`` / ``note#<iso time>#<id>``: a note worth flagging;
- ``fingerprint#<sha256>`` / ``-``: the first event id seen with that content (duplicates);
- ``nonce#<nonce>`` / ``-``: a signed request's nonce, seen once (replay protection).

Every item carries ``expires_at`` (DynamoDB TTL).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from tray_agent.data import aws
from tray_agent.data.serialization import from_item, to_item


class ContextRepository:
    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    # -- customer memory ---------------------------------------------------------------------
    def put_customer_entry(
        self, customer_id: str, at: datetime, entry_id: str, entry: dict[str, Any], expires_at: int
    ) -> None:
        item = to_item(entry)
        item.update(pk=f"customer#{customer_id}", sk=f"{at.isoformat()}#{entry_id}", expires_at=expires_at)
        aws.table(self._table_name).put_item(Item=item)

    def customer_entries(self, customer_id: str, since: datetime, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first, only entries at or after ``since`` (TTL deletion lags; we filter too)."""
        # Not at the top: boto3.dynamodb imports boto3 itself, which the API's cold start defers.
        from boto3.dynamodb.conditions import Key

        response = aws.table(self._table_name).query(
            KeyConditionExpression=Key("pk").eq(f"customer#{customer_id}") & Key("sk").gte(since.isoformat()),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [_strip(from_item(item)) for item in response.get("Items", [])]

    # -- daily operations summary ------------------------------------------------------------
    def add_to_counter(self, day: str, counter: str, expires_at: int, amount: int = 1) -> None:
        aws.table(self._table_name).update_item(
            Key={"pk": f"summary#{day}", "sk": f"count#{counter}"},
            UpdateExpression="ADD #n :amount SET expires_at = :expires",
            ExpressionAttributeNames={"#n": "count"},
            ExpressionAttributeValues={":amount": amount, ":expires": expires_at},
        )

    def add_pattern_counter(self, day: str, counter: str, expires_at: int, amount: int = 1) -> None:
        """``summary#<day>`` / ``pattern#<counter>``: counts the summary's patterns read (not its totals)."""
        aws.table(self._table_name).update_item(
            Key={"pk": f"summary#{day}", "sk": f"pattern#{counter}"},
            UpdateExpression="ADD #n :amount SET expires_at = :expires",
            ExpressionAttributeNames={"#n": "count"},
            ExpressionAttributeValues={":amount": amount, ":expires": expires_at},
        )

    def put_note(self, day: str, at: datetime, note_id: str, note: dict[str, Any], expires_at: int) -> None:
        item = to_item(note)
        item.update(pk=f"summary#{day}", sk=f"note#{at.isoformat()}#{note_id}", expires_at=expires_at)
        aws.table(self._table_name).put_item(Item=item)

    def summary_items(self, day: str) -> list[dict[str, Any]]:
        from boto3.dynamodb.conditions import Key

        table = aws.table(self._table_name)
        found = aws.all_items(table.query, KeyConditionExpression=Key("pk").eq(f"summary#{day}"))
        return [from_item(item) for item in found]

    # -- duplicate detection -----------------------------------------------------------------
    def claim_fingerprint(self, fingerprint: str, event_id: str, now: int, expires_at: int) -> str | None:
        """Remember ``event_id`` as the first with this content; return the earlier id if another."""
        table = aws.table(self._table_name)
        key = {"pk": f"fingerprint#{fingerprint}", "sk": "-"}
        try:
            table.put_item(
                Item={**key, "event_id": event_id, "expires_at": expires_at},
                # Expired-but-not-yet-deleted claims (TTL deletion lags) count as absent.
                ConditionExpression="attribute_not_exists(pk) OR event_id = :id OR expires_at < :now",
                ExpressionAttributeValues={":id": event_id, ":now": now},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            existing = table.get_item(Key=key, ConsistentRead=True).get("Item") or {}
            return str(existing.get("event_id", "?"))
        return None


class NonceStore:
    """Signed-request nonces, each accepted once within the signature window."""

    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    def first_use(self, nonce: str, now: int, expires_at: int) -> bool:
        try:
            aws.table(self._table_name).put_item(
                Item={"pk": f"nonce#{nonce}", "sk": "-", "expires_at": expires_at},
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": now},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _strip(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("pk", "expires_at")}
