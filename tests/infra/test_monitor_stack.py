"""The monitor's deployed shape: schedule, Lambda limits, least-privilege grants, alarm."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match, Template


def _template(synthesized: Any) -> Template:
    template: Template = synthesized[0]
    return template


def _monitor_function(template: Template) -> tuple[str, dict[str, Any]]:
    functions = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "tray_agent.handlers.monitor.handler"}}
    )
    assert len(functions) == 1
    return next(iter(functions.items()))


def test_a_rate_5_minutes_rule_invokes_the_monitor(synthesized: Any) -> None:
    template = _template(synthesized)
    logical_id, _ = _monitor_function(template)
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(5 minutes)",
            "State": "ENABLED",
            "Targets": [
                Match.object_like(
                    {"Arn": {"Fn::GetAtt": [logical_id, "Arn"]}, "RetryPolicy": {"MaximumRetryAttempts": 0}}
                )
            ],
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "Principal": "events.amazonaws.com",
            "FunctionName": Match.any_value(),
        },
    )


def test_the_monitor_runs_up_to_15_minutes_one_at_a_time(synthesized: Any) -> None:
    template = _template(synthesized)
    _, function = _monitor_function(template)
    props = function["Properties"]
    assert props["Timeout"] == 900
    assert props["ReservedConcurrentExecutions"] == 1
    assert props["Environment"]["Variables"]["TRAY_AGENT_MONITOR_TICK_S"] == "300"
    assert "TRAY_AGENT_ALERTS_TOPIC_ARN" in props["Environment"]["Variables"]
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig", {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 300}
    )


def test_the_monitor_may_touch_only_its_tables_the_tray_secret_and_the_alerts_topic(synthesized: Any) -> None:
    template = _template(synthesized)
    _, function = _monitor_function(template)
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = [
        p
        for p in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
    ]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    text = repr(statements)
    assert "MonitorTable" in text and "DecisionsTable" in text and "ReviewsTable" in text
    assert "ContextTable" in text  # the daily operations summary
    assert "IdempotencyTable" not in text and "CatalogTable" not in text
    assert any(
        "sns:Publish" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]) for s in statements
    )
    assert "TrayTokens" in text and "OpenAiApiKey" in text  # Tray, and the agent's model for unknowns
    assert "SigningSecret" not in text and "ReviewerToken" not in text


def test_monitor_errors_alarm_to_the_alerts_topic(synthesized: Any) -> None:
    template = _template(synthesized)
    logical_id, _ = _monitor_function(template)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": logical_id}}],
            "AlarmActions": [Match.any_value()],
        },
    )
