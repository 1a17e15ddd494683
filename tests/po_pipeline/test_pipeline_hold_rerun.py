"""Purchase orders survive transient faults, wait out Tray outages, and can be re-run when they fail.

The state machine CDK synthesizes, run by moto's interpreter with our real handlers in-process;
Tray is the simulator over HTTP. Faults go into our own boto3 clients (a botocore event hook
raising the error botocore would raise after its own retries) or into the simulator.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.po_pipeline.conftest import unique
from tests.po_pipeline.test_pipeline_e2e import (
    _price_discrepancy,
    approve,
    clean_order,
    email_with,
    intake,
    reject,
    tray_runs,
)
from tray_agent.config import get_settings
from tray_agent.data import aws
from tray_agent.models.po_pipeline import IntakeStatus
from tray_local.po_documents import render_pdf

pytestmark = pytest.mark.slow

ORDER_WEBHOOK = "/webhooks/2d9b6c30-order-processing"
TRIGGER_INVOCATIONS_PER_HOLD = 5  # the first try and the Trigger Retry's 4 (MaxAttempts)


@contextmanager
def aws_fails(
    client: Any,
    operation: str,
    matches: Callable[[dict[str, Any]], bool],
    *,
    code: str,
    status: int,
    times: int = 1,
) -> Iterator[list[str]]:
    """The next ``times`` matching calls of ``client`` fail as botocore reports a retryable error
    once its own retries are spent: raised before anything is sent, so nothing happens in moto.
    """
    failed: list[str] = []
    event = f"before-parameter-build.{client.meta.service_model.service_id.hyphenize()}.{operation}"

    def hook(params: dict[str, Any], **_: Any) -> None:
        if len(failed) < times and matches(params):
            failed.append(operation)
            error = {"Code": code, "Message": "injected"}
            raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)

    client.meta.events.register(event, hook, unique_id=f"fault-{id(hook)}")
    try:
        yield failed
    finally:
        client.meta.events.unregister(event, unique_id=f"fault-{id(hook)}")


def failed_lambda_errors(po_pipeline: Any, execution_arn: str) -> list[str]:
    return [
        e["lambdaFunctionFailedEventDetails"]["error"]
        for e in po_pipeline.sfn.history(execution_arn)
        if e["type"] == "LambdaFunctionFailed"
    ]


def _dynamodb() -> Any:
    return aws.dynamodb().meta.client


def _table_is(name: Callable[[], str]) -> Callable[[dict[str, Any]], bool]:
    return lambda params: params.get("TableName") == name()


def _records_status(status: str) -> Callable[[dict[str, Any]], bool]:
    def matches(params: dict[str, Any]) -> bool:
        item = json.dumps(params.get("Item", {}), default=str)
        return params.get("TableName") == get_settings().po_intake_table and f'"{status}"' in item

    return matches


def _is_claim(params: dict[str, Any]) -> bool:
    return params.get("TableName") == get_settings().po_intake_table and "claim#" in json.dumps(
        params.get("Item", {}), default=str
    )


@dataclass(frozen=True)
class StorageFault:
    state: str  # the state whose handler meets the fault
    function: str
    client: Callable[[], Any]
    operation: str
    matches: Callable[[dict[str, Any]], bool]
    code: str
    status: int


STORAGE_FAULTS = [
    # Parse reads the extracted PDF: S3 asks to slow down
    StorageFault(
        "Parse", "po_parse", lambda: aws.client("s3"), "GetObject",
        lambda params: params.get("Key", "").startswith("work/"), "SlowDown", 503,
    ),
    # Validate reads the catalog: DynamoDB throttles
    StorageFault(
        "Validate", "po_validate", _dynamodb, "Query",
        _table_is(lambda: get_settings().catalog_table), "ProvisionedThroughputExceededException", 400,
    ),
    # Trigger claims the PO number before it calls Tray: DynamoDB answers 500
    StorageFault("Trigger", "po_trigger", _dynamodb, "PutItem", _is_claim, "InternalServerError", 500),
    # Record, after Tray took the order: the retry must not order again
    StorageFault(
        "Record", "po_record", _dynamodb, "PutItem", _records_status("ordered"),
        "ProvisionedThroughputExceededException", 400,
    ),
]  # fmt: skip


@pytest.mark.parametrize("fault", STORAGE_FAULTS, ids=lambda fault: fault.state)
def test_a_transient_storage_error_in_a_step_is_retried_and_the_po_orders_once(
    po_pipeline: Any, fault: StorageFault
) -> None:
    calls_before = len(po_pipeline.sfn.invocations)
    with aws_fails(
        fault.client(), fault.operation, fault.matches, code=fault.code, status=fault.status
    ) as failed:
        drop = po_pipeline.drop(f"inbox/{unique('msg')}.eml", email_with(clean_order(unique("PO"))))

    ((intake_id, result),) = drop.executions.items()
    assert failed == [fault.operation]
    assert result.succeeded, result
    assert result.output["outcome"] == "ordered"
    assert failed_lambda_errors(po_pipeline, result.execution_arn) == ["TransientStorageError"]
    errors = [
        (call.function_name, call.error_type)
        for call in po_pipeline.sfn.invocations[calls_before:]
        if call.error_type is not None
    ]
    assert errors == [(fault.function, "TransientStorageError")]
    entered = po_pipeline.sfn.state_names_entered(result.execution_arn)
    assert entered.count(fault.state) == 1  # retried in place, not entered again
    assert len(tray_runs(po_pipeline.env, intake_id)) == 1
    assert intake(intake_id).status is IntakeStatus.ORDERED


def test_a_tray_outage_longer_than_the_retries_holds_the_po_then_it_orders_once(po_pipeline: Any) -> None:
    from tray_local.simulator import Fault

    env = po_pipeline.env
    # One HTTP call per Trigger invocation; the outage outlasts two rounds of Trigger's retries.
    with env.reconfigured(TRAY_AGENT_TRAY_MAX_ATTEMPTS="1") as settings:
        outage = 2 * TRIGGER_INVOCATIONS_PER_HOLD
        env.simulator.inject_fault(Fault(kind="status", status=503, path_prefix=ORDER_WEBHOOK, times=outage))
        waits_before = len(po_pipeline.sfn.wait_state_delays)

        drop = po_pipeline.drop(f"inbox/{unique('msg')}.eml", email_with(clean_order(unique("PO"))))

    ((intake_id, result),) = drop.executions.items()
    assert result.succeeded, result
    assert result.output["outcome"] == "ordered"
    entered = po_pipeline.sfn.state_names_entered(result.execution_arn)
    assert entered.count("Hold") == 2
    assert entered.count("HoldWait") == 2
    assert entered[-4:] == ["Trigger", "Record", "Outcome", "Done"]
    # Tray gave no Retry-After: the backoff doubles from the base.
    base = settings.po_hold_backoff_base_s
    assert po_pipeline.sfn.wait_state_delays[waits_before:] == [base, 2 * base]
    (run,) = tray_runs(env, intake_id)
    assert run.idempotency_key == f"{intake_id}:order"
    assert run.input["order_data"]["source"]["attempt_key"] == f"{intake_id}:order"
    record = intake(intake_id)
    assert record.status is IntakeStatus.ORDERED
    assert record.order_execution_id == run.id
    assert record.hold_count == 2
    assert record.held_since is not None


def test_a_429_with_a_long_retry_after_holds_the_po_visibly_then_it_orders(po_pipeline: Any) -> None:
    from tray_local.simulator import Fault

    env = po_pipeline.env
    retry_after = 600  # past the client's 30 s and po_trigger_max_retry_after_s: not waited in place
    env.simulator.inject_fault(
        Fault(kind="status", status=429, retry_after=retry_after, path_prefix=ORDER_WEBHOOK, times=1)
    )
    key = f"inbox/{unique('scan')}.pdf"
    body = render_pdf(clean_order(unique("PO")))
    calls_before = len(po_pipeline.sfn.invocations)
    po_pipeline.sfn.time_scale = 3 / retry_after  # the 600 s Wait lasts 3 s: long enough to look
    try:
        (intake_id,) = po_pipeline.deliver(key, etag=po_pipeline.put(key, body), size=len(body))["started"]
        held = _poll(env, intake_id, until=lambda answer: answer.body.get("status") == "held")
        result = po_pipeline.wait(intake_id)
    finally:
        po_pipeline.sfn.time_scale = 0.0

    assert "TrayRetryLaterError" in held.body["reason"]
    assert "retry after 600" in held.body["reason"]
    retry_at = datetime.fromisoformat(held.body["retry_at"])
    assert abs(retry_at - (datetime.now(UTC) + timedelta(seconds=retry_after))) < timedelta(seconds=30)
    assert result.succeeded, result
    assert result.output["outcome"] == "ordered"
    assert po_pipeline.sfn.wait_state_delays[-1] == retry_after
    errors = [c.error_type for c in po_pipeline.sfn.invocations[calls_before:] if c.error_type]
    assert errors == ["TrayRetryLaterError"]  # not retried by the Trigger step: straight to Hold
    assert len(tray_runs(env, intake_id)) == 1
    assert intake(intake_id).status is IntakeStatus.ORDERED


def _poll(env: Any, intake_id: str, *, until: Callable[[Any], bool], timeout_s: float = 20) -> Any:
    """GET /po/intake/{id} until ``until`` holds (what an operator sees meanwhile)."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = env.api("GET", f"/po/intake/{intake_id}")
        if answer.status == 200 and until(answer):
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"GET /po/intake/{intake_id} never matched: {answer.status} {answer.body}")
        time.sleep(0.05)


