"""DynamoDB wants Decimals, not floats; pydantic wants plain JSON types back."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def to_item(document: dict[str, Any]) -> dict[str, Any]:
    """A JSON-able dict as a DynamoDB item (floats become Decimals, empty strings stay)."""
    loaded: dict[str, Any] = json.loads(json.dumps(document, default=str), parse_float=Decimal)
    return loaded


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain JSON types (Decimals become int or float)."""

    def convert(value: Any) -> Any:
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    converted: dict[str, Any] = convert(item)
    return converted
