"""Dead letters, shaped as AWS writes them, redriven through the API and the CLI to our real handlers.

The queues live in moto; ``LocalEnvironment``'s ``LocalLambda`` answers Lambda's Invoke by running
our handlers in-process and, like Lambda's on-failure destination, files a record when a handler
raises. Faults are injected into our own boto3 Lambda client.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tray_agent.config import Settings
from tray_agent.data import aws
from tray_local.cli import main
from tray_local.demo_monitor import scheduled_event
from tray_local.local_aws import create_tables, queue_name
from tray_local.po_local import object_created_event
from tray_local.sfn_local import DEFAULT_ACCOUNT, DEFAULT_REGION, lambda_function_arn
from tray_local.simulator import TraySimulator

FAILED = "failed_invocations"
UNDELIVERED = "undelivered_events"


@dataclass
class DeadLetterEnv:
    local: Any  # the session's LocalEnvironment: .api(...), .lambdas
    settings: Settings


@pytest.fixture(scope="module")
def env(local_env: Any) -> Iterator[DeadLetterEnv]:
    """The session environment, with a Tray simulator and monitor table of this module's own (a
    redriven monitor tick must not act on other tests' executions), no state machine (so a PDF's
    intake fails, as before a deploy finished), and short polling (moto answers every receive)."""
    suffix = uuid.uuid4().hex[:8]
    with (
        TraySimulator(time_factor=0.01, seed=5) as sim,
        local_env.reconfigured(
            TRAY_AGENT_TRAY_API_BASE_URL=sim.base_url,
            TRAY_AGENT_TRAY_WEBHOOK_BASE_URL=sim.base_url,
            TRAY_AGENT_TRAY_MASTER_TOKEN=sim.master_token,
            TRAY_AGENT_TRAY_USER_TOKEN=sim.user_token,
            TRAY_AGENT_MONITOR_TABLE=f"monitor-dl-{suffix}",
            TRAY_AGENT_PO_STATE_MACHINE_ARN="",
            TRAY_AGENT_DEAD_LETTER_WAIT_S="0",
        ) as settings,
    ):
        create_tables(settings)
        s3 = boto3.client("s3", region_name=DEFAULT_REGION)
        if settings.po_bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
            s3.create_bucket(Bucket=settings.po_bucket)
        yield DeadLetterEnv(local=local_env, settings=settings)


@pytest.fixture(autouse=True)
def empty_queues(env: DeadLetterEnv) -> Iterator[None]:
    """Each test starts with empty queues (drained: SQS allows one PurgeQueue a minute)."""
    sqs = boto3.client("sqs", region_name=DEFAULT_REGION)
    for name in (env.settings.failed_invocations_queue, env.settings.undelivered_events_queue):
        url = _queue_url(name)
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    yield


# -- dead letters as AWS shapes them ------------------------------------------------------------


def _queue_url(name_or_url: str) -> str:
    sqs = boto3.client("sqs", region_name=DEFAULT_REGION)
    return str(sqs.get_queue_url(QueueName=queue_name(name_or_url))["QueueUrl"])


def send_invocation_record(
    settings: Settings,
    function: str,
    payload: Any,
    *,
    error: str = "ConfigurationError",
    message: str = "boom",
) -> str:
    """Lambda's on-failure destination record after the async retries were used up."""
    record = {
        "version": "1.0",
        "timestamp": "2026-12-01T07:00:05.568Z",
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"{lambda_function_arn(function)}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": payload,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": message, "errorType": error, "requestId": "", "stackTrace": []},
    }
    sqs = boto3.client("sqs", region_name=DEFAULT_REGION)
    sent = sqs.send_message(
        QueueUrl=_queue_url(settings.failed_invocations_queue), MessageBody=json.dumps(record)
    )
    return str(sent["MessageId"])


