"""The account-wide Tray request budget, kept in DynamoDB as one counter per time slot.

Time is cut into short slots (0.5 s); slot ``k`` may hand out ``floor(rate * slot)`` tokens. A
grab is a single conditional ``UpdateItem`` (``ADD used :n`` if ``used + n <= cap``): no read,
no lost update, no retry loop, whichever container asks. A full slot answers "wait for the next
slot". Short slots keep the worst burst across a slot boundary (two full slots) far below
Tray's burst allowance. A 429 pauses everyone by filling every slot up to the pause's end.
Items expire by TTL a minute after their slot. Implements ``tray_agent.tray.ratelimit.SharedBudget``.
"""

from __future__ import annotations

import math
from typing import Any

from botocore.exceptions import ClientError

from tray_agent.data import aws

SLOT_S = 0.5
TTL_S = 60
_BATCH_WRITE = 25  # BatchWriteItem's limit


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoTrayBudget:
    def __init__(self, table_name: str, rate_per_s: float, slot_s: float = SLOT_S) -> None:
        self._table_name = table_name
        self.slot_s = slot_s
        self.cap = max(1, math.floor(rate_per_s * slot_s))

    def _slot(self, now: float) -> int:
        return math.floor(now / self.slot_s)

    def take(self, wanted: int, now: float) -> tuple[int, float]:
        slot = self._slot(now)
        wanted = max(1, min(wanted, self.cap))
        next_slot_in = (slot + 1) * self.slot_s - now
        try:
            aws.table(self._table_name).update_item(
                Key={"pk": f"slot#{slot}"},
                UpdateExpression="ADD used :n SET expires_at = :ttl",
                ConditionExpression="attribute_not_exists(used) OR used <= :most",
                ExpressionAttributeValues={
                    ":n": wanted,
                    ":most": self.cap - wanted,
                    ":ttl": int(now) + TTL_S,
                },
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return 0, next_slot_in  # this slot is spent (or paused): the next one
            raise
        return wanted, 0.0

    def pause_until(self, until: float, now: float) -> None:
        """Fill every slot from ``now`` to ``until``: nobody draws before it."""
        first, last = self._slot(now), self._slot(until)
        table = aws.table(self._table_name)
        with table.batch_writer(overwrite_by_pkeys=["pk"]) as batch:
            for slot in range(first, last + 1):
                item: dict[str, Any] = {
                    "pk": f"slot#{slot}",
                    "used": self.cap,
                    "expires_at": int(until) + TTL_S,
                }
                batch.put_item(Item=item)
