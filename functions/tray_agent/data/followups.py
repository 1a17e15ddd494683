"""Which follow-ups concern whom: an index in the context table, beside the customer's memory.

    followups#customer#<id> / <due iso>#<work id>    one item per follow-up of a customer
    followups#person#<e-mail> / <due iso>#<work id>  one item per follow-up about a person

The follow-up itself is a work item in the ledger; this only lists them (``GET /follow-ups``)
and finds them when the hire leaves or the order is cancelled. Items expire with the memory.
"""

from __future__ import annotations

from datetime import datetime

from boto3.dynamodb.conditions import Key

from tray_agent.data import aws


def subject_key(kind: str, value: str) -> str:
    return f"followups#{kind}#{value.strip().lower() if kind == 'person' else value}"


class FollowUpIndex:
    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    def add(self, subjects: list[str], due_at: datetime, work_id: str, expires_at: int) -> None:
        table = aws.table(self._table_name)
        for subject in subjects:
            # A put of the same key is the same item: scheduling twice indexes it once.
            table.put_item(
                Item={
                    "pk": subject,
                    "sk": f"{due_at.isoformat()}#{work_id}",
                    "work_id": work_id,
                    "expires_at": expires_at,
                }
            )

    def work_ids(self, subject: str, limit: int = 200) -> list[str]:
        table = aws.table(self._table_name)
        found = aws.all_items(table.query, KeyConditionExpression=Key("pk").eq(subject))
        ids: list[str] = []
        for item in found:
            ids.append(str(item["work_id"]))
            if len(ids) >= limit:
                break
        return ids
