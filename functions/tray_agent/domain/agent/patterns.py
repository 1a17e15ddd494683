"""Patterns in the daily operations summary that suggest a systemic issue (seed 000).

Read from the summaries of the last days (the counters the agent and the monitor keep):

- a workflow failing more each day (its failures rose on each of the last three days);
- a customer whose failures repeat (failed or held work on two or more of the days);
- a workflow whose input keeps needing fixes (the monitor retried it with fixed input on three
  or more of the days).

Each pattern is a sentence with its evidence (the day-by-day counts). Once a day the summary,
patterns included, goes to the ops notification workflow through the ledger (one work item per
day, so a second run of the daily job sends nothing).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date, timedelta

from tray_agent.domain.agent.memory import DailySummary, OperationsSummary
from tray_agent.models.decisions import Decision, DecisionAction, WorkflowCall

RISING_DAYS = 3
REPEAT_DAYS = 2
FIX_DAYS = 3


def _days(day: date, count: int) -> list[date]:
    return [day - timedelta(days=offset) for offset in range(count - 1, -1, -1)]


def find_patterns(summary: OperationsSummary, day: date, days: int) -> list[str]:
    span = _days(day, days)
    reports = {d: summary.read(d) for d in span}
    patterns: list[str] = []

    failures: dict[str, list[int]] = defaultdict(lambda: [0] * len(span))
    fixes: dict[str, list[int]] = defaultdict(lambda: [0] * len(span))
    for index, d in enumerate(span):
        for w in reports[d].workflows:
            failures[w.workflow][index] += w.failures
            fixes[w.workflow][index] += w.by_outcome.get("retried_modified", 0)
    for workflow, counts in sorted(failures.items()):
        tail = counts[-RISING_DAYS:]
        if all(b > a for a, b in itertools.pairwise(tail)) and tail[-1] >= 2:
            evidence = ", ".join(
                f"{d.isoformat()}: {c}" for d, c in zip(span[-RISING_DAYS:], tail, strict=True)
            )
            patterns.append(
                f"{workflow} is failing more each day ({evidence} failures): "
                "look at its connector's authentication, limits or upstream service"
            )
    for workflow, counts in sorted(fixes.items()):
        fixed_days = [(d, c) for d, c in zip(span, counts, strict=True) if c]
        if len(fixed_days) >= FIX_DAYS:
            evidence = ", ".join(f"{d.isoformat()}: {c}" for d, c in fixed_days)
            patterns.append(
                f"{workflow}'s input keeps needing fixes: retried with corrected input on "
                f"{len(fixed_days)} of the last {len(span)} days ({evidence}); fix the mapping at the source"
            )
    by_customer: dict[str, list[tuple[date, str, int]]] = defaultdict(list)
    for d in span:
        for (customer, workflow), count in summary.customer_failures(d).items():
            by_customer[customer].append((d, workflow, count))
    for customer, seen in sorted(by_customer.items()):
        if len({d for d, _, _ in seen}) >= REPEAT_DAYS:
            evidence = ", ".join(f"{d.isoformat()} {w}: {c}" for d, w, c in seen)
            patterns.append(
                f"customer {customer}'s work keeps failing: {sum(c for _, _, c in seen)} failures on "
                f"{len({d for d, _, _ in seen})} days ({evidence})"
            )
    return patterns


def summary_decision(report: DailySummary) -> Decision:
    """What the daily job sends to the ops notification workflow."""
    severity = "warning" if report.patterns or report.flags else "info"
    return Decision(
        action=DecisionAction.TRIGGER,
        calls=[
            WorkflowCall(
                workflow="ops_alert_notification",
                input={
                    "severity": severity,
                    "title": f"Operations summary for {report.day}: {len(report.patterns)} patterns, "
                    f"{len(report.flags)} flags",
                    "details": {
                        "patterns": report.patterns,
                        "flags": report.flags,
                        "totals": report.totals,
                        "outcomes": report.outcomes,
                        "held_work": report.held_work,
                        "open_incidents": report.open_incidents,
                    },
                },
            )
        ],
        reason=f"the daily operations summary for {report.day}",
        rule="summary.daily",
    )
