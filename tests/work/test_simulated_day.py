"""A short simulated day through the real handlers: nothing lost, every failure fixed, fewer credits.

The same driver as ``make bench``'s 2,000-delivery day (``tests/bench/simday.py``), on a
3-hour day of 120 deliveries with the day's trouble scaled into it (a NetSuite outage, two
expired logins, a disabled workflow, 429 bursts, 5xx and timeouts, picklist values, spam and
duplicates), on a seed of its own. It runs in a process of its own: a day installs its own
clock, moto state and environment, which must not leak into the tests around it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_day_loses_nothing_fixes_every_failure_and_costs_less_than_tray_default() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "tests.bench.simday", "--seed", "4242", "--deliveries", "120", "--hours", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    figures = result["figures"]
    assert result["problems"] == []
    assert figures["simday_lost_work_items"] == 0
    assert figures["simday_5xx_answers"] == 0
    assert figures["simday_all_failures_fixed_in_day_ratio"] == 1.0, result["notes"]
    assert figures["simday_escalations_per_incident"] == 1.0
    assert figures["simday_alert_flaps"] == 0
    assert figures["simday_credits_vs_tray_default_ratio"] < 1.0
    # The baseline retries blindly: what needs a person or a mapping stays broken.
    assert figures["simday_baseline_fixed_in_day_ratio"] < 1.0
