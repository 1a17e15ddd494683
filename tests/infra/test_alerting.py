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


def _dashboard_widgets(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """The dashboard body's widgets, references (function, table, queue names) left as REF."""
    body = dashboard["Properties"]["DashboardBody"]
    if isinstance(body, dict):
        body = "".join(part if isinstance(part, str) else "REF" for part in body["Fn::Join"][1])
    widgets: list[dict[str, Any]] = json.loads(body)["widgets"]
    return widgets


def _widget_text(widget: dict[str, Any]) -> str:
    properties = widget["properties"]
    return str(properties.get("markdown") or properties.get("title") or "")


def _emitted_metric_names() -> tuple[set[str], set[str]]:
    """What the functions emit through Powertools: fixed names, and the prefixes of dynamic ones."""
    import re

    from tests.infra.conftest import ROOT

    fixed: set[str] = set()
    prefixes: set[str] = set()
    for source in (ROOT / "functions" / "tray_agent").rglob("*.py"):
        text = source.read_text()
        fixed.update(re.findall(r'add_metric\(name="(\w+)"', text))
        prefixes.update(re.findall(r'add_metric\(name=f"(\w+?)_\{', text))
    return fixed, prefixes


def test_the_dashboard_puts_the_business_first_then_the_plumbing(synthesized: Any) -> None:
    template = _template(synthesized)
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == "tray-agent-dev"
    widgets = _dashboard_widgets(dashboard)
    texts = [_widget_text(w) for w in widgets]
    assert texts[0] == "# tray-agent (dev): what the agent did"
    plumbing = texts.index("# Plumbing")
    business, below = widgets[:plumbing], widgets[plumbing:]
    business_sections = [t for t in texts[:plumbing] if t.startswith("### ")]
    assert business_sections == [
        "### Decisions and the model",
        "### Tray runs and recoveries",
        "### Held work",
        "### Purchase orders",
    ]
    # Above the plumbing: only what the agent emits (and the alarm panel), no AWS service metric.
    business_json = json.dumps(business)
    assert "AWS/" not in business_json
    assert [w["properties"]["title"] for w in business if w["type"] == "alarm"] == ["Alarms"]
    # The plumbing: the HTTP API, then a section per function, state machine, table and dead-letter
    # queue, each as the monitoring library lays it out.
    headers = [_widget_text(w) for w in below if _widget_text(w).startswith("### ")]
    kinds = [h.split("**")[0].removeprefix("### ").strip() for h in headers]
    assert kinds[0] == "API Gateway V2 HTTP Endpoint"
    resources = template.to_json()["Resources"].values()
    count = {kind: sum(r["Type"] == kind for r in resources) for kind in {r["Type"] for r in resources}}
    assert kinds.count("Lambda Function") == count["AWS::Lambda::Function"]
    assert kinds.count("State Machine") == count["AWS::StepFunctions::StateMachine"]
    assert kinds.count("Dynamo Table") == count["AWS::DynamoDB::Table"]
    assert kinds.count("SQS Queue") == 2  # failed invocations, undelivered events
    assert kinds == sorted(
        kinds,
        key=[
            "API Gateway V2 HTTP Endpoint",
            "Lambda Function",
            "State Machine",
            "Dynamo Table",
            "SQS Queue",
        ].index,
    )
    below_json = json.dumps(below)
    for namespace in ("AWS/ApiGateway", "AWS/Lambda", "AWS/States", "AWS/DynamoDB", "AWS/SQS"):
        assert namespace in below_json


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return set().union(*(_strings(item) for item in items)) if items else set()


def test_the_dashboard_shows_every_metric_the_functions_emit(synthesized: Any) -> None:
    (dashboard,) = _template(synthesized).find_resources("AWS::CloudWatch::Dashboard").values()
    widgets = _dashboard_widgets(dashboard)
    plumbing = [_widget_text(w) for w in widgets].index("# Plumbing")
    business = _strings(widgets[:plumbing])
    fixed, prefixes = _emitted_metric_names()
    assert {"Decision", "MonitorRecovery", "CallbackRecovery", "MonitorAlert"} <= prefixes
    assert {"ModelTokens", "HeldWork", "PurchaseOrdersOrdered", "MonitorTickCompleted"} <= fixed
    assert fixed <= business, fixed - business
    # Dynamic names (Decision_<action>, ...) through a SEARCH on the agent's namespace and service,
    # unquoted so that it matches the name's first token rather than a metric named "Decision_".
    schema = '{"TrayAgent","service"} "service"="tray-agent"'
    for prefix in prefixes:
        assert f"SEARCH('{schema} MetricName={prefix}', 'Sum', 300)" in business, prefix
    # Runs and failures per Tray workflow carry their own `workflow` dimension (workflow_metric).
    for name in ("TrayRuns", "TrayFailures"):
        assert f"SEARCH('{{TrayAgent,service,workflow}} MetricName=\"{name}\"', 'Sum', 300)" in business
