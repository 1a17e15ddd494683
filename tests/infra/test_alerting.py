"""Alerts reach a person: key and topic policies CloudWatch needs, a subscription, every alarm."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Template

from tests.infra.conftest import cli_synth


def _template(synthesized: Any) -> Template:
    template: Template = synthesized[0]
    return template


def _statements(resource: dict[str, Any], document: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = resource["Properties"][document]["Statement"]
    return statements


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_alerts_key_lets_cloudwatch_and_eventbridge_encrypt(synthesized: Any) -> None:
    keys = _template(synthesized).find_resources("AWS::KMS::Key")
    (key,) = [k for k in keys.values() if "alerts" in k["Properties"].get("Description", "")]
    grants = [
        s
        for s in _statements(key, "KeyPolicy")
        if s["Effect"] == "Allow" and "Service" in s.get("Principal", {})
    ]
    services = {p for s in grants for p in _as_list(s["Principal"]["Service"])}
    assert {"cloudwatch.amazonaws.com", "events.amazonaws.com"} <= services
    for statement in grants:
        actions = set(_as_list(statement["Action"]))
        assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= actions
        assert "aws:SourceAccount" in statement["Condition"]["StringEquals"]


def test_the_topic_lets_cloudwatch_publish_and_is_an_output(synthesized: Any) -> None:
    template = _template(synthesized)
    (topic_id,) = template.find_resources("AWS::SNS::Topic")
    (policy,) = template.find_resources("AWS::SNS::TopicPolicy").values()
    allow = [s for s in _statements(policy, "PolicyDocument") if s["Effect"] == "Allow"]
    assert any(
        "cloudwatch.amazonaws.com" in _as_list(s["Principal"]["Service"])
        and s["Action"] == "sns:Publish"
        and s["Resource"] == {"Ref": topic_id}
        for s in allow
    )
    template.has_output("AlertsTopicArn", {"Value": {"Ref": topic_id}})


def test_an_email_parameter_subscribes_someone_only_when_given(synthesized: Any) -> None:
    template = _template(synthesized)
    template.has_parameter("AlertEmail", {"Type": "String", "Default": ""})
    subscriptions = template.find_resources("AWS::SNS::Subscription", {"Properties": {"Protocol": "email"}})
    (subscription,) = subscriptions.values()
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlertEmail"}
    condition = subscription["Condition"]
    assert template.to_json()["Conditions"][condition] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlertEmail"}, ""]}]
    }


def _alarm_metric_names(alarm: dict[str, Any]) -> set[str]:
    props = alarm["Properties"]
    names = {props["MetricName"]} if "MetricName" in props else set()
    for query in props.get("Metrics", []):
        if "MetricStat" in query:
            names.add(query["MetricStat"]["Metric"]["MetricName"])
    return names


def test_every_alarm_the_issue_names_exists_and_notifies(synthesized: Any) -> None:
    template = _template(synthesized)
    (topic_id,) = template.find_resources("AWS::SNS::Topic")
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    functions = template.find_resources("AWS::Lambda::Function")
    for alarm in alarms.values():
        assert {"Ref": topic_id} in alarm["Properties"]["AlarmActions"]
        assert alarm["Properties"]["AlarmName"].startswith("tray-agent-dev-")
        assert alarm["Properties"]["AlarmDescription"]
    by_metric: dict[str, int] = {}
    for alarm in alarms.values():
        for name in _alarm_metric_names(alarm):
            by_metric[name] = by_metric.get(name, 0) + 1
    # Per function: errors, throttles, duration near the timeout.
    assert by_metric["Errors"] == by_metric["Throttles"] == by_metric["Duration"] == len(functions)
    assert by_metric["5xx"] == 1 and by_metric["Latency"] == 1
    assert by_metric["ReadThrottleEvents"] == by_metric["WriteThrottleEvents"] >= 1
    assert by_metric["SystemErrors"] >= by_metric["ReadThrottleEvents"]
    assert by_metric["ExecutionsFailed"] == by_metric["ExecutionsTimedOut"] == 1
    assert by_metric["ApproximateNumberOfMessagesVisible"] == 2
    assert by_metric["HeldWorkOldestAgeSeconds"] == 1


def test_the_monitor_heartbeat_treats_silence_as_breaching(synthesized: Any) -> None:
    _template(synthesized).has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "MonitorTickCompleted",
            "Namespace": "TrayAgent",
            "Dimensions": [{"Name": "service", "Value": "tray-agent"}],
            "Period": 900,
            "Statistic": "Sum",
            "ComparisonOperator": "LessThanThreshold",
            "Threshold": 1,
            "TreatMissingData": "breaching",
        },
    )


def test_near_timeout_alarms_sit_at_90_percent_of_each_timeout(synthesized: Any) -> None:
    template = _template(synthesized)
    for logical_id, function in template.find_resources("AWS::Lambda::Function").items():
        timeout_ms = function["Properties"]["Timeout"] * 1000
        template.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "MetricName": "Duration",
                "Statistic": "Maximum",
                "Threshold": round(timeout_ms * 0.9),
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": logical_id}}],
            },
        )


def test_a_second_stage_names_its_stack_dashboard_and_alarms_apart(tmp_path: Any) -> None:
    import json

    out = cli_synth(tmp_path, stage="prod", alert_topic_arn="arn:aws:sns:us-east-1:111111111111:pager")
    template = json.loads((out / "TrayAgent-prod.template.json").read_text())
    resources = template["Resources"].values()
    (dashboard,) = [r for r in resources if r["Type"] == "AWS::CloudWatch::Dashboard"]
    assert dashboard["Properties"]["DashboardName"] == "tray-agent-prod"
    alarms = [r for r in resources if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert all(a["Properties"]["AlarmName"].startswith("tray-agent-prod-") for a in alarms)
    # The existing (pager/Chatbot) topic is told of every alarm too.
    assert all("arn:aws:sns:us-east-1:111111111111:pager" in a["Properties"]["AlarmActions"] for a in alarms)
    tagged = [
        r
        for r in resources
        if "Tags" in r.get("Properties", {}) and isinstance(r["Properties"]["Tags"], list)
    ]
    assert tagged
    for resource in tagged:
        assert {"Key": "tray-agent:stage", "Value": "prod"} in resource["Properties"]["Tags"]


def test_the_dashboard_puts_business_metrics_first(synthesized: Any) -> None:
    (dashboard,) = _template(synthesized).find_resources("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == "tray-agent-dev"
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert body.index("Decisions by action") < body.index("Plumbing") < body.index("API requests")
    for name in ("Decision_", "MonitorRecovery_", "HeldWork", "ModelTokens", "PurchaseOrdersOrdered"):
        assert name in body
