"""The simulated business day (``tests/bench/simday.py``): recovery speed, credits, alerts, losses.

A seeded day of 2,000 deliveries through the agent (real API handler, failure callbacks, the
monitor every 5 minutes, moto, the Tray simulator) and through Tray's default policy on the same
day. The day is another each time ``SIMDAY_SEED`` is set; the default seed is the one reported.

Figures (see ``simday.py`` for each definition): ``simday_recoverable_fixed_within_30s_ratio``
(failures the agent can fix by itself: transient 5xx, timeouts, 429s, picklist values, oversized
steps; from the failure to the fixed run), ``simday_recoverable_fixed_in_day_ratio``,
``simday_all_failures_fixed_in_day_ratio`` (the outage, expired logins and the disabled hour
included), ``simday_waiting_fixed_after_cause_end_p50_s`` (those, from the moment their cause
ended), ``simday_lost_work_items``, ``simday_credits_vs_tray_default_ratio``,
``simday_escalations_per_incident``, ``simday_alert_flaps``, ``simday_wall_s``.
"""

from __future__ import annotations

import os

DELIVERIES = 2000


def run() -> dict[str, float]:
    from tests.bench.simday import run_day

    seed = int(os.environ.get("SIMDAY_SEED", "20261130"))
    result = run_day(seed=seed, deliveries=int(os.environ.get("SIMDAY_DELIVERIES", DELIVERIES)))
    for problem in result.problems[:5]:
        print(f"   problem: {problem}", flush=True)
    return result.figures
