"""Failure callbacks: every row of the recovery table through ``POST /callbacks/tray-failure``.

The simulator plays Tray's alerting workflow: each failed run is posted, signed as a machine
sender, to a local HTTP bridge (tray_local/api_bridge.py) that hands it to the real API Lambda
handler as an API Gateway event. Seeded failures, and failures from before the alerting URL was
set, are delivered with ``sim.deliver_alert`` (a re-run of the alerting workflow). The tick runs
through the real monitor handler; every failure must be recovered once, whoever sees it first.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.monitor.conftest import MonitorEnv, ago, later, use_settings
from tray_agent.domain.auth import sign
from tray_agent.domain.monitor.recovery import decision_id_for, review_id_for
from tray_agent.domain.reviews import build_review_service
from tray_agent.models.reviews import ReviewStatus
from tray_local.api_bridge import ApiBridge
from tray_local.demo_monitor import failed_execution, run_tick
from tray_local.simulator import SEED_STORIES, WorkflowScript
from tray_local.simulator.alerting import AlertingDelivery

PATH = "/callbacks/tray-failure"


@dataclass
class CallbackEnv:
    env: MonitorEnv
    bridge: ApiBridge

    @property
    def url(self) -> str:
        return self.bridge.url(PATH)

    def alerting_on(self, workflow: str | None = None) -> None:
        self.env.sim.set_alerting_url(self.url, workflow=workflow, secret=self.env.settings.signing_secret)

    def delivered(self, execution_id: str, timeout_s: float = 10.0) -> AlertingDelivery:
        """The alerting post of a run that failed (waits for Tray's asynchronous alerting run)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = [d for d in self.env.sim.alerting_deliveries() if d.execution_id == execution_id]
            if found:
                return found[0]
            time.sleep(0.02)
        raise AssertionError(f"no alerting post for {execution_id}")

    def decision(self, execution_id: str) -> dict[str, Any]:
        answer = self.env.api.api("GET", f"/decisions/{decision_id_for(execution_id)}")
        assert answer.status == 200, answer.body
        body: dict[str, Any] = answer.body
        return body


@pytest.fixture
def cb(monitor_env: MonitorEnv) -> Iterator[CallbackEnv]:
    with ApiBridge() as bridge:
        yield CallbackEnv(env=monitor_env, bridge=bridge)
        monitor_env.sim.wait_idle()


def _accepted(delivery: AlertingDelivery) -> dict[str, Any]:
    assert delivery.status_code == 202, delivery
    assert delivery.answer is not None
    return delivery.answer


# -- every row of the recovery table, recovered once ------------------------------------------------
def test_rate_limited_is_queued_until_the_hint_then_retried_once(cb: CallbackEnv) -> None:
    env = cb.env
    cb.alerting_on("support_ticket_triage")
    env.sim.set_script(
        "support_ticket_triage",
        WorkflowScript(
            outcome="fail",
            error_code="HTTP_429",
            error_message="Zendesk returned HTTP 429 Too Many Requests",
            retry_after_s=600,
        ),
    )
    failed_id = env.trigger("support_ticket_triage", {"ticket_id": "T-1", "priority": "high"}).json()[
        "executionId"
    ]
    answer = _accepted(cb.delivered(failed_id))
    assert answer["failure_class"] == "rate_limited" and answer["action"] == "deferred"
    assert answer["due_at"] is not None
    queued = env.repository.get_work(failed_id)
    assert queued is not None and queued.execution_id == failed_id  # the tick's queue, as the tick would
    assert env.retries_of(failed_id) == []

    env.sim.set_script("support_ticket_triage", WorkflowScript())
    assert run_tick()["recoveries"] == {}  # the hint has not passed; the tick does not queue it twice
    run_tick(later(minutes=15))
    env.sim.wait_idle()
    [retry] = env.retries_of(failed_id)
    assert retry.status == "succeeded" and retry.idempotency_key == f"monitor:{failed_id}:1"
    run_tick(later(minutes=20))
    assert len(env.retries_of(failed_id)) == 1


def test_a_short_retry_after_is_waited_for_in_the_callback_not_left_to_the_tick(cb: CallbackEnv) -> None:
    """Recovery in seconds: a 1 s Retry-After is honoured, then retried in the same invocation."""
    env = cb.env
    cb.alerting_on("support_ticket_triage")
    env.sim.set_script(
        "support_ticket_triage",
        WorkflowScript(
            outcome="fail",
            error_code="HTTP_429",
            error_message="Zendesk returned HTTP 429 Too Many Requests",
            retry_after_s=1,
        ),
    )
    failed_id = env.trigger("support_ticket_triage", {"ticket_id": "T-2", "priority": "high"}).json()[
        "executionId"
    ]
    env.sim.set_script("support_ticket_triage", WorkflowScript())  # the limit has passed by then
    answer = _accepted(cb.delivered(failed_id))
    assert answer["failure_class"] == "rate_limited" and answer["action"] == "retried", answer
    [retry] = env.retries_of(failed_id)
    failed = next(e for e in env.sim.executions() if e.id == failed_id)
    waited = (retry.created_at - (failed.finished_at or failed.created_at)).total_seconds()
    assert 1.0 <= waited < 10, waited  # the hint, honoured, and not the tick's minutes
    assert run_tick(later(minutes=5))["recoveries"] == {}  # the tick finds nothing left to do


def test_transient_is_retried_at_once_and_the_tick_leaves_it_alone(cb: CallbackEnv) -> None:
    env = cb.env
    env.sim.set_script(
        "employee_provisioning",
        WorkflowScript(outcome="fail", error_code="STEP_TIMEOUT", error_message="okta did not finish"),
    )
    failed_id = env.trigger(
        "employee_provisioning", {"employee_email": "a@corp.example", "tools": []}
    ).json()["executionId"]
    env.sim.wait_idle()
    env.sim.set_script("employee_provisioning", WorkflowScript())  # it was transient
    cb.alerting_on()
    answer = _accepted(env.sim.deliver_alert(failed_id))
    assert answer["failure_class"] == "transient" and answer["action"] == "retried"
    [retry] = env.retries_of(failed_id)
    assert answer["new_execution_ids"] == [retry.id]
    assert cb.decision(failed_id)["decision"]["rule"] == "monitor.transient"

    tick = run_tick()
    assert tick["failures"] == 1 and tick["recoveries"] == {} and tick["queued"] == 0
    env.sim.wait_idle()
    assert [r.status for r in env.retries_of(failed_id)] == ["succeeded"]


def test_picklist_mismatch_is_mapped_and_retried_within_the_callback(cb: CallbackEnv) -> None:
    env = cb.env
    cb.alerting_on("salesforce_account_upsert")
    env.sim.set_script("salesforce_account_upsert", SEED_STORIES["salesforce_account_upsert"])
    failed_id = env.trigger("salesforce_account_upsert", {"name": "Acme", "industry": "SaaS"}).json()[
        "executionId"
    ]
    answer = _accepted(cb.delivered(failed_id))
    assert answer["failure_class"] == "data_mismatch" and answer["action"] == "retried_modified"
    [retry] = env.retries_of(failed_id)
    env.sim.wait_idle()
    assert retry.input == {"name": "Acme", "industry": "Technology - SaaS"}
    assert [r.status for r in env.retries_of(failed_id)] == ["succeeded"]
    assert env.repository.mapping("Account.Industry", "SaaS") == "Technology - SaaS"
    assert cb.decision(failed_id)["decision"]["action"] == "transform_and_trigger"

    assert run_tick()["recoveries"] == {}  # callback first, then the tick: one recovery
    assert len(env.retries_of(failed_id)) == 1


def test_payload_too_large_is_split_into_chunks(cb: CallbackEnv) -> None:
    env = cb.env
    records = [{"sku": f"SKU-{i}", "qty": 1} for i in range(450)]
    failed = failed_execution(
        env.sim,
        "support_ticket_triage",
        code="PAYLOAD_TOO_LARGE",
        message="step data is 7340032 bytes; at most 6291456 (6 MB) may pass between steps",
        created_at=ago(seconds=5),
        input={"ticket_id": "BULK-1", "records": records},
    )
    env.sim.seed_executions([failed])
    cb.alerting_on()
    answer = _accepted(env.sim.deliver_alert(failed.id))
    assert answer["action"] == "chunked" and len(answer["new_execution_ids"]) == 3
    chunks = env.retries_of(failed.id)
    assert [len(c.input["records"]) for c in chunks] == [200, 200, 50]
    assert [r for c in chunks for r in c.input["records"]] == records
    assert run_tick()["recoveries"] == {}
    assert len(env.retries_of(failed.id)) == 3


def test_auth_failures_are_held_and_escalated_once(cb: CallbackEnv) -> None:
    env = cb.env
    cb.alerting_on("csm_health_task")
    env.sim.set_script("csm_health_task", SEED_STORIES["csm_health_task"])
    payload = {"customer_id": "c-9", "risk_level": "high", "brief": "usage down"}
    ids: list[str] = []
    answers: list[dict[str, Any]] = []
    for _ in range(2):  # one after the other: moto's conditional writes are not atomic across threads
        ids.append(env.trigger("csm_health_task", payload).json()["executionId"])
        answers.append(_accepted(cb.delivered(ids[-1])))
    assert [a["action"] for a in answers] == ["held", "held"]
    assert all(a["failure_class"] == "auth" for a in answers)
    escalations = [a for a in env.alerts() if a["kind"] == "escalation"]
    assert len(escalations) == 1, escalations
    assert escalations[0]["auth"] == "Salesforce (CSM)"
    held = env.api.api("GET", "/work", query={"state": "held"}).body
    assert sum(1 for w in held if w["origin_id"] in ids) == 2  # the ledger, keyed by root execution

    assert run_tick()["recoveries"] == {}  # the tick sees both failures: already in hand
    assert [a for a in env.alerts() if a["kind"] == "escalation"] == []
    assert cb.decision(ids[0])["outcome"] == "held"
    assert all(env.retries_of(i) == [] for i in ids)


def test_disabled_workflow_is_held(cb: CallbackEnv) -> None:
    env = cb.env
    cb.alerting_on("order_processing")
    env.sim.set_enabled("order_processing", False)
    response = env.trigger("order_processing", {"order_data": {"id": "o-1"}})
    assert response.status_code == 409
    failed_id = response.json()["executionId"]
    answer = _accepted(cb.delivered(failed_id))
    assert answer["failure_class"] == "disabled" and answer["action"] == "held"
    [escalation] = env.alerts()
    assert escalation["failure_class"] == "disabled"
    assert run_tick()["recoveries"] == {}
    assert env.alerts() == [] and env.retries_of(failed_id) == []


def test_outage_with_an_open_circuit_is_held_for_the_probe(cb: CallbackEnv) -> None:
    env = cb.env
    env.sim.set_script("order_processing", SEED_STORIES["order_processing"])  # NetSuite 503
    for i in range(4):
        env.trigger("order_processing", {"order_data": {"id": f"o-{i}"}})
    assert run_tick()["open_circuits"] == ["netsuite"]

    cb.alerting_on("order_processing")
    failed_id = env.trigger("order_processing", {"order_data": {"id": "o-late"}}).json()["executionId"]
    answer = _accepted(cb.delivered(failed_id))
    assert answer["failure_class"] == "transient" and answer["action"] == "held"
    assert "netsuite circuit open" in answer["detail"]
    assert env.retries_of(failed_id) == []  # nothing retried into the outage
    assert env.repository.get_work(failed_id) is not None  # waits with the tick's held work

    env.sim.set_script("order_processing", WorkflowScript(steps=SEED_STORIES["order_processing"].steps))
    run_tick(later(minutes=5))  # the probe succeeds, the circuit closes, the held runs drain
    env.sim.wait_idle()
    [retry] = env.retries_of(failed_id)
    assert retry.status == "succeeded"
    run_tick(later(minutes=10))
    assert len(env.retries_of(failed_id)) == 1


def test_unknown_failure_goes_to_review_once(cb: CallbackEnv) -> None:
    env = cb.env
    cb.alerting_on("support_ticket_triage")
    env.sim.set_script(
        "support_ticket_triage",
        WorkflowScript(outcome="fail", error_code="SCRIPT_ERROR", error_message="TypeError: x is undefined"),
    )
    failed_id = env.trigger("support_ticket_triage", {"ticket_id": "T-77", "priority": "urgent"}).json()[
        "executionId"
    ]
    answer = _accepted(cb.delivered(failed_id))
    assert answer["failure_class"] == "unknown" and answer["action"] == "review"
    review = build_review_service(env.settings).get(review_id_for(failed_id))
    assert review.status is ReviewStatus.PENDING and review.payload["execution_id"] == failed_id
    assert run_tick()["recoveries"] == {}
    assert cb.decision(failed_id)["outcome"] == "in_review"
    pending = build_review_service(env.settings).list(ReviewStatus.PENDING)
    assert [r.review_id for r in pending if r.payload.get("execution_id") == failed_id] == [review.review_id]


# -- callback and tick: once --------------------------------------------------------------------------
def test_tick_first_then_callback_is_recovered_once(cb: CallbackEnv) -> None:
    env = cb.env
    failed = failed_execution(
        env.sim,
        "support_ticket_triage",
        code="HTTP_5XX",
        message="Zendesk returned HTTP 500",
        connector="zendesk",
        created_at=ago(minutes=1),
    )
    env.sim.seed_executions([failed])
    assert run_tick()["recoveries"] == {"retried": 1}
    cb.alerting_on()
    answer = _accepted(env.sim.deliver_alert(failed.id))
    assert answer["action"] == "already_handled" and answer["handled_by"] == "tick"
    assert answer["decision_id"] == decision_id_for(failed.id)
    assert len(env.retries_of(failed.id)) == 1


def test_the_same_callback_delivered_twice_is_recovered_once(cb: CallbackEnv) -> None:
    env = cb.env
    cb.alerting_on()
    failed = failed_execution(
        env.sim,
        "support_ticket_triage",
        code="SERVICE_UNAVAILABLE",
        message="Zendesk returned HTTP 503",
        connector="zendesk",
        created_at=ago(seconds=3),
    )
    env.sim.seed_executions([failed])
    first = _accepted(env.sim.deliver_alert(failed.id))
    second = _accepted(env.sim.deliver_alert(failed.id))
    assert first["action"] == "retried"
    assert second["action"] == "already_handled" and second["detail"] == "retried"
    assert second["new_execution_ids"] == first["new_execution_ids"]
    assert len(env.retries_of(failed.id)) == 1
    assert run_tick()["recoveries"] == {}
    assert len(env.retries_of(failed.id)) == 1


def test_a_callback_for_a_run_that_did_not_fail_changes_nothing(cb: CallbackEnv) -> None:
    env = cb.env
    ok = env.trigger("support_ticket_triage", {"ticket_id": "T-5", "priority": "low"}).json()["executionId"]
    env.sim.wait_idle()
    body = {
        "workflow_id": env.sim.workflow_id("support_ticket_triage"),
        "execution_id": ok,
        "error": {"code": "SCRIPT_ERROR", "message": "forged"},
    }
    answer = env.api.api("POST", PATH, body)
    assert answer.status == 202 and answer.body["action"] == "not_failed"
    assert env.retries_of(ok) == []


# -- refused before anything happens --------------------------------------------------------------------
def test_unsigned_callback_is_refused(cb: CallbackEnv) -> None:
    env = cb.env
    failed = failed_execution(
        env.sim, "support_ticket_triage", code="HTTP_5XX", message="HTTP 500", created_at=ago(seconds=3)
    )
    env.sim.seed_executions([failed])
    cb.env.sim.set_alerting_url(cb.url)  # Tray's alerting workflow without the signing step
    delivery = env.sim.deliver_alert(failed.id)
    assert delivery.status_code == 401
    forged = json.dumps(
        {"workflow_id": "w", "execution_id": failed.id, "error": {"code": "X", "message": ""}}
    )
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
    bad = httpx.post(
        cb.url,
        content=forged,
        headers={
            "X-Tray-Agent-Timestamp": timestamp,
            "X-Tray-Agent-Nonce": nonce,
            "X-Tray-Agent-Signature": sign("not-the-secret", timestamp, nonce, forged.encode()),
        },
    )
    assert bad.status_code == 401
    assert env.retries_of(failed.id) == [] and env.repository.work() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"workflow_id": "wf-1", "execution_id": "exec-1"}, "error"),
        ({"workflow_id": "wf-1", "error": {"code": "X", "message": "m"}}, "execution_id"),
        ({"workflow_id": "wf-1", "execution_id": "exec-1", "error": {"message": "m"}}, "code"),
        (
            {"workflow_id": "wf-1", "execution_id": "e 1", "error": {"code": "X", "message": "m"}},
            "execution_id",
        ),
        ({"workflow_id": "wf-1", "execution_id": "e", "error": {"code": "X", "message": "m"}, "x": 1}, "x"),
    ],
)
def test_malformed_callback_is_422_naming_the_field(
    cb: CallbackEnv, body: dict[str, Any], field: str
) -> None:
    answer = cb.env.api.api("POST", PATH, body)
    assert answer.status == 422, answer.body
    assert field in json.dumps(answer.body)
    assert cb.env.repository.work() == []


