"""Demo section: the seed's five scenarios on the policy brain, plus a held decision approved.

One block per scenario: the events sent, each decision with its reason, and what reached the
Tray simulator (or that nothing did).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from tray_local.local_env import LocalEnvironment


def _event(
    event_type: str, data: dict[str, Any], *, source: str, customer_id: str | None = None
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": f"demo-{uuid.uuid4().hex[:8]}",
        "type": event_type,
        "source": source,
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": data,
    }
    if customer_id:
        event["customer_id"] = customer_id
    return event


def _send(env: LocalEnvironment, title: str, event: dict[str, Any], *, quiet: bool = False) -> dict[str, Any]:
    before = {e.id for e in env.simulator.executions()}
    answer = env.api("POST", "/events", event)
    env.simulator.wait_idle()
    if quiet:
        return dict(answer.body)
    print(f"  > {title}")
    body = answer.body
    target = f" {body['workflow']}" if body.get("workflow") else ""
    print(f"    decision: {body['action']}{target}  [{body.get('brain')} brain]")
    print(f"    reason:   {body['reason']}")
    if body.get("review_id"):
        print(f"    held for human review: {body['review_id']}")
    _print_runs(env, before)
    return dict(body)


def _print_runs(env: LocalEnvironment, before: set[str]) -> None:
    runs = [e for e in env.simulator.executions() if e.id not in before]
    for run in runs:
        text = json.dumps(run.input)
        shown = text if len(text) <= 600 else text[:600] + "…"
        print(f"    Tray ran: {run.workflow_name} ({run.status}) input={shown}")
    if not runs:
        print("    Tray ran: nothing (no task spent)")


def run(env: LocalEnvironment) -> None:
    print("\n=== The seed's five scenarios (policy brain) ===")

    print("\n[1] Intelligent lead routing")
    growth = {
        "email": "cto@ledgerly.io",
        "company": "Ledgerly",
        "employees": 200,
        "industry": "fintech",
        "funding_stage": "series_b",
    }
    _send(
        env,
        "200-employee fintech that just raised a Series B",
        _event("lead.created", growth, source="hubspot"),
    )
    spam = {"email": "winner@mailinator.com", "company": "Free $$$", "message": "cheap backlinks"}
    _send(env, "obvious spam", _event("lead.created", spam, source="webform"))

    print("\n[2] Order processing with context")
    customer = f"cust-{uuid.uuid4().hex[:6]}"
    for n in range(3):
        failed = {"order_id": f"ORD-{n}", "error": "payment gateway timeout"}
        _send(env, "", _event("order.failed", failed, source="shopify", customer_id=customer), quiet=True)
    print(f"  (3 failed orders for {customer} this week are in its context)")
    order = {"order_id": "ORD-4", "total": 2500.0}
    _send(
        env,
        "a new order from the same customer",
        _event("order.created", order, source="shopify", customer_id=customer),
    )

    print("\n[3] Customer health")
    signals = {"ticket_frequency_change_pct": 120, "usage_change_pct": -35, "renewal_in_days": 12}
    _send(
        env,
        "tickets up, usage down, renewal in 12 days",
        _event("customer.health_signals", signals, source="warehouse", customer_id="acme"),
    )

    print("\n[4] Smart onboarding")
    junior = {
        "email": "jo@corp.io",
        "role": "Software Engineer",
        "department": "engineering",
        "seniority": "junior",
    }
    director = {
        "email": "mo@corp.io",
        "role": "Marketing Director",
        "department": "marketing",
        "seniority": "director",
    }
    _send(env, "junior engineer", _event("employee.hired", junior, source="bamboohr"))
    _send(env, "marketing director", _event("employee.hired", director, source="bamboohr"))

    print("\n[5] Duplicate and irrelevant events")
    lead = _event(
        "lead.created", {"email": "ann@smallco.io", "company": "SmallCo", "employees": 40}, source="hubspot"
    )
    _send(env, "a lead", lead)
    _send(env, "the same lead re-sent under a new id", dict(lead, id=lead["id"] + "-again"))
    _send(
        env,
        "an event type nobody handles",
        _event("newsletter.opened", {"campaign": "nov"}, source="mailchimp"),
    )

    print("\n[+] Human review: a refund is held, then approved once")
    refund = {"amount": 120.0, "currency": "EUR", "reason": "damaged item"}
    held = _send(
        env, "refund request", _event("refund.requested", refund, source="zendesk", customer_id="acme")
    )
    before = {e.id for e in env.simulator.executions()}
    approved = env.api("POST", f"/reviews/{held['review_id']}/approve", {"note": "checked the photos"})
    again = env.api("POST", f"/reviews/{held['review_id']}/approve", {})
    env.simulator.wait_idle()
    print(f"  > approve: HTTP {approved.status} by {approved.body.get('resolved_by')}")
    print(f"  > approve again: HTTP {again.status} (exactly once)")
    _print_runs(env, before)
