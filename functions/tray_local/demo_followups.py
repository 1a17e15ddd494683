"""Demo section: a follow-up scheduled and firing (the clock moved forward), and a health episode.

Issue 12: the agent provisions a new hire and schedules its own three-day check; three
simulated days later the local Scheduler pump fires it, the account check finds GitHub never
signed in, and the hire gets a nudge for that tool only. Then a month of ordinary events for
one customer (tickets, usage reports, a failed payment) adds up to one churn-risk episode: one
CSM task whose brief cites the events.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tray_local.local_env import LocalEnvironment


class _Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def _event(event_type: str, days_ago: float, customer_id: str | None = None, **data: Any) -> dict[str, Any]:
    return {
        "id": f"evt-{uuid.uuid4()}",
        "type": event_type,
        "source": "demo",
        "customer_id": customer_id,
        "occurred_at": (datetime.now(UTC) - timedelta(days=days_ago)).isoformat(),
        "data": data,
    }


def run(env: LocalEnvironment) -> None:
    from tray_agent.clock import utc_now
    from tray_agent.handlers import api
    from tray_local.schedule_pump import pump
    from tray_local.simulator.scripts import WorkflowScript

    print("\n=== Follow-ups the agent schedules itself, and customer health from ordinary events ===")
    env.api("GET", "/health")
    followups = api._service().engine.followups
    clock = _Clock()
    followups.use_clock(clock)
    try:
        email = f"maya-{uuid.uuid4().hex[:4]}@example.org"
        hired = _event(
            "employee.hired",
            0,
            email=email,
            role="Software Engineer",
            department="engineering",
            seniority="junior",
            manager_email="lead@example.org",
        )
        answer = env.api("POST", "/events", hired).body
        print(f"- {email} hired: {answer['workflow']} ({answer['reason']})")
        [view] = env.api("GET", "/follow-ups", query={"person": email}).body
        due = view["due_at"][:16]
        print(f"  follow-up {view['check']} due {due} (a one-time schedule; the work item in the ledger)")
        env.simulator.set_script(
            "account_activity_check", WorkflowScript(output={"inactive": [], "never_signed_in": ["github"]})
        )
        clock.now += timedelta(days=3, minutes=5)
        fired = pump(env.settings, clock.now)
        print(f"- the clock moves three days on; the Scheduler pump fires {len(fired)} follow-up(s):")
        for item in fired:
            print(f"  {item['state']}: {item['reason'] or ''}")
        nudges = [r for r in env.simulator.runs("onboarding_nudge") if r.input.get("employee_email") == email]
        for nudge in nudges:
            steps = "; ".join(f"{i['tool']}: {i['steps']}" for i in nudge.input["instructions"])
            print(f"  nudge sent to {email}: {steps}")
        again = pump(env.settings, clock.now)
        print(f"  fired again at the same time: {len(again)} more check(s) (the schedule deleted itself)")
        env.simulator.set_script(
            "account_activity_check", WorkflowScript(output={"inactive": [], "never_signed_in": []})
        )
    finally:
        followups.use_clock(utc_now)

    customer = f"cus-{uuid.uuid4().hex[:6]}"
    print(f"- a month of ordinary events for {customer}:")
    events = [
        _event("ticket.created", d, customer, ticket_id=f"T-{d}", subject="export fails")
        for d in (34, 27, 20)
    ]
    events += [
        _event("usage.reported", d, customer, active_users=n) for d, n in ((33, 100), (26, 104), (19, 98))
    ]
    events += [
        _event("ticket.created", d, customer, ticket_id=f"T-{d}", subject="slow") for d in (12, 9, 7, 5, 3)
    ]
    events += [_event("usage.reported", d, customer, active_users=n) for d, n in ((12, 80), (5, 64))]
    events += [_event("payment.failed", 2, customer, invoice_id="INV-77")]
    events += [_event("ticket.created", 1, customer, ticket_id="T-1", subject="angry", sentiment="negative")]
    for event in events:
        env.api("POST", "/events", event)
    print(f"  {len(events)} events: 8 tickets, 5 usage reports, 1 failed payment")
    tasks = [r for r in env.simulator.runs("csm_health_task") if r.input.get("customer_id") == customer]
    print(f"  CSM tasks: {len(tasks)} (one per risk episode, not per event)")
    for task in tasks:
        for line in task.input["brief"].splitlines()[:6]:
            print(f"    {line}")
    checkins = env.api("GET", "/follow-ups", query={"customer": customer}).body
    print(f"  check-in scheduled: {[v['check'] + ' ' + v['due_at'][:10] for v in checkins]}")