def test_a_burst_of_callbacks_spends_at_most_the_workflows_retry_budget(
    cb: CallbackEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = cb.env
    use_settings(monkeypatch, monitor_max_retries_per_workflow="2")
    failures = [
        failed_execution(
            env.sim,
            "support_ticket_triage",
            code="HTTP_5XX",
            message="the service returned HTTP 500",
            connector=service,  # three services: three failures, not one service's outage
            created_at=ago(seconds=5 - i),
        )
        for i, service in enumerate(("zendesk", "slack", "jira"))
    ]
    env.sim.seed_executions(failures)
    cb.alerting_on()
    answers = [_accepted(env.sim.deliver_alert(f.id)) for f in failures]
    assert [a["action"] for a in answers] == ["retried", "retried", "deferred"]
    assert "budget" in answers[2]["detail"]
    assert env.retries_of(failures[2].id) == []
    tick = run_tick(later(minutes=5))  # the next interval: the tick's queue runs it, once
    assert tick["recoveries"] == {"retried": 1}
    assert [len(env.retries_of(f.id)) for f in failures] == [1, 1, 1]


def test_a_callback_that_dies_after_its_claim_is_taken_over_by_the_tick(
    cb: CallbackEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tray_agent.data import aws

    env = cb.env
    use_settings(monkeypatch, work_lease_s="1")
    failed = failed_execution(
        env.sim,
        "support_ticket_triage",
        code="HTTP_5XX",
        message="Zendesk returned HTTP 500",
        connector="zendesk",
        created_at=ago(seconds=5),
    )
    env.sim.seed_executions([failed])
    cb.alerting_on()

    fired: list[str] = []

    def queue_write_fails(params: dict[str, Any], **_: Any) -> None:
        # Our storage fails right after the claim: the queue item is never written.
        pk = params.get("Item", {}).get("pk")
        if not fired and pk in ("WORK", {"S": "WORK"}):
            fired.append("WORK")
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "PutItem")

    client = aws.dynamodb().meta.client
    client.meta.events.register("before-parameter-build.dynamodb.PutItem", queue_write_fails)
    try:
        delivery = env.sim.deliver_alert(failed.id)
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb.PutItem", queue_write_fails)
    assert fired and delivery.status_code == 503  # "try again", never a 500
    assert env.retries_of(failed.id) == [] and env.repository.work() == []

    time.sleep(2.1)  # the dead callback's claim goes stale (claims are stamped in whole seconds)
    assert run_tick()["recoveries"] == {"retried": 1}  # the safety net: nothing lost
    assert len(env.retries_of(failed.id)) == 1
    again = _accepted(env.sim.deliver_alert(failed.id))  # Tray's alerting run retried later
    assert again["action"] == "already_handled" and again["handled_by"] == "tick"
    assert len(env.retries_of(failed.id)) == 1


def test_a_short_retry_after_that_would_outlast_the_invocation_is_left_to_the_tick(cb: CallbackEnv) -> None:
    """API Gateway ends an integration at 30 s: a wait that leaves no time for the recovery call
    is not started; the failure is queued for the tick, never cut off mid-recovery."""
    from tray_agent.config import get_settings
    from tray_agent.domain.monitor.callbacks import build_failure_callbacks
    from tray_agent.models.callbacks import TrayFailureCallback
    from tray_local.simulator.alerting import failure_payload

    env = cb.env
    env.sim.set_script(
        "support_ticket_triage",
        WorkflowScript(
            outcome="fail",
            error_code="HTTP_429",
            error_message="Zendesk returned HTTP 429 Too Many Requests",
            retry_after_s=2,
        ),
    )
    failed_id = env.trigger("support_ticket_triage", {"ticket_id": "T-9", "priority": "high"}).json()[
        "executionId"
    ]
    env.sim.wait_idle()
    record = next(e for e in env.sim.engine.executions() if e.id == failed_id)
    callback = TrayFailureCallback.model_validate(failure_payload(record))
    callbacks = build_failure_callbacks(get_settings())
    started = time.monotonic()
    answer = callbacks.handle(callback, later(seconds=0), remaining_ms=lambda: 12_000)
    assert answer.action == "deferred" and answer.due_at is not None, answer
    assert time.monotonic() - started < 2.0  # it did not sit out the Retry-After
    assert env.retries_of(failed_id) == []
    env.sim.set_script("support_ticket_triage", WorkflowScript())
    run_tick(later(minutes=5))
    env.sim.wait_idle()
    [retry] = env.retries_of(failed_id)
    assert retry.status == "succeeded"