def _held_past_the_window(po_pipeline: Any) -> str:
    """A PO whose Tray outage outlived a 1 s hold window: failed, with the reason recorded."""
    from tray_local.simulator import Fault

    env = po_pipeline.env
    with env.reconfigured(TRAY_AGENT_TRAY_MAX_ATTEMPTS="1", TRAY_AGENT_PO_HOLD_WINDOW_S="1"):
        outage = Fault(kind="status", status=503, path_prefix=ORDER_WEBHOOK, times=10**6)
        env.simulator.inject_fault(outage)
        try:
            drop = po_pipeline.drop(f"inbox/{unique('msg')}.eml", email_with(clean_order(unique("PO"))))
        finally:
            env.simulator.remove_fault(outage)  # Tray recovers
    ((intake_id, result),) = drop.executions.items()
    assert result.status == "FAILED"
    assert result.error == "PurchaseOrderFailed"
    return intake_id


def test_a_hold_past_the_window_fails_with_the_reason(po_pipeline: Any) -> None:
    intake_id = _held_past_the_window(po_pipeline)

    record = intake(intake_id)
    assert record.status is IntakeStatus.FAILED
    assert record.error == "PurchaseOrderHoldExpiredError"
    assert "within the hold window of 1 s" in (record.reason or "")
    assert "last error TrayServerError" in (record.reason or "")
    assert record.hold_count >= 1
    assert tray_runs(po_pipeline.env, intake_id) == []


