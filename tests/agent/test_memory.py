"""Customer memory (windows, retention) and the operations summary, on moto."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.agent.conftest import customer
from tray_agent.domain.agent.memory import CustomerMemory, OperationsSummary
from tray_agent.errors import InvalidInputError


def test_context_counts_only_what_falls_in_each_window(local_env: Any) -> None:
    memory = CustomerMemory.from_settings(local_env.settings)
    cid = customer()
    now = datetime.now(UTC)
    for days_ago in (1, 3, 6, 9):  # three in the last week, one before
        memory.remember(
            cid, kind="event", event_type="order.failed", summary="x", at=now - timedelta(days=days_ago)
        )
    memory.remember(cid, kind="outcome", outcome="order_failed", summary="monitor saw it", at=now)
    for _ in range(3):
        memory.remember(
            cid, kind="event", event_type="ticket.created", summary="t", at=now - timedelta(days=2)
        )
    memory.remember(cid, kind="event", event_type="ticket.closed", summary="t", at=now - timedelta(days=1))
    memory.remember(cid, kind="event", event_type="lead.created", summary="old", at=now - timedelta(days=95))
    memory.remember(cid, kind="event", event_type="customer.health_signals", summary="churn risk", at=now)

    context = memory.load(cid, now=now)
    assert context.failed_orders_7d == 4  # three events plus the monitor's outcome
    assert context.open_tickets == 2
    assert context.events_30d == 9
    assert context.last_health == "churn risk"
    assert all(entry.summary != "old" for entry in context.recent)  # past the 90-day retention
    assert {e.summary for e in context.recent[:2]} == {"monitor saw it", "churn risk"}  # newest first
    assert memory.load(customer()).failed_orders_7d == 0


def test_operations_summary_validates_the_day(local_env: Any) -> None:
    with pytest.raises(InvalidInputError):
        OperationsSummary(local_env.settings).read("2031-13-40")
    assert OperationsSummary(local_env.settings).read("2031-06-07").totals == {}
