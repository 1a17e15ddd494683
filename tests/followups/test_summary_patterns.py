"""Patterns in the daily summary (issue 12): sentences with their evidence, sent once a day."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from tray_agent.domain.agent.memory import OperationsSummary


def days_before(day: date, count: int) -> list[str]:
    return [(day - timedelta(days=n)).isoformat() for n in range(count - 1, -1, -1)]


def test_patterns_name_the_workflow_the_customer_and_the_input_with_evidence(local_env: Any) -> None:
    day = date(2020, 3, 1) + timedelta(days=uuid.uuid4().int % 2000)  # a day no other test writes
    span = days_before(day, 7)
    summary = OperationsSummary(local_env.settings)
    rising, steady, fixed = (f"wf-{name}-{uuid.uuid4().hex[:6]}" for name in ("rising", "steady", "fixed"))
    for d, failures in zip(span[-3:], (1, 3, 6), strict=True):
        summary.record(d, "execution", rising, "failed", count=failures)
        summary.record(d, "execution", rising, "succeeded", count=20)
    for d in span[-3:]:
        summary.record(d, "execution", steady, "failed", count=4)  # many, but not rising
    for d in (span[1], span[3], span[6]):
        summary.record(d, "execution", fixed, "retried_modified")
    summary.record_customer_failure("cus-repeat", "order_processing", day=span[2])
    summary.record_customer_failure("cus-repeat", "order_processing", day=span[5])
    summary.record_customer_failure("cus-once", "order_processing", day=span[5])

    answer = local_env.api("GET", f"/summary/{day.isoformat()}")
    assert answer.status == 200, answer.body
    patterns: list[str] = answer.body["patterns"]
    [failing] = [p for p in patterns if rising in p]
    assert "failing more each day" in failing and f"{span[-1]}: 6" in failing and f"{span[-3]}: 1" in failing
    assert not [p for p in patterns if steady in p]
    [fixes] = [p for p in patterns if fixed in p]
    assert "input keeps needing fixes" in fixes and "3 of the last 7 days" in fixes
    [repeat] = [p for p in patterns if "cus-repeat" in p]
    assert "2 failures on 2 days" in repeat and span[2] in repeat
    assert not [p for p in patterns if "cus-once" in p]

    # Sent to the ops notification workflow once for the day, however often the daily job runs.
    from tray_agent.handlers import api

    service = api._service()
    before = len(local_env.simulator.runs("ops_alert_notification"))
    first = service.send_daily_summary(day.isoformat(), summary)
    second = service.send_daily_summary(day.isoformat(), summary)
    assert first.work_id == second.work_id and first.state.value == "done"
    runs = local_env.simulator.runs("ops_alert_notification")[before:]
    [sent] = [r for r in runs if day.isoformat() in r.input["title"]]
    assert sent.input["severity"] == "warning"
    assert failing in sent.input["details"]["patterns"]


def test_a_bad_day_is_a_day_not_a_summary_error(local_env: Any) -> None:
    answer = local_env.api("GET", "/summary/yesterday")
    assert answer.status == 422 and "[0-9]{4}-[0-9]{2}-[0-9]{2}" in str(answer.body)
