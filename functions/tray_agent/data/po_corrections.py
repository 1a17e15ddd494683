"""Reviewers' corrections per customer, kept in the PO intake table (``corrections#<customer>``).

One item per customer: ``skus`` maps the customer's part number (as the PO printed it) to our
SKU, ``names`` maps a party name as read to the name the reviewer wrote. The pipeline's Parse
step reads it, the Record step writes it; both already own the intake table.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tray_agent.data import aws


def _item_id(customer: str) -> str:
    return f"corrections#{customer}"


class CorrectionsRepository:
    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    def get(self, customer: str) -> dict[str, dict[str, str]]:
        item = aws.table(self._table_name).get_item(Key={"intake_id": _item_id(customer)}).get("Item")
        if not item:
            return {"skus": {}, "names": {}}
        skus, names = item.get("skus"), item.get("names")
        return {
            "skus": {str(k): str(v) for k, v in skus.items()} if isinstance(skus, dict) else {},
            "names": {str(k): str(v) for k, v in names.items()} if isinstance(names, dict) else {},
        }

    def remember(self, customer: str, *, skus: dict[str, str], names: dict[str, str], source: str) -> None:
        """Merge the new corrections into the customer's (a later correction of the same key wins)."""
        current = self.get(customer)
        item: dict[str, Any] = {
            "intake_id": _item_id(customer),
            "skus": {**current["skus"], **skus},
            "names": {**current["names"], **names},
            "updated_at": datetime.now(UTC).isoformat(),
            "source": source,
        }
        aws.table(self._table_name).put_item(Item=item)
