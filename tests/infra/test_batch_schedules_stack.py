"""Off-peak batch flushes: one EventBridge Scheduler cron schedule per policy window, to the monitor."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Template


def test_each_off_peak_window_has_a_cron_schedule_that_invokes_the_monitor_to_flush(synthesized: Any) -> None:
    template: Template = synthesized[0]
    [monitor_id] = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "tray_agent.handlers.monitor.handler"}}
    )
    schedules = template.find_resources("AWS::Scheduler::Schedule")
    assert len(schedules) == 1  # lead_enrichment's policy is the only one with a window
    [schedule] = schedules.values()
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "cron(0 22 * * ? *)"
    assert props["ScheduleExpressionTimezone"] == "Etc/UTC"
    target = props["Target"]
    assert target["Arn"] == {"Fn::GetAtt": [monitor_id, "Arn"]}
    assert json.loads(target["Input"]) == {
        "action": "flush_batches",
        "workflow": "lead_enrichment",
        "time": "<aws.scheduler.scheduled-time>",
    }
    assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] == 3
