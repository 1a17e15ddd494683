"""LocalStepFunctions on hand-written ASL: the forms and behaviours CDK-free tests can pin down."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Logger
from moto import mock_aws
from moto.core.config import DefaultConfig
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

from tray_local.sfn_local import (
    ExecutionTimeoutError,
    LocalLambdaContext,
    LocalStepFunctions,
    lambda_function_arn,
)

EXECUTE_STATE_MACHINES: DefaultConfig = {"stepfunctions": {"execute_state_machine": True}}


class FooError(Exception):
    pass


class BarError(Exception):
    pass


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws(config=EXECUTE_STATE_MACHINES):
        yield


def _task(resource: str, **fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": resource, **fields}


def test_direct_function_arn_task_retries_one_named_error_and_catches_another(aws: None) -> None:
    raised = [FooError("first"), BarError("second")]

    def flaky(event: dict[str, Any], context: LocalLambdaContext) -> dict[str, Any]:
        raise raised.pop(0)

    definition = {
        "StartAt": "Work",
        "States": {
            "Work": _task(
                lambda_function_arn("flaky"),
                Retry=[{"ErrorEquals": ["FooError"], "IntervalSeconds": 30, "MaxAttempts": 2}],
                Catch=[{"ErrorEquals": ["BarError"], "ResultPath": "$.caught", "Next": "Recovered"}],
                End=True,
            ),
            "Recovered": {"Type": "Pass", "End": True},
        },
    }
    with LocalStepFunctions({"flaky": flaky}) as sfn:
        result = sfn.run(sfn.create_state_machine("direct", definition), {"order_id": "PO-1"})

    assert result.succeeded, result
    assert result.output["order_id"] == "PO-1"
    assert result.output["caught"]["Error"] == "BarError"
    assert sfn.retry_delays == [30]
    assert [call.error_type for call in sfn.invocations] == ["FooError", "BarError"]


def test_direct_function_arn_task_output_is_the_bare_return_value(aws: None) -> None:
    definition = {"StartAt": "Work", "States": {"Work": _task(lambda_function_arn("double"), End=True)}}

    with LocalStepFunctions({"double": lambda event, context: {"n": event["n"] * 2}}) as sfn:
        result = sfn.run(sfn.create_state_machine("bare", definition), {"n": 21})

    assert result.output == {"n": 42}


def test_handlers_may_be_keyed_by_arn(aws: None) -> None:
    definition = {
        "StartAt": "Work",
        "States": {
            "Work": _task(
                "arn:aws:states:::lambda:invoke",
                Parameters={"FunctionName": "echo", "Payload.$": "$"},
                OutputPath="$.Payload",
                End=True,
            )
        },
    }

    with LocalStepFunctions({lambda_function_arn("echo"): lambda event, context: event}) as sfn:
        result = sfn.run(sfn.create_state_machine("by-arn", definition), {"x": 1})

    assert result.output == {"x": 1}


def test_wait_states_do_not_sleep_by_default_and_record_the_asked_duration(aws: None) -> None:
    definition = {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    started = time.monotonic()

    with LocalStepFunctions({}) as sfn:
        result = sfn.run(sfn.create_state_machine("nap", definition), {})

    assert result.succeeded
    assert sfn.wait_state_delays == [3600]
    assert time.monotonic() - started < 5


def test_time_scale_sleeps_a_fraction_of_the_asked_duration(aws: None) -> None:
    definition = {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 2, "End": True}}}
    started = time.monotonic()

    with LocalStepFunctions({}, time_scale=0.1) as sfn:
        sfn.run(sfn.create_state_machine("scaled", definition), {})

    assert time.monotonic() - started >= 0.2


def test_wait_for_gives_up_after_its_budget(aws: None) -> None:
    definition = {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 60, "End": True}}}

    with LocalStepFunctions({}, time_scale=1) as sfn:
        execution_arn = sfn.start(sfn.create_state_machine("slow", definition), {})
        with pytest.raises(ExecutionTimeoutError):
            sfn.wait_for(execution_arn, timeout_s=0.2)
        sfn.client.stop_execution(executionArn=execution_arn)
        assert sfn.wait_for(execution_arn).status == "ABORTED"


def test_missing_handler_fails_the_task_naming_the_known_handlers(aws: None) -> None:
    definition = {"StartAt": "Work", "States": {"Work": _task(lambda_function_arn("ghost"), End=True)}}

    with LocalStepFunctions({"echo": lambda event, context: event}) as sfn:
        result = sfn.run(sfn.create_state_machine("ghost", definition), {})

    assert result.error == "Lambda.ResourceNotFoundException"
    assert "ghost" in (result.cause or "")
    assert "echo" in (result.cause or "")


def test_a_return_value_json_cannot_encode_fails_like_the_lambda_runtime(aws: None) -> None:
    definition = {"StartAt": "Work", "States": {"Work": _task(lambda_function_arn("leaky"), End=True)}}

    with LocalStepFunctions({"leaky": lambda event, context: {"when": object()}}) as sfn:
        result = sfn.run(sfn.create_state_machine("leaky", definition), {})

    assert result.error == "Runtime.MarshalError"


def test_a_handler_files_its_task_token_in_dynamodb_and_a_reviewer_resumes_it(aws: None) -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName="reviews",
        KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )

    def file_review(event: dict[str, Any], context: LocalLambdaContext) -> None:
        # Runs on moto's execution thread: boto3 calls still reach the caller's mock_aws.
        boto3.client("dynamodb", region_name="us-east-1").put_item(
            TableName="reviews",
            Item={"order_id": {"S": event["order_id"]}, "task_token": {"S": event["token"]}},
        )

    definition = {
        "StartAt": "Review",
        "States": {
            "Review": _task(
                "arn:aws:states:::lambda:invoke.waitForTaskToken",
                Parameters={
                    "FunctionName": lambda_function_arn("file-review"),
                    "Payload": {"order_id.$": "$.order_id", "token.$": "$$.Task.Token"},
                },
                ResultPath="$.decision",
                End=True,
            )
        },
    }
    with LocalStepFunctions({"file-review": file_review}) as sfn:
        paused = sfn.run(sfn.create_state_machine("review", definition), {"order_id": "PO-9"})
        item = dynamodb.get_item(TableName="reviews", Key={"order_id": {"S": "PO-9"}})["Item"]
        assert paused.waiting_task_tokens == (item["task_token"]["S"],)

        boto3.client("stepfunctions", region_name="us-east-1").send_task_success(
            taskToken=item["task_token"]["S"], output='{"approved": true}'
        )
        result = sfn.wait_for(paused.execution_arn)

    assert result.output == {"order_id": "PO-9", "decision": {"approved": True}}


def test_powertools_decorated_handlers_accept_the_local_context(aws: None) -> None:
    logger = Logger(service="sfn-local-test")

    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        logger.info("handled")
        return {"request_id": context.aws_request_id}

    definition = {"StartAt": "Work", "States": {"Work": _task(lambda_function_arn("logged"), End=True)}}
    with LocalStepFunctions({"logged": handler}) as sfn:
        result = sfn.run(sfn.create_state_machine("logged", definition), {})

    assert result.succeeded, result
    assert result.output["request_id"]


def test_entering_without_the_executing_backend_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # Patched rather than a plain mock_aws(): another test may already hold a process-wide
    # mock with the executing backend on, and a nested mock_aws() inherits its config.
    from moto.core.config import default_user_config

    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": False})
    with pytest.raises(RuntimeError, match="execute_state_machine"), LocalStepFunctions({}):
        pass


def test_only_one_instance_may_be_active_and_exit_restores_moto(aws: None) -> None:
    original = lambda_eval_utils._invoke_lambda_function

    with LocalStepFunctions({}):
        assert lambda_eval_utils._invoke_lambda_function is not original
        with pytest.raises(RuntimeError, match="another LocalStepFunctions"), LocalStepFunctions({}):
            pass

    assert lambda_eval_utils._invoke_lambda_function is original
    with LocalStepFunctions({}):  # and the guard is released
        pass


def test_executions_still_running_at_exit_are_stopped(aws: None) -> None:
    definition = {
        "StartAt": "Review",
        "States": {
            "Review": _task(
                "arn:aws:states:::lambda:invoke.waitForTaskToken",
                Parameters={"FunctionName": "file-review", "Payload": {"token.$": "$$.Task.Token"}},
                End=True,
            )
        },
    }

    with LocalStepFunctions({"file-review": lambda event, context: None}) as sfn:
        paused = sfn.run(sfn.create_state_machine("abandoned", definition), {})
        assert paused.paused

    described = boto3.client("stepfunctions", region_name="us-east-1").describe_execution(
        executionArn=paused.execution_arn
    )
    # Not RUNNING: moto lets the interrupted token wait's States.Timeout override the stop (FAILED).
    assert described["status"] in {"ABORTED", "FAILED"}
