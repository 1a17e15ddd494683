"""The one clock: everything that needs "now" takes a ``Clock`` so a day can be simulated in seconds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
