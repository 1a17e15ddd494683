"""Follow-ups and customer health (issue 12), on moto and the simulator with a simulated clock.

Figures:
- ``followups_fired_on_time_ratio``: a simulated month of hires (each schedules its three-day
  check); the local Scheduler pump runs every simulated hour: the share of follow-ups
  whose check ran within one pump interval of its due time (1.0 is right);
- ``health_assessments_per_customer_per_day``: a month of ordinary events for a set of
  customers plus the daily sweep: assessments run per customer per day (≤ 1 + that day's
  signals, reported beside it as ``health_signals_per_customer_per_day``);
- ``health_sweep_10k_customers_s`` and ``health_sweep_10k_customers_tray_requests``: the daily
  sweep over 10,000 customers with signals (1 % of them at risk): its wall time on moto and the
  Tray requests it made (bounded by ``health_sweep_max_tasks``).
"""

from __future__ import annotations

import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

HIRES = 20
PUMP_EVERY = timedelta(hours=1)
MONTH_CUSTOMERS = 12
# 10,000 by default (the figure's name). The sweep makes one Query and one GetItem per customer;
# tray_local.moto_speedups makes moto's Query read its partition rather than sort the whole table,
# as DynamoDB does (without it a 10,000-customer sweep takes hours on moto). A quick local run may
# set BENCH_HEALTH_SWEEP_CUSTOMERS lower (reported as health_sweep_customers).
SWEEP_CUSTOMERS = int(os.environ.get("BENCH_HEALTH_SWEEP_CUSTOMERS", "10000"))
AT_RISK_SHARE = 0.01


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def run() -> dict[str, float]:
    from tray_agent.clock import utc_now
    from tray_agent.handlers import api
    from tray_local.local_env import LocalEnvironment

    with LocalEnvironment.start() as env:
        env.api("GET", "/health")
        followups = api._service().engine.followups
        try:
            on_time = _month_of_followups(env, followups)
            per_day, signals_per_day = _month_of_health(followups)
            sweep_s, tray_requests = _sweep_10k(env, followups)
        finally:
            followups.use_clock(utc_now)
    return {
        "followups_fired_on_time_ratio": on_time,
        "health_assessments_per_customer_per_day": per_day,
        "health_signals_per_customer_per_day": signals_per_day,
        "health_sweep_10k_customers_s": sweep_s,
        "health_sweep_10k_customers_tray_requests": tray_requests,
        "health_sweep_customers": float(SWEEP_CUSTOMERS),
    }


def _month_of_followups(env: Any, followups: Any) -> float:
    from tests.conftest import new_event
    from tray_local.schedule_pump import pump

    rng = random.Random(12)
    start = datetime.now(UTC)
    clock = _Clock(start)
    followups.use_clock(clock)
    hires = sorted(start + timedelta(minutes=rng.randrange(0, 27 * 24 * 60)) for _ in range(HIRES))
    due: dict[str, datetime] = {}
    fired_at: dict[str, datetime] = {}
    end = start + timedelta(days=31)
    while clock.now < end:
        while hires and hires[0] <= clock.now:
            clock.now = hires.pop(0)
            email = f"bench-{uuid.uuid4().hex[:8]}@example.org"
            data = {"email": email, "department": "engineering", "seniority": "junior", "role": "Engineer"}
            env.api("POST", "/events", new_event("employee.hired", source="bamboohr", data=data))
            [view] = followups.list_for(person=email)
            due[view.work_id] = view.due_at
        for answer in pump(env.settings, clock.now):
            fired_at.setdefault(answer["work_id"], clock.now)
        clock.now += PUMP_EVERY
    on_time = sum(1 for w, at in due.items() if w in fired_at and fired_at[w] - at <= PUMP_EVERY)
    return round(on_time / len(due), 4) if due else 0.0


def _month_of_health(followups: Any) -> tuple[float, float]:
    health = followups.health
    rng = random.Random(7)
    start = datetime.now(UTC) - timedelta(days=30)
    clock = _Clock(start)
    followups.use_clock(clock)
    customers = [f"bench-month-{uuid.uuid4().hex[:8]}" for _ in range(MONTH_CUSTOMERS)]
    before = health.assessments
    signals = 0
    for day in range(30):
        clock.now = start + timedelta(days=day, hours=9)
        for customer in customers:
            for _ in range(rng.choice((0, 0, 1, 2))):
                signals += 1
                kind = rng.choice(("ticket.created", "usage.reported", "nps.responded"))
                data = {
                    "sentiment": "neutral",
                    "active_users": rng.randint(80, 120),
                    "score": rng.randint(6, 10),
                }
                health.observe(
                    {
                        "id": f"evt-{uuid.uuid4()}",
                        "type": kind,
                        "customer_id": customer,
                        "occurred_at": clock.now.isoformat(),
                        "data": data,
                    }
                )
        clock.now = start + timedelta(days=day, hours=23)
        for customer in customers:  # the daily sweep, for these customers
            health.assess_and_act(customer)
    count = len(customers) * 30
    return round((health.assessments - before) / count, 3), round(signals / count, 3)


def _sweep_10k(env: Any, followups: Any) -> tuple[float, float]:
    from tray_agent.data import aws
    from tray_agent.data.health import ACTIVE_SHARDS, _shard

    health = followups.health
    now = datetime.now(UTC)
    clock = _Clock(now)
    followups.use_clock(clock)
    expires = int((now + timedelta(days=90)).timestamp())
    prefix = f"bench-10k-{uuid.uuid4().hex[:6]}"
    rng = random.Random(3)
    table = aws.table(env.settings.context_table)
    # Seeded straight into the table (as 10,000 customers' events would have left it).
    with table.batch_writer() as batch:
        for n in range(SWEEP_CUSTOMERS):
            customer = f"{prefix}-{n}"
            risky = rng.random() < AT_RISK_SHARE
            rows = _risky_signals(now) if risky else [("usage", 20, 100.0, "usage.reported")]
            for kind, days_ago, value, event_type in rows:
                day = (now - timedelta(days=days_ago)).date()
                batch.put_item(
                    Item={
                        "pk": f"signals#{customer}",
                        "sk": f"{day.isoformat()}#{kind}#{uuid.uuid4().hex[:16]}",
                        "day": day.isoformat(),
                        "signal": kind,
                        "event_id": f"evt-{uuid.uuid4().hex[:12]}",
                        "event_type": event_type,
                        "value": int(value),
                        "negative": False,
                        "expires_at": expires,
                    }
                )
            batch.put_item(
                Item={
                    "pk": f"health-active#{_shard(customer)}",
                    "sk": customer,
                    "last_signal": now.date().isoformat(),
                    "expires_at": expires,
                }
            )
    assert ACTIVE_SHARDS > 1
    calls_before = len(env.simulator.calls())
    started = time.perf_counter()
    health.sweep(env.settings.health_sweep_max_tasks)
    elapsed = time.perf_counter() - started
    env.simulator.wait_idle()
    return round(elapsed, 2), float(len(env.simulator.calls()) - calls_before)


def _risky_signals(now: datetime) -> list[tuple[str, int, float, str]]:
    rows = [("usage", d, 100.0, "usage.reported") for d in (40, 30, 20)]
    rows += [("usage", 3, 40.0, "usage.reported"), ("payment_failed", 2, 0.0, "payment.failed")]
    rows += [("ticket", d, 0.0, "ticket.created") for d in (10, 7, 5, 2)]
    return rows