def send_undelivered_event(settings: Settings, function: str, event: dict[str, Any], rule: str) -> str:
    """What EventBridge puts in a target's DLQ: the event itself, the failure in attributes."""

    def text(value: str) -> dict[str, str]:
        return {"DataType": "String", "StringValue": value}

    sqs = boto3.client("sqs", region_name=DEFAULT_REGION)
    sent = sqs.send_message(
        QueueUrl=_queue_url(settings.undelivered_events_queue),
        MessageBody=json.dumps(event),
        MessageAttributes={
            "RULE_ARN": text(f"arn:aws:events:{DEFAULT_REGION}:{DEFAULT_ACCOUNT}:rule/{rule}"),
            "TARGET_ARN": text(lambda_function_arn(function)),
            "ERROR_CODE": text("SDK_CLIENT_ERROR"),
            "ERROR_MESSAGE": text("Unable to invoke Lambda function: Rate Exceeded."),
            "EXHAUSTED_RETRY_CONDITION": text("MaximumRetryAttempts"),
            "RETRY_ATTEMPTS": text("0"),
        },
    )
    return str(sent["MessageId"])


def drop_object(settings: Settings, key: str, body: bytes) -> dict[str, Any]:
    """An object in the PO bucket, and the "Object Created" event EventBridge sends for it."""
    s3 = boto3.client("s3", region_name=DEFAULT_REGION)
    put = s3.put_object(Bucket=settings.po_bucket, Key=key, Body=body)
    return object_created_event(settings.po_bucket, key, put["ETag"], len(body))


# -- the two ways in ----------------------------------------------------------------------------


def redrive(
    env: DeadLetterEnv, channel: str, capsys: pytest.CaptureFixture[str], **request: Any
) -> dict[str, Any]:
    if channel == "api":
        answer = env.local.api("POST", "/dead-letters/redrive", request)
        assert answer.status == 200, answer.body
        report: dict[str, Any] = answer.body
        return report
    argv = ["redrive", "--json"]
    if request.get("queue"):
        argv += ["--queue", request["queue"]]
    for message_id in request.get("message_ids") or ():
        argv += ["--message-id", message_id]
    capsys.readouterr()
    code = main(argv)
    report = json.loads(capsys.readouterr().out)
    assert code == (1 if report["failed"] else 0)
    return report


def listing(env: DeadLetterEnv, **query: str) -> dict[str, dict[str, Any]]:
    answer = env.local.api("GET", "/dead-letters", query=query or None)
    assert answer.status == 200, answer.body
    return {entry["queue"]: entry for entry in answer.body["queues"]}


