"""A short simulated day through the real handlers: nothing lost, every failure fixed, fewer credits.

The same driver as ``make bench``'s 2,000-delivery day (``tests/bench/simday.py``), on a
3-hour day of 120 deliveries with the day's trouble scaled into it (a NetSuite outage, two
expired logins, a disabled workflow, 429 bursts, 5xx and timeouts, picklist values, spam and
duplicates), and on a seed of its own each run of the suite would not see otherwise.
"""

from __future__ import annotations

from tests.bench.simday import make_day, run_agent_day, run_baseline_day


def test_a_short_day_loses_nothing_fixes_every_failure_and_costs_less_than_tray_default() -> None:
    day = make_day(seed=4242, deliveries=120, hours=3.0)
    agent = run_agent_day(day)
    baseline = run_baseline_day(day)
    figures = agent.figures
    assert agent.problems == []
    assert figures["simday_lost_work_items"] == 0
    assert figures["simday_5xx_answers"] == 0
    assert figures["simday_all_failures_fixed_in_day_ratio"] == 1.0
    assert figures["simday_escalations_per_incident"] == 1.0
    assert figures["simday_alert_flaps"] == 0
    assert figures["simday_agent_task_credits"] < baseline["simday_baseline_task_credits"]
    # The baseline retries blindly: what needs a person or a mapping stays broken.
    assert baseline["simday_baseline_fixed_in_day_ratio"] < 1.0
