"""A small CDK stack shaped like the PO pipeline, synthesized for the sfn_local tests.

Classify (Retry on ThrottledError) -> Choice: risky orders wait for a human review
(``.waitForTaskToken``, Catch on ReviewRejectedError) -> Apply (Catch States.ALL into a Fail state).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from aws_cdk.assertions import Template

from tray_local.sfn_local import cdk_logical_id

CLASSIFY_FUNCTION = "sfn-test-classify"  # set as FunctionName in the stack
FILE_REVIEW_FUNCTION = "sfn-test-file-review"  # CDK-generated names: mapped from logical ids
APPLY_FUNCTION = "sfn-test-apply"
RETRY_INTERVAL_S = 1
RETRY_MAX_ATTEMPTS = 3
RETRY_BACKOFF_RATE = 2


@dataclass(frozen=True)
class SynthesizedPipeline:
    template: dict[str, Any]
    state_machine_logical_id: str
    function_logical_ids: dict[str, str]  # physical name we want -> logical id CDK chose


def _function(stack: cdk.Stack, construct_id: str, function_name: str | None = None) -> lambda_.Function:
    return lambda_.Function(
        stack,
        construct_id,
        function_name=function_name,
        runtime=lambda_.Runtime.PYTHON_3_11,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
    )


def synthesize_pipeline() -> SynthesizedPipeline:
    app = cdk.App()
    stack = cdk.Stack(app, "SfnLocalTest")
    classify_fn = _function(stack, "Classify", CLASSIFY_FUNCTION)
    file_review_fn = _function(stack, "FileReview")
    apply_fn = _function(stack, "Apply")

    classify = tasks.LambdaInvoke(
        stack,
        "ClassifyOrder",
        lambda_function=classify_fn,
        result_selector={"kind.$": "$.Payload.kind"},
        result_path="$.classification",
    )
    classify.add_retry(
        errors=["ThrottledError"],
        interval=cdk.Duration.seconds(RETRY_INTERVAL_S),
        max_attempts=RETRY_MAX_ATTEMPTS,
        backoff_rate=RETRY_BACKOFF_RATE,
    )
    file_review = tasks.LambdaInvoke(
        stack,
        "WaitForReview",
        lambda_function=file_review_fn,
        integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        payload=sfn.TaskInput.from_object({"taskToken": sfn.JsonPath.task_token, "order.$": "$"}),
        result_path="$.review",
    )
    review_rejected = sfn.Pass(stack, "ReviewRejected")
    file_review.add_catch(review_rejected, errors=["ReviewRejectedError"], result_path="$.rejection")
    apply = tasks.LambdaInvoke(stack, "ApplyOrder", lambda_function=apply_fn, output_path="$.Payload")
    apply_failed = sfn.Fail(stack, "ApplyFailed", error="ApplyFailed", cause="the apply step raised")
    apply.add_catch(apply_failed, errors=["States.ALL"], result_path="$.error")

    needs_review = (
        sfn.Choice(stack, "NeedsReview")
        .when(sfn.Condition.string_equals("$.classification.kind", "risky"), file_review.next(apply))
        .otherwise(apply)
    )
    machine = sfn.StateMachine(
        stack, "Pipeline", definition_body=sfn.DefinitionBody.from_chainable(classify.next(needs_review))
    )

    return SynthesizedPipeline(
        template=dict(Template.from_stack(stack).to_json()),
        state_machine_logical_id=cdk_logical_id(machine),
        function_logical_ids={
            CLASSIFY_FUNCTION: cdk_logical_id(classify_fn),
            FILE_REVIEW_FUNCTION: cdk_logical_id(file_review_fn),
            APPLY_FUNCTION: cdk_logical_id(apply_fn),
        },
    )