# -- tests ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["api", "cli"])
def test_a_failed_intake_invocation_reaches_the_real_handler_once_and_leaves_the_queue(
    env: DeadLetterEnv, channel: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = env.settings
    key = f"inbox/{uuid.uuid4().hex}.png"
    event = drop_object(settings, key, b"\x89PNG\r\n not a purchase order")
    message_id = send_invocation_record(
        settings, settings.po_intake_function_name, event, message="po_state_machine_arn is not configured"
    )
    before = len(env.local.lambdas.invocations_of(settings.po_intake_function_name))

    waiting = listing(env)[FAILED]
    assert waiting["waiting"] == 1
    [letter] = waiting["letters"]
    assert letter["message_id"] == message_id
    assert letter["function"] == settings.po_intake_function_name
    assert letter["reason"] == "RetriesExhausted: ConfigurationError: po_state_machine_arn is not configured"
    assert letter["attempts"] == 3
    assert letter["payload"] == event
    assert letter["problem"] is None

    report = redrive(env, channel, capsys, queue=FAILED)

    assert report["redriven"] == 1 and report["failed"] == 0
    assert report["results"][0]["message_id"] == message_id
    assert report["results"][0]["status"] == "redriven"
    calls = env.local.lambdas.invocations_of(settings.po_intake_function_name)[before:]
    assert [(c.event, c.error_type) for c in calls] == [(event, None)]
    assert listing(env)[FAILED] == {"queue": FAILED, "waiting": 0, "letters": []}
    # The handler really ran on the original notice: the refused document is on record.
    intakes = env.local.api("GET", "/po/intake", query={"bucket": settings.po_bucket, "key": key})
    assert intakes.status == 200
    assert [r["status"] for r in intakes.body] == ["refused"]


@pytest.mark.parametrize("channel", ["api", "cli"])
def test_an_undelivered_schedule_event_reaches_the_monitor_once_and_leaves_the_queue(
    env: DeadLetterEnv, channel: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = env.settings
    tick = scheduled_event(datetime.now(UTC))
    message_id = send_undelivered_event(settings, settings.monitor_function_name, tick, "tray-agent-monitor")
    before = len(env.local.lambdas.invocations_of(settings.monitor_function_name))

    [letter] = listing(env, queue=UNDELIVERED)[UNDELIVERED]["letters"]
    assert letter["function"] == settings.monitor_function_name
    assert letter["rule_arn"].endswith(":rule/tray-agent-monitor")
    assert letter["reason"].startswith("SDK_CLIENT_ERROR: Unable to invoke Lambda function")
    assert letter["payload"] == tick

    report = redrive(env, channel, capsys, queue=UNDELIVERED)

    assert [(r["message_id"], r["status"], r["function"]) for r in report["results"]] == [
        (message_id, "redriven", settings.monitor_function_name)
    ]
    calls = env.local.lambdas.invocations_of(settings.monitor_function_name)[before:]
    assert [(c.event, c.error_type) for c in calls] == [(tick, None)]
    assert listing(env)[UNDELIVERED]["waiting"] == 0


@pytest.mark.parametrize("channel", ["api", "cli"])
def test_a_refused_resubmission_leaves_the_message_and_says_why(
    env: DeadLetterEnv, channel: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = env.settings
    tick = scheduled_event(datetime.now(UTC))
    message_id = send_undelivered_event(settings, settings.monitor_function_name, tick, "tray-agent-monitor")
    before = len(env.local.lambdas.invocations_of(settings.monitor_function_name))

    def throttled(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "TooManyRequestsException", "Message": "Rate Exceeded."}}, "Invoke"
        )

    events = aws.client("lambda").meta.events
    events.register_first("before-call.lambda.Invoke", throttled)
    try:
        report = redrive(env, channel, capsys)
    finally:
        events.unregister("before-call.lambda.Invoke", throttled)

    assert report["redriven"] == 0 and report["failed"] == 1
    [result] = report["results"]
    assert result["message_id"] == message_id and result["status"] == "failed"
    assert "TooManyRequestsException: Rate Exceeded." in result["reason"]
    assert env.local.lambdas.invocations_of(settings.monitor_function_name)[before:] == []
    still = listing(env)[UNDELIVERED]
    assert still["waiting"] == 1 and [m["message_id"] for m in still["letters"]] == [message_id]

    # Once Lambda takes invocations again, the same message goes through.
    again = redrive(env, channel, capsys)
    assert [(r["message_id"], r["status"]) for r in again["results"]] == [(message_id, "redriven")]
    assert len(env.local.lambdas.invocations_of(settings.monitor_function_name)[before:]) == 1


def test_a_redriven_invocation_that_fails_again_comes_back_as_a_new_dead_letter(
    env: DeadLetterEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = env.settings
    event = drop_object(settings, f"inbox/{uuid.uuid4().hex}.pdf", b"%PDF-1.4\n%%EOF\n")
    first = send_invocation_record(settings, settings.po_intake_function_name, event)

    report = redrive(env, "api", capsys)

    # Accepted (the invocation was queued), so the old message is gone; the handler failed again
    # (no state machine), so Lambda's destination filed a new record with today's reason.
    assert [(r["message_id"], r["status"]) for r in report["results"]] == [(first, "redriven")]
    [letter] = listing(env)[FAILED]["letters"]
    assert letter["message_id"] != first
    assert letter["payload"] == event
    assert letter["reason"] == "RetriesExhausted: ConfigurationError: po_state_machine_arn is not configured"


def test_messages_that_cannot_be_redriven_are_reported_and_kept(
    env: DeadLetterEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = env.settings
    stranger = send_invocation_record(settings, "someone-elses-function", {"x": 1})
    sqs = boto3.client("sqs", region_name=DEFAULT_REGION)
    garbage = str(
        sqs.send_message(QueueUrl=_queue_url(settings.failed_invocations_queue), MessageBody="not json")[
            "MessageId"
        ]
    )
    no_target = str(
        sqs.send_message(QueueUrl=_queue_url(settings.undelivered_events_queue), MessageBody="{}")[
            "MessageId"
        ]
    )
    calls_before = len(env.local.lambdas.invocations)

    report = redrive(env, "cli", capsys)

    reasons = {r["message_id"]: r["reason"] for r in report["results"] if r["status"] == "failed"}
    assert set(reasons) == {stranger, garbage, no_target} and report["redriven"] == 0
    assert "someone-elses-function is not a function dead letters are redriven to" in reasons[stranger]
    assert reasons[garbage] == "the message body is not JSON"
    assert reasons[no_target] == "no TARGET_ARN attribute: not an EventBridge dead letter"
    assert len(env.local.lambdas.invocations) == calls_before
    waiting = listing(env)
    assert waiting[FAILED]["waiting"] == 2 and waiting[UNDELIVERED]["waiting"] == 1
    assert all(letter["problem"] for entry in waiting.values() for letter in entry["letters"])


def test_only_the_named_messages_are_redriven(env: DeadLetterEnv, capsys: pytest.CaptureFixture[str]) -> None:
    settings = env.settings
    chosen = send_undelivered_event(
        settings, settings.monitor_function_name, scheduled_event(), "tray-agent-monitor"
    )
    other = send_undelivered_event(
        settings, settings.monitor_function_name, scheduled_event(), "tray-agent-monitor"
    )

    report = redrive(env, "api", capsys, message_ids=[chosen, "no-such-message"])

    assert {(r["message_id"], r["status"]) for r in report["results"]} == {
        (chosen, "redriven"),
        ("no-such-message", "failed"),
    }
    assert [m["message_id"] for m in listing(env)[UNDELIVERED]["letters"]] == [other]


def test_listing_changes_nothing(env: DeadLetterEnv, capsys: pytest.CaptureFixture[str]) -> None:
    settings = env.settings
    ids = {
        send_undelivered_event(settings, settings.monitor_function_name, scheduled_event(), "r")
        for _ in range(12)  # more than one receive batch
    }
    first = listing(env, queue=UNDELIVERED, limit="100")[UNDELIVERED]
    second = listing(env, queue=UNDELIVERED, limit="100")[UNDELIVERED]
    assert {m["message_id"] for m in first["letters"]} == ids == {m["message_id"] for m in second["letters"]}
    assert first["waiting"] == second["waiting"] == 12
    assert len(listing(env, queue=UNDELIVERED, limit="5")[UNDELIVERED]["letters"]) == 5

    capsys.readouterr()
    assert main(["redrive", "--list", "--queue", UNDELIVERED]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"{UNDELIVERED}: 12 waiting\n")
    assert all(message_id in printed for message_id in ids)
    assert listing(env, queue=UNDELIVERED)[UNDELIVERED]["waiting"] == 12


def test_dead_letters_need_a_reviewer_token_and_a_well_formed_request(env: DeadLetterEnv) -> None:
    assert env.local.api("GET", "/dead-letters", auth=False).status == 401
    assert env.local.api("POST", "/dead-letters/redrive", {}, auth=False).status == 401
    unknown = env.local.api("POST", "/dead-letters/redrive", {"queues": FAILED})
    assert unknown.status == 422 and "queues" in unknown.body["message"]
    bad_queue = env.local.api("POST", "/dead-letters/redrive", {"queue": "elsewhere"})
    assert bad_queue.status == 422 and "queue" in bad_queue.body["message"]
    assert env.local.api("GET", "/dead-letters", query={"limit": "0"}).status == 422


def test_a_record_of_an_event_too_old_to_run_is_redrivable_and_says_so() -> None:
    """Lambda drops an event that waited past its maximum age with no response at all."""
    from tray_agent.data.dead_letters import QueuedMessage
    from tray_agent.domain.redrive import read_dead_letter
    from tray_agent.models.dead_letters import DeadLetterQueue

    record = {
        "version": "1.0",
        "timestamp": "2026-12-01T07:10:00.000Z",
        "requestContext": {
            "requestId": "r-1",
            "functionArn": "arn:aws:lambda:eu-west-1:111122223333:function:TrayAgent-MonitorFn-AbC:$LATEST",
            "condition": "EventAgeExceeded",
            "approximateInvokeCount": 0,
        },
        "requestPayload": {"detail-type": "Scheduled Event"},
    }
    message = QueuedMessage("m-1", "h-1", json.dumps(record), {"ApproximateReceiveCount": "2"})
    letter = read_dead_letter(
        DeadLetterQueue.FAILED_INVOCATIONS, message, frozenset({"TrayAgent-MonitorFn-AbC"})
    )
    assert letter.function == "TrayAgent-MonitorFn-AbC"
    assert letter.reason == "EventAgeExceeded"
    assert letter.failed_at == datetime(2026, 12, 1, 7, 10, tzinfo=UTC)
    assert (letter.attempts, letter.times_received, letter.problem) == (0, 2, None)
    assert letter.payload == {"detail-type": "Scheduled Event"}