def test_a_429_asking_to_wait_beyond_the_hold_window_fails_at_once(po_pipeline: Any) -> None:
    from tray_local.simulator import Fault

    env = po_pipeline.env
    with env.reconfigured(TRAY_AGENT_PO_HOLD_WINDOW_S="300"):
        env.simulator.inject_fault(
            Fault(kind="status", status=429, retry_after=3600, path_prefix=ORDER_WEBHOOK, times=1)
        )
        drop = po_pipeline.drop(f"inbox/{unique('msg')}.eml", email_with(clean_order(unique("PO"))))

    ((intake_id, result),) = drop.executions.items()
    assert result.status == "FAILED"
    record = intake(intake_id)
    assert record.error == "PurchaseOrderHoldExpiredError"
    assert "hold window of 5 min" in (record.reason or "")
    assert "retry after 3600" in (record.reason or "")


def _failed_by_tray(po_pipeline: Any) -> str:
    from tray_local.simulator import Fault

    po_pipeline.env.simulator.inject_fault(  # Tray refuses the order outright (not retryable)
        Fault(kind="status", status=400, path_prefix=ORDER_WEBHOOK, times=1)
    )
    drop = po_pipeline.drop(f"inbox/{unique('msg')}.eml", email_with(clean_order(unique("PO"))))
    ((intake_id, result),) = drop.executions.items()
    assert result.status == "FAILED"
    assert intake(intake_id).error == "TrayBadRequestError"
    return intake_id


