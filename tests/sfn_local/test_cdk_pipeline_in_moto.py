"""The state machine CDK synthesizes runs in moto's interpreter with plain Python handlers.

Synthesized once per module (node/jsii takes seconds); every test gets a fresh mock_aws.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from moto import mock_aws

from tests.sfn_local.pipeline_stack import (
    APPLY_FUNCTION,
    CLASSIFY_FUNCTION,
    FILE_REVIEW_FUNCTION,
    RETRY_INTERVAL_S,
    RETRY_MAX_ATTEMPTS,
    SynthesizedPipeline,
    synthesize_pipeline,
)
from tray_local.sfn_local import LocalLambdaContext, LocalStepFunctions, definition_from_template


class ThrottledError(Exception):
    """Named like the error the ASL retries on."""


class ApplyRejectedError(Exception):
    pass


@dataclass
class PipelineHandlers:
    """Plain handler functions, scripted per test."""

    throttle_first_calls: int = 0
    apply_raises: Exception | None = None
    classify_calls: int = 0
    filed_reviews: list[dict[str, Any]] = field(default_factory=list)
    contexts: list[LocalLambdaContext] = field(default_factory=list)

    def classify(self, event: dict[str, Any], context: LocalLambdaContext) -> dict[str, Any]:
        self.classify_calls += 1
        self.contexts.append(context)
        if self.classify_calls <= self.throttle_first_calls:
            raise ThrottledError(f"attempt {self.classify_calls} throttled")
        return {"kind": "risky" if event["amount"] > 1000 else "routine"}

    def file_review(self, event: dict[str, Any], context: LocalLambdaContext) -> None:
        # The real handler stores a review item holding the token; a reviewer answers later.
        self.filed_reviews.append(event)

    def apply(self, event: dict[str, Any], context: LocalLambdaContext) -> dict[str, Any]:
        if self.apply_raises is not None:
            raise self.apply_raises
        return {"applied": event["order_id"], "review": event.get("review")}

    def as_mapping(self) -> dict[str, Any]:
        return {
            CLASSIFY_FUNCTION: self.classify,
            FILE_REVIEW_FUNCTION: self.file_review,
            APPLY_FUNCTION: self.apply,
        }


@pytest.fixture(scope="module")
def pipeline() -> SynthesizedPipeline:
    return synthesize_pipeline()


@pytest.fixture(scope="module")
def definition(pipeline: SynthesizedPipeline) -> dict[str, Any]:
    names_by_logical_id = {logical: name for name, logical in pipeline.function_logical_ids.items()}
    return definition_from_template(pipeline.template, pipeline.state_machine_logical_id, names_by_logical_id)


@dataclass
class Harness:
    sfn: LocalStepFunctions
    handlers: PipelineHandlers
    state_machine_arn: str


@pytest.fixture
def harness(definition: dict[str, Any]) -> Iterator[Harness]:
    handlers = PipelineHandlers()
    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        LocalStepFunctions(handlers.as_mapping()) as local_sfn,
    ):
        arn = local_sfn.create_state_machine("po-pipeline", definition)
        yield Harness(local_sfn, handlers, arn)


def test_resolved_definition_is_the_synthesized_asl_with_concrete_lambda_arns(
    definition: dict[str, Any],
) -> None:
    classify = definition["States"]["ClassifyOrder"]
    assert classify["Resource"] == "arn:aws:states:::lambda:invoke"
    assert classify["Parameters"]["FunctionName"] == (
        f"arn:aws:lambda:us-east-1:123456789012:function:{CLASSIFY_FUNCTION}"
    )
    review = definition["States"]["WaitForReview"]
    assert review["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert review["Parameters"]["FunctionName"].endswith(f":function:{FILE_REVIEW_FUNCTION}")
    assert review["Parameters"]["Payload"]["taskToken.$"] == "$$.Task.Token"
    assert "Fn::" not in json.dumps(definition)


def test_routine_order_runs_end_to_end(harness: Harness) -> None:
    started = time.monotonic()
    result = harness.sfn.run(harness.state_machine_arn, {"order_id": "PO-1", "amount": 10})
    elapsed = time.monotonic() - started

    assert result.succeeded, result
    assert result.output == {"applied": "PO-1", "review": None}
    entered = harness.sfn.state_names_entered(result.execution_arn)
    assert entered == ["ClassifyOrder", "NeedsReview", "ApplyOrder"]
    assert [call.function_name for call in harness.sfn.invocations] == [CLASSIFY_FUNCTION, APPLY_FUNCTION]
    assert elapsed < 5  # typically a few tens of milliseconds


def test_handler_gets_a_lambda_context_naming_the_function(harness: Harness) -> None:
    harness.sfn.run(harness.state_machine_arn, {"order_id": "PO-1", "amount": 10})

    (context,) = harness.handlers.contexts
    assert context.function_name == CLASSIFY_FUNCTION
    assert context.invoked_function_arn.endswith(f":function:{CLASSIFY_FUNCTION}")
    assert context.get_remaining_time_in_millis() > 0


def test_named_error_is_retried_and_second_attempt_succeeds(harness: Harness) -> None:
    harness.handlers.throttle_first_calls = 1

    result = harness.sfn.run(harness.state_machine_arn, {"order_id": "PO-2", "amount": 10})

    assert result.succeeded, result
    assert [call.error_type for call in harness.sfn.invocations_of(CLASSIFY_FUNCTION)] == [
        "ThrottledError",
        None,
    ]
    assert harness.sfn.retry_delays == [RETRY_INTERVAL_S]
    failed_attempts = [e for e in harness.sfn.history(result.execution_arn) if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failed_attempts] == ["ThrottledError"]


def test_retries_back_off_then_give_up_with_the_handler_error_name(harness: Harness) -> None:
    harness.handlers.throttle_first_calls = 99
    started = time.monotonic()

    result = harness.sfn.run(harness.state_machine_arn, {"order_id": "PO-3", "amount": 10})

    assert result.status == "FAILED"
    assert result.error == "ThrottledError"
    assert json.loads(result.cause or "{}")["errorMessage"] == "attempt 4 throttled"
    assert harness.handlers.classify_calls == 1 + RETRY_MAX_ATTEMPTS
    assert harness.sfn.retry_delays == [1, 2, 4]  # IntervalSeconds 1, BackoffRate 2
    assert time.monotonic() - started < 5  # 7 s of backoff, not slept (time_scale=0)


def test_catch_routes_a_failing_task_into_the_fail_state_with_error_and_cause(harness: Harness) -> None:
    harness.handlers.apply_raises = ApplyRejectedError("supplier closed")

    result = harness.sfn.run(harness.state_machine_arn, {"order_id": "PO-4", "amount": 10})

    assert result.status == "FAILED"
    assert (result.error, result.cause) == ("ApplyFailed", "the apply step raised")
    history = harness.sfn.history(result.execution_arn)
    (fail_entered,) = [e for e in history if e["type"] == "FailStateEntered"]
    caught = json.loads(fail_entered["stateEnteredEventDetails"]["input"])["error"]
    assert caught["Error"] == "ApplyRejectedError"
    assert json.loads(caught["Cause"])["errorMessage"] == "supplier closed"


def test_risky_order_pauses_on_the_task_token_and_resumes_on_success(harness: Harness) -> None:
    paused = harness.sfn.run(harness.state_machine_arn, {"order_id": "PO-5", "amount": 5000})

    assert paused.paused, paused
    (filed,) = harness.handlers.filed_reviews
    assert filed["taskToken"] == paused.task_token
    assert filed["order"]["order_id"] == "PO-5"

    harness.sfn.send_task_success(paused.task_token, {"approved_by": "dana"})
    result = harness.sfn.wait_for(paused.execution_arn)

    assert result.succeeded, result
    assert result.output == {"applied": "PO-5", "review": {"approved_by": "dana"}}


def test_task_token_failure_with_a_caught_error_takes_the_catch_branch(harness: Harness) -> None:
    paused = harness.sfn.run(harness.state_machine_arn, {"order_id": "PO-6", "amount": 5000})

    harness.sfn.send_task_failure(paused.task_token, "ReviewRejectedError", "price too high")
    result = harness.sfn.wait_for(paused.execution_arn)

    assert result.succeeded, result
    assert result.output["rejection"] == {"Error": "ReviewRejectedError", "Cause": "price too high"}
    assert harness.sfn.state_names_entered(result.execution_arn)[-1] == "ReviewRejected"
    assert harness.sfn.invocations_of(APPLY_FUNCTION) == []


def test_task_token_failure_with_an_uncaught_error_fails_the_execution(harness: Harness) -> None:
    paused = harness.sfn.run(harness.state_machine_arn, {"order_id": "PO-7", "amount": 5000})

    harness.sfn.send_task_failure(paused.task_token, "ReviewExpired", "nobody answered")
    result = harness.sfn.wait_for(paused.execution_arn)

    assert (result.status, result.error, result.cause) == ("FAILED", "ReviewExpired", "nobody answered")


def test_concurrent_executions_each_wait_on_their_own_token(harness: Harness) -> None:
    first = harness.sfn.run(harness.state_machine_arn, {"order_id": "PO-8", "amount": 5000})
    second = harness.sfn.run(harness.state_machine_arn, {"order_id": "PO-9", "amount": 5000})
    assert first.task_token != second.task_token

    harness.sfn.send_task_success(second.task_token, {"approved_by": "lee"})

    assert harness.sfn.wait_for(second.execution_arn).output["applied"] == "PO-9"
    assert harness.sfn.describe(first.execution_arn).paused
