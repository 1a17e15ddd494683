"""The PO pipeline's infrastructure, checked on the synthesized template (cdk-nag included)."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match, Template

from tray_local.po_local import pipeline_definition


def _template(synthesized: Any) -> Template:
    return synthesized[0]


def _definition(template: Template) -> dict[str, Any]:
    return pipeline_definition(dict(template.to_json()))


def _po_functions(template: Template) -> dict[str, Any]:
    functions: dict[str, Any] = template.find_resources("AWS::Lambda::Function")
    return {
        props["Properties"]["Handler"].split(".")[2]: props
        for props in functions.values()
        if props["Properties"]["Handler"].startswith("tray_agent.handlers.po_")
    }


def test_one_small_function_per_state_plus_the_intake(synthesized: Any) -> None:
    functions = _po_functions(_template(synthesized))
    assert sorted(functions) == [
        "po_extract", "po_hold", "po_intake", "po_parse", "po_record", "po_review", "po_trigger",
        "po_validate",
    ]  # fmt: skip
    for function in functions.values():
        assert function["Properties"]["Environment"]["Variables"]["TRAY_AGENT_PO_BUCKET"]


def test_drop_bucket_is_encrypted_ssl_only_private_logged_and_notifies_eventbridge(synthesized: Any) -> None:
    template = _template(synthesized)
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LoggingConfiguration": {
                "DestinationBucketName": Match.any_value(),
                "LogFilePrefix": "po-drops/",
            },
            "NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}},
        },
    )
    policies = template.find_resources("AWS::S3::BucketPolicy")
    denies_plain_http = [
        statement
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    # Every bucket (the drop bucket, its access-log bucket, the payloads bucket) refuses plain HTTP.
    assert len(denies_plain_http) == len(template.find_resources("AWS::S3::Bucket")) == 3
    template.resource_count_is("Custom::S3BucketNotifications", 0)  # no helper Lambda for notifications


def test_object_created_in_the_inbox_invokes_the_intake_function(synthesized: Any) -> None:
    template = _template(synthesized)
    rules = template.find_resources(
        "AWS::Events::Rule",
        {
            "Properties": {
                "EventPattern": {
                    "source": ["aws.s3"],
                    "detail-type": ["Object Created"],
                    "detail": {"object": {"key": [{"prefix": "inbox/"}]}},
                }
            }
        },
    )
    ((_, rule),) = rules.items()
    (target,) = rule["Properties"]["Targets"]
    intake_id = next(
        logical_id
        for logical_id, fn in template.find_resources("AWS::Lambda::Function").items()
        if fn["Properties"]["Handler"] == "tray_agent.handlers.po_intake.handler"
    )
    assert target["Arn"] == {"Fn::GetAtt": [intake_id, "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 8


def test_state_machine_logs_without_execution_data_and_is_traced(synthesized: Any) -> None:
    _template(synthesized).has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": {
                "Level": "ALL",
                "IncludeExecutionData": False,
                "Destinations": Match.any_value(),
            },
        },
    )


def test_states_flow_and_every_task_catches_into_record(synthesized: Any) -> None:
    states = _definition(_template(synthesized))["States"]
    assert _definition(_template(synthesized))["StartAt"] == "Extract"
    assert [states[name]["Next"] for name in ("Extract", "Parse", "Validate")] == [
        "Parse",
        "Validate",
        "NeedsReview",
    ]
    (branch,) = states["NeedsReview"]["Choices"]
    assert (branch["Variable"], branch["BooleanEquals"], branch["Next"]) == ("$.needs_review", True, "Review")
    assert states["NeedsReview"]["Default"] == "Trigger"
    assert states["Review"]["Next"] == "Trigger"
    assert states["Trigger"]["Next"] == "Record"
    for name in ("Extract", "Parse", "Validate", "Review", "Hold"):
        assert states[name]["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Record"}
        ]
    # Trigger: Tray unavailable → Hold first; everything else (States.ALL, last) → Record.
    hold_catch, other_catch = states["Trigger"]["Catch"]
    assert set(hold_catch["ErrorEquals"]) == {
        "TrayRateLimitedError", "TrayServerError", "TrayTransportError", "TrayTimeoutError",
        "TrayRetryLaterError",
    }  # fmt: skip
    assert (hold_catch["ResultPath"], hold_catch["Next"]) == ("$.error", "Hold")
    assert other_catch == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Record"}
    assert states["Outcome"]["Choices"][0]["Next"] == "Failed"
    assert states["Outcome"]["Default"] == "Done"


def test_hold_waits_the_time_it_computed_then_tries_trigger_again(synthesized: Any) -> None:
    definition = _definition(_template(synthesized))
    states = definition["States"]
    assert states["Hold"]["Next"] == "HoldWait"
    assert states["HoldWait"] == {"Type": "Wait", "SecondsPath": "$.hold.wait_s", "Next": "Trigger"}
    # The execution outlives a week in review plus the default 24 h hold window.
    assert definition.get("TimeoutSeconds", 0) >= 8 * 24 * 3600


def test_every_task_retries_lambda_and_storage_transients_with_backoff(synthesized: Any) -> None:
    states = _definition(_template(synthesized))["States"]
    transient = {
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
        "TransientStorageError",
    }
    tasks = [name for name, state in states.items() if state["Type"] == "Task"]
    assert sorted(tasks) == ["Extract", "Hold", "Parse", "Record", "Review", "Trigger", "Validate"]
    for name in tasks:
        (retry,) = [r for r in states[name]["Retry"] if "TransientStorageError" in r["ErrorEquals"]]
        assert set(retry["ErrorEquals"]) == transient, name
        assert retry["BackoffRate"] == 2
        assert retry["MaxAttempts"] >= 3


def test_review_waits_for_a_task_token_with_a_timeout(synthesized: Any) -> None:
    review = _definition(_template(synthesized))["States"]["Review"]
    assert review["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert review["Parameters"]["Payload"] == {"task_token.$": "$$.Task.Token", "state.$": "$"}
    assert review["ResultPath"] == "$.review"
    assert review["TimeoutSeconds"] == 7 * 24 * 3600


def test_trigger_retries_tray_throttling_and_server_errors_with_backoff(synthesized: Any) -> None:
    retries = _definition(_template(synthesized))["States"]["Trigger"]["Retry"]
    tray = next(r for r in retries if "TrayRateLimitedError" in r["ErrorEquals"])
    assert set(tray["ErrorEquals"]) >= {"TrayRateLimitedError", "TrayServerError"}
    assert tray["BackoffRate"] == 2
    assert tray["MaxAttempts"] >= 3
    assert any("Lambda.TooManyRequestsException" in r["ErrorEquals"] for r in retries)
    assert not any("TrayRetryLaterError" in r["ErrorEquals"] for r in retries)  # held, not retried


def _statements_of(template: Template, handler: str) -> list[dict[str, Any]]:
    functions = template.find_resources("AWS::Lambda::Function")
    (role_ref,) = [
        fn["Properties"]["Role"]["Fn::GetAtt"][0]
        for fn in functions.values()
        if fn["Properties"]["Handler"] == f"tray_agent.handlers.{handler}.handler"
    ]
    policies = template.find_resources("AWS::IAM::Policy")
    return [
        statement
        for policy in policies.values()
        if {"Ref": role_ref} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_grants_are_least_privilege(synthesized: Any) -> None:
    template = _template(synthesized)
    validate_statements = _statements_of(template, "po_validate")
    validate = json.dumps(validate_statements)
    assert "dynamodb:PutItem" not in validate  # read-only on catalog and intake
    # S3 only for large orders' offloaded states, under state/.
    assert all(
        json.dumps(s["Resource"]).endswith('"/state/*"]]}')
        for s in validate_statements
        if str(s["Action"]).startswith("s3:")
    )
    intake = json.dumps(_statements_of(template, "po_intake"))
    assert "states:StartExecution" in intake
    assert "s3:PutObject" not in intake
    extract = _statements_of(template, "po_extract")
    puts = [s for s in extract if s["Action"] == "s3:PutObject"]
    assert len(puts) == 1
    assert json.dumps(puts[0]["Resource"]).endswith('"/work/*"]]}')
    api = json.dumps(_statements_of(template, "api"))
    assert "states:SendTaskSuccess" in api
    assert "states:SendTaskFailure" in api
    assert "states:StartExecution" in api  # POST /po/intake/{id}/rerun
    hold_statements = _statements_of(template, "po_hold")
    hold = json.dumps(hold_statements)
    assert "dynamodb:PutItem" in hold
    assert all(
        json.dumps(s["Resource"]).endswith('"/state/*"]]}')
        for s in hold_statements
        if str(s["Action"]).startswith("s3:")
    )
    assert "secretsmanager:" not in hold


def test_failed_executions_alarm_the_operators(synthesized: Any) -> None:
    _template(synthesized).has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "ExecutionsFailed", "Namespace": "AWS/States", "AlarmActions": Match.any_value()},
    )