def test_a_failed_po_is_rerun_with_one_api_call_and_orders_once(po_pipeline: Any) -> None:
    from tray_local.local_env import LOCAL_REVIEWER

    env = po_pipeline.env
    intake_id = _failed_by_tray(po_pipeline)

    answer = env.api("POST", f"/po/intake/{intake_id}/rerun")

    assert answer.status == 202, answer.body
    assert answer.body == {
        "intake_id": intake_id,
        "attempt": 2,
        "execution_name": f"{intake_id}-r2",
        "status": "started",
    }
    result = po_pipeline.wait(intake_id, attempt=2)
    assert result.succeeded, result
    assert result.output["outcome"] == "ordered"
    assert po_pipeline.sfn.state_names_entered(result.execution_arn)[0] == "Extract"  # from the document
    (run,) = tray_runs(env, intake_id)
    assert run.idempotency_key == f"{intake_id}:order:2"  # the attempt's own key
    record = env.api("GET", f"/po/intake/{intake_id}").body
    assert (record["status"], record["attempt"]) == ("ordered", 2)
    assert record["execution_name"] == f"{intake_id}-r2"
    (rerun,) = record["reruns"]
    assert rerun["requested_by"] == LOCAL_REVIEWER
    assert rerun["previous_error"] == "TrayBadRequestError"
    assert rerun["execution_name"] == f"{intake_id}-r2"

    again = env.api("POST", f"/po/intake/{intake_id}/rerun")  # it is ordered now
    assert again.status == 409
    assert "only a failed PO can be re-run" in again.body["message"]
    assert len(tray_runs(env, intake_id)) == 1


