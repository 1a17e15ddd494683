"""The simulator's HTTP answers, in Tray's error shape (the Platform API's ``Error`` schema)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def error_reply(status: int, code: str, message: str, **extra: Any) -> Reply:
    body = {"error": code, "message": message, "statusCode": status}
    body.update({k: v for k, v in extra.items() if v is not None})
    return Reply(status, body)
