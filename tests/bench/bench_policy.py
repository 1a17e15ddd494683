"""Policy-brain decision latency, in-process, excluding I/O (no AWS, no Tray).

10,000 events drawn from the seed's scenarios (leads, spam, orders with context, health
signals, onboarding, alerts, unknown types), each timed through ``PolicyBrain.screen`` and
``decide`` on the embedded rules, as ``EventService`` calls them. Target: p99 <= 5 ms.
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from tray_agent.config import DEFAULT_RULES_FILE, DEFAULT_WORKFLOWS_FILE
from tray_agent.domain.agent.policy import PolicyBrain
from tray_agent.domain.agent.registry import ToolRegistry

EVENTS = 10_000


def _events(rng: random.Random) -> list[dict[str, Any]]:
    templates: list[dict[str, Any]] = [
        {"type": "lead.created", "data": {"email": "a@b.io", "company": "B", "employees": 40}},
        {"type": "lead.created", "data": {"email": "x@mailinator.com", "message": "cheap backlinks"}},
        {
            "type": "lead.created",
            "data": {
                "email": "c@l.io",
                "company": "L",
                "employees": 200,
                "industry": "fintech",
                "funding_stage": "series_b",
            },
        },
        {"type": "lead.created", "data": {"email": "cfo@bank.com", "company": "Bank", "employees": 5000}},
        {
            "type": "order.created",
            "data": {"order_id": "o-1", "total": 10},
            "context": {"failed_orders_7d": 3},
        },
        {
            "type": "order.created",
            "data": {"order_id": "o-2", "total": 10},
            "context": {"failed_orders_7d": 0},
        },
        {"type": "order.failed", "data": {"order_id": "o-3", "error": "timeout"}},
        {
            "type": "customer.health_signals",
            "customer_id": "c1",
            "data": {"ticket_frequency_change_pct": 120, "usage_change_pct": -35, "renewal_in_days": 12},
            "context": {"open_tickets": 4},
        },
        {
            "type": "employee.hired",
            "data": {"email": "j@c.io", "department": "engineering", "seniority": "junior"},
        },
        {
            "type": "employee.hired",
            "data": {"email": "m@c.io", "department": "marketing", "seniority": "director"},
        },
        {"type": "alert.raised", "data": {"severity": "critical", "title": "Clearbit 503"}},
        {"type": "newsletter.opened", "data": {"campaign": "nov"}},
    ]
    return [
        {
            "id": f"e{n}",
            "source": "bench",
            **rng.choice(templates),
            "context": rng.choice(templates).get("context", {}),
        }
        for n in range(EVENTS)
    ]


def run() -> dict[str, float]:
    registry = ToolRegistry.from_file(DEFAULT_WORKFLOWS_FILE)
    policy = PolicyBrain.from_file(DEFAULT_RULES_FILE, known_workflows=registry.__contains__)
    events = _events(random.Random(7))
    for event in events[:500]:  # warm-up
        policy.screen(event) or policy.decide(event)
    timings: list[float] = []
    clock = time.perf_counter
    for event in events:
        started = clock()
        policy.screen(event) or policy.decide(event)
        timings.append((clock() - started) * 1000)
    cuts = statistics.quantiles(timings, n=100)
    return {
        "policy_decision_p50_ms": round(cuts[49], 4),
        "policy_decision_p99_ms": round(cuts[98], 4),
        "policy_decisions_per_s": round(EVENTS / (sum(timings) / 1000), 1),
    }