def test_a_po_failed_after_a_hold_is_rerun_from_the_cli_and_orders_once(
    po_pipeline: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from tray_local.cli import main

    intake_id = _held_past_the_window(po_pipeline)

    assert main(["po", "rerun", intake_id, "--by", "ops-oncall"]) == 0

    printed = json.loads(capsys.readouterr().out)
    assert (printed["attempt"], printed["status"]) == (2, "started")
    result = po_pipeline.wait(intake_id, attempt=2)
    assert result.succeeded, result
    assert len(tray_runs(po_pipeline.env, intake_id)) == 1
    record = intake(intake_id)
    assert record.status is IntakeStatus.ORDERED
    assert record.hold_count == 0  # the new attempt was never held
    assert record.reruns[0].requested_by == "ops-oncall"
    assert record.reruns[0].previous_error == "PurchaseOrderHoldExpiredError"

    assert main(["po", "rerun", intake_id]) == 2  # ordered: refused
    assert "only a failed PO can be re-run" in capsys.readouterr().err


def test_rerun_is_refused_unless_the_po_failed(po_pipeline: Any) -> None:
    env = po_pipeline.env
    ordered = po_pipeline.drop(f"inbox/{unique('msg')}.eml", email_with(clean_order(unique("PO"))))
    (ordered_id,) = ordered.executions
    in_review, _, _ = _price_discrepancy(po_pipeline)
    rejected, _, _ = _price_discrepancy(po_pipeline)
    reject(env, rejected, "customer cancelled")
    po_pipeline.wait(rejected)

    for intake_id, status in ((ordered_id, "ordered"), (in_review, "in_review"), (rejected, "rejected")):
        answer = env.api("POST", f"/po/intake/{intake_id}/rerun")
        assert answer.status == 409, (status, answer.body)
        assert answer.body["details"] == {"status": status}
        assert intake(intake_id).reruns == []
    assert "reviewer's decision" in env.api("POST", f"/po/intake/{rejected}/rerun").body["message"]
    assert env.api("POST", "/po/intake/po-unknown/rerun").status == 404
    assert len(tray_runs(env, ordered_id)) == 1
    assert tray_runs(env, rejected) == []
    approve(env, in_review)  # still waiting for its review: the refused re-run changed nothing
    assert po_pipeline.wait(in_review).output["outcome"] == "ordered"


def test_rerun_needs_a_reviewer_token(po_pipeline: Any) -> None:
    env = po_pipeline.env
    intake_id = _failed_by_tray(po_pipeline)
    signed_only = {"Authorization": ""}  # an HMAC-signed machine sender, no reviewer token

    refused = env.api("POST", f"/po/intake/{intake_id}/rerun", headers=signed_only)
    anonymous = env.api("POST", f"/po/intake/{intake_id}/rerun", auth=False)
    wrong = env.api(
        "POST", f"/po/intake/{intake_id}/rerun", auth=False, headers={"Authorization": "Bearer nope"}
    )

    assert (refused.status, anonymous.status, wrong.status) == (401, 401, 401)
    assert intake(intake_id).status is IntakeStatus.FAILED
    assert intake(intake_id).reruns == []


def _order_sends(env: Any) -> int:
    return sum(1 for call in env.simulator.calls() if call.path.startswith(ORDER_WEBHOOK))


def test_a_trigger_whose_outcome_was_unknown_finds_the_run_instead_of_sending_again(
    po_pipeline: Any,
) -> None:
    """Tray took the order but the answer never arrived (connection reset after processing): the
    retried Trigger finds the run carrying the attempt's key and sends nothing more.
    """
    from tray_local.simulator import Fault

    env = po_pipeline.env
    sends_before = _order_sends(env)
    with env.reconfigured(TRAY_AGENT_TRAY_MAX_ATTEMPTS="1"):
        lost_answer = Fault(kind="reset", after_processing=True, path_prefix=ORDER_WEBHOOK, times=1)
        env.simulator.inject_fault(lost_answer)
        drop = po_pipeline.drop(f"inbox/{unique('msg')}.eml", email_with(clean_order(unique("PO"))))

    ((intake_id, result),) = drop.executions.items()
    assert result.succeeded, result
    assert failed_lambda_errors(po_pipeline, result.execution_arn) == ["TrayTransportError"]
    assert _order_sends(env) - sends_before == 1
    (run,) = tray_runs(env, intake_id)
    assert run.idempotency_key == f"{intake_id}:order"
    record = intake(intake_id)
    assert record.order_execution_id == run.id
    # The intent was recorded before the one send.
    assert record.order_attempt_key == f"{intake_id}:order"
    assert record.order_sent_at is not None
    assert record.order_sent_at <= run.created_at


def test_an_unknown_outcome_then_an_outage_holds_the_po_and_it_still_orders_once(po_pipeline: Any) -> None:
    """The answer to the order is lost, then Tray's API is down while the Trigger retries look for
    the run: the PO is held, and after the hold the run is found: one order, one send.
    """
    from tray_local.simulator import Fault

    env = po_pipeline.env
    sends_before = _order_sends(env)
    with env.reconfigured(TRAY_AGENT_TRAY_MAX_ATTEMPTS="1"):
        env.simulator.inject_fault(
            Fault(kind="reset", after_processing=True, path_prefix=ORDER_WEBHOOK, times=1)
        )
        # Each retry's look-up is one listing call: all four retries of the first round fail.
        env.simulator.inject_fault(
            Fault(kind="status", status=503, path_prefix="/api/v1/executions", times=4)
        )
        drop = po_pipeline.drop(f"inbox/{unique('msg')}.eml", email_with(clean_order(unique("PO"))))

    ((intake_id, result),) = drop.executions.items()
    assert result.succeeded, result
    assert (
        failed_lambda_errors(po_pipeline, result.execution_arn)
        == ["TrayTransportError"] + ["TrayServerError"] * 4
    )
    entered = po_pipeline.sfn.state_names_entered(result.execution_arn)
    assert entered.count("Hold") == 1
    assert _order_sends(env) - sends_before == 1
    (run,) = tray_runs(env, intake_id)
    record = intake(intake_id)
    assert (record.status, record.order_execution_id, record.hold_count) == (IntakeStatus.ORDERED, run.id, 1)


def test_of_two_concurrent_reruns_only_one_wins(po_pipeline: Any) -> None:
    from tray_agent.data.po_intake import IntakeRepository
    from tray_agent.models.po_pipeline import Rerun

    intake_id = _failed_by_tray(po_pipeline)
    settings = get_settings()
    repository = IntakeRepository(settings.po_intake_table, retention=timedelta(days=1))

    def rerun(by: str) -> Rerun:
        return Rerun(
            attempt=2,
            execution_name=f"{intake_id}-r2",
            requested_by=by,
            requested_at=datetime.now(UTC),
            previous_error=f"seen by {by}",
        )

    # Both read "failed at attempt 1"; the conditional write lets one through.
    first = repository.begin_rerun(intake_id, rerun("ann"), previous_attempt=1)
    second = repository.begin_rerun(intake_id, rerun("bob"), previous_attempt=1)

    assert (first, second) == (True, False)
    record = intake(intake_id)
    assert (record.status, record.attempt) == (IntakeStatus.STARTED, 2)
    assert (record.error, record.reason) == (None, None)  # the failure now lives in the rerun entry
    assert [(r.requested_by, r.previous_error) for r in record.reruns] == [("ann", "seen by ann")]
    assert po_pipeline.env.api("POST", f"/po/intake/{intake_id}/rerun").status == 409  # started now
