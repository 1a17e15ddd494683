"""Dead letters in the deployed shape: every asynchronous invocation and every EventBridge target
has somewhere to fail to, each queue has a depth alarm, and only the right principals may write."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Template

ASYNC_HANDLERS = (
    "tray_agent.handlers.po_intake.handler",
    "tray_agent.handlers.monitor.handler",
    "tray_agent.handlers.followups.daily_handler",  # the follow-ups' daily job (issue 12)
)
FOURTEEN_DAYS_S = 14 * 24 * 3600


def _template(synthesized: Any) -> Template:
    template: Template = synthesized[0]
    return template


def _queue_ids(template: Template) -> dict[str, str]:
    queues = template.find_resources("AWS::SQS::Queue")
    by_name = {}
    for logical_id in queues:
        if logical_id.startswith("DeadLettersFailedInvocations"):
            by_name["failed_invocations"] = logical_id
        elif logical_id.startswith("DeadLettersUndeliveredEvents"):
            by_name["undelivered_events"] = logical_id
    assert set(by_name) == {"failed_invocations", "undelivered_events"}, list(queues)
    return by_name


def _function_id(template: Template, handler: str) -> str:
    found = template.find_resources("AWS::Lambda::Function", {"Properties": {"Handler": handler}})
    assert len(found) == 1, handler
    return next(iter(found))


def _statements_of_role(template: Template, role_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def _role_of(template: Template, function_id: str) -> str:
    function = template.find_resources("AWS::Lambda::Function")[function_id]
    role: str = function["Properties"]["Role"]["Fn::GetAtt"][0]
    return role


def test_dead_letter_queues_are_encrypted_tls_only_and_keep_14_days(synthesized: Any) -> None:
    template = _template(synthesized)
    queues = template.find_resources("AWS::SQS::Queue")
    policies = template.find_resources("AWS::SQS::QueuePolicy")
    for logical_id in _queue_ids(template).values():
        props = queues[logical_id]["Properties"]
        assert props["SqsManagedSseEnabled"] is True
        assert props["MessageRetentionPeriod"] == FOURTEEN_DAYS_S
        statements = [
            s
            for p in policies.values()
            if {"Ref": logical_id} in p["Properties"]["Queues"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ), logical_id


def test_every_asynchronously_invoked_function_has_an_on_failure_queue(synthesized: Any) -> None:
    template = _template(synthesized)
    failed_invocations = _queue_ids(template)["failed_invocations"]
    configs = template.find_resources("AWS::Lambda::EventInvokeConfig")
    destinations = {
        config["Properties"]["FunctionName"]["Ref"]: config["Properties"]["DestinationConfig"]["OnFailure"][
            "Destination"
        ]
        for config in configs.values()
    }
    # Every function an EventBridge rule invokes is invoked asynchronously: all must be covered.
    rule_targets = {
        target["Arn"]["Fn::GetAtt"][0]
        for rule in template.find_resources("AWS::Events::Rule").values()
        for target in rule["Properties"]["Targets"]
    }
    expected = {_function_id(template, handler) for handler in ASYNC_HANDLERS}
    assert rule_targets == expected
    assert set(destinations) == expected
    assert all(d == {"Fn::GetAtt": [failed_invocations, "Arn"]} for d in destinations.values())


def test_every_eventbridge_target_has_the_dead_letter_queue(synthesized: Any) -> None:
    template = _template(synthesized)
    undelivered = _queue_ids(template)["undelivered_events"]
    rules = template.find_resources("AWS::Events::Rule")
    assert len(rules) == 3  # the PO drop rule, the monitor schedule, the follow-ups' daily job
    for logical_id, rule in rules.items():
        for target in rule["Properties"]["Targets"]:
            assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [undelivered, "Arn"]}}, logical_id
            assert "RetryPolicy" in target, logical_id


def test_each_queue_depth_alarms_to_the_alerts_topic(synthesized: Any) -> None:
    template = _template(synthesized)
    topics = template.find_resources("AWS::SNS::Topic")
    assert len(topics) == 1
    topic_id = next(iter(topics))
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    for queue_id in _queue_ids(template).values():
        matching = [
            a["Properties"]
            for a in alarms.values()
            if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
            and a["Properties"]["Dimensions"]
            == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]
        ]
        assert len(matching) == 1, queue_id
        alarm = matching[0]
        assert alarm["Namespace"] == "AWS/SQS"
        assert alarm["Threshold"] == 0
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]


def test_only_eventbridge_for_its_own_rules_may_write_undelivered_events(synthesized: Any) -> None:
    template = _template(synthesized)
    undelivered = _queue_ids(template)["undelivered_events"]
    rules = set(template.find_resources("AWS::Events::Rule"))
    policy = next(
        p
        for p in template.find_resources("AWS::SQS::QueuePolicy").values()
        if {"Ref": undelivered} in p["Properties"]["Queues"]
    )
    allows = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert {s["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::GetAtt"][0] for s in allows} == rules
    for statement in allows:
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert _actions(statement) == ["sqs:SendMessage"]
    # ... and no function role may send to it.
    for function_id in template.find_resources("AWS::Lambda::Function"):
        for statement in _statements_of_role(template, _role_of(template, function_id)):
            if "sqs:SendMessage" in _actions(statement):
                assert repr(statement["Resource"]).count(undelivered) == 0, function_id


def test_only_the_async_functions_may_write_failed_invocations(synthesized: Any) -> None:
    template = _template(synthesized)
    failed_invocations = _queue_ids(template)["failed_invocations"]
    senders = {
        function_id
        for function_id in template.find_resources("AWS::Lambda::Function")
        for statement in _statements_of_role(template, _role_of(template, function_id))
        if "sqs:SendMessage" in _actions(statement) and failed_invocations in repr(statement["Resource"])
    }
    assert senders == {_function_id(template, handler) for handler in ASYNC_HANDLERS}


def test_the_api_may_read_and_delete_dead_letters_and_reinvoke_only_their_functions(synthesized: Any) -> None:
    template = _template(synthesized)
    api_id = _function_id(template, "tray_agent.handlers.api.handler")
    statements = _statements_of_role(template, _role_of(template, api_id))
    for queue_id in _queue_ids(template).values():
        on_queue = [s for s in statements if queue_id in repr(s["Resource"])]
        actions = {a for s in on_queue for a in _actions(s)}
        assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} <= actions
        assert "sqs:SendMessage" not in actions
    invokes = [s for s in statements if "lambda:InvokeFunction" in _actions(s)]
    assert len(invokes) == 1
    assert sorted(r["Fn::GetAtt"][0] for r in invokes[0]["Resource"]) == sorted(
        _function_id(template, handler) for handler in ASYNC_HANDLERS
    )
    variables = template.find_resources("AWS::Lambda::Function")[api_id]["Properties"]["Environment"][
        "Variables"
    ]
    queues = _queue_ids(template)
    assert variables["TRAY_AGENT_FAILED_INVOCATIONS_QUEUE"] == {"Ref": queues["failed_invocations"]}
    assert variables["TRAY_AGENT_UNDELIVERED_EVENTS_QUEUE"] == {"Ref": queues["undelivered_events"]}
    assert variables["TRAY_AGENT_PO_INTAKE_FUNCTION_NAME"] == {
        "Ref": _function_id(template, "tray_agent.handlers.po_intake.handler")
    }
    assert variables["TRAY_AGENT_MONITOR_FUNCTION_NAME"] == {
        "Ref": _function_id(template, "tray_agent.handlers.monitor.handler")
    }
