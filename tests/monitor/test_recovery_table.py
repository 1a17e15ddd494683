"""One test per row of the recovery table, through the real handler with a scheduled event.

The Tray simulator runs (or holds, seeded) the failing executions over real HTTP; moto holds
the monitor table, the decisions and reviews tables and the alerts topic.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import new_event, work_key
from tests.monitor.conftest import MonitorEnv, ago, later, use_settings
from tray_agent.data.lessons import LessonsRepository
from tray_agent.domain.agent.service import build_event_service
from tray_agent.domain.monitor.recovery import decision_id_for, review_id_for
from tray_agent.domain.reviews import build_review_service
from tray_agent.models.events import InboundEvent
from tray_agent.models.reviews import ApproveRequest, RejectRequest, ReviewStatus
from tray_local.demo_monitor import failed_execution, run_tick
from tray_local.simulator import SEED_STORIES, WorkflowScript


def _decision(env: MonitorEnv, execution_id: str) -> dict[str, Any]:
    answer = env.api.api("GET", f"/decisions/{decision_id_for(execution_id)}")
    assert answer.status == 200, answer.body
    body: dict[str, Any] = answer.body
    return body


def test_rate_limited_waits_for_the_hint_then_retries_once(monitor_env: MonitorEnv) -> None:
    env = monitor_env
    failed = failed_execution(
        env.sim,
        "support_ticket_triage",
        code="HTTP_429",
        message="Zendesk returned HTTP 429 Too Many Requests",
        connector="zendesk",
        retry_after_s=600,
        created_at=ago(minutes=2),
        input={"ticket_id": "T-1", "priority": "high"},
    )
    env.sim.seed_executions([failed])

    first = run_tick()
    assert first["failures"] == 1
    assert env.retries_of(failed.id) == []  # the 10-minute hint has not passed
    assert first["queued"] == 1

    run_tick(later(minutes=15))  # the hint has passed
    retries = env.retries_of(failed.id)
    assert [r.status for r in retries] == ["succeeded"]
    assert retries[0].input == failed.input
    run_tick(later(minutes=20))
    assert len(env.retries_of(failed.id)) == 1  # never twice
    decision = _decision(env, failed.id)
    assert decision["decision"]["rule"] == "monitor.rate_limited"
    assert decision["executions"][0]["execution_id"] == retries[0].id


def test_transient_retries_with_backoff_at_most_n_times_then_review(
    monitor_env: MonitorEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = monitor_env
    settings = use_settings(monkeypatch, monitor_max_retries="2")
    # Every run of the workflow times out: the retries fail too.
    env.sim.set_script(
        "employee_provisioning",
        WorkflowScript(
            outcome="fail", error_code="STEP_TIMEOUT", error_message="okta operation did not finish"
        ),
    )
    response = env.trigger(
        "employee_provisioning", {"employee_email": "new@corp.example", "tools": ["slack"]}
    )
    root = response.json()["executionId"]

    run_tick()
    chain = env.retries_of(root)
    assert len(chain) == 1 and chain[0].idempotency_key == f"monitor:{root}:1"
    run_tick(later(minutes=5))  # attempt 2, after a longer backoff
    second = env.retries_of(chain[0].id)
    assert len(second) == 1 and second[0].idempotency_key == f"monitor:{root}:2"
    summary = run_tick(later(minutes=10))  # the cap: a person looks at it now
    assert env.retries_of(second[0].id) == []
    assert summary["recoveries"] == {"review": 1}
    review = build_review_service(settings).get(review_id_for(second[0].id))
    assert review.status is ReviewStatus.PENDING
    assert review.payload["execution_id"] == second[0].id
    run_tick(later(minutes=15))
    retried = [e for e in env.sim.executions() if e.workflow_name == "employee_provisioning" and e.retry_of]
    assert len(retried) == 2  # the cap held


def test_data_mismatch_maps_the_picklist_value_retries_and_remembers(monitor_env: MonitorEnv) -> None:
    env = monitor_env
    env.sim.set_script("salesforce_account_upsert", SEED_STORIES["salesforce_account_upsert"])
    first = env.trigger("salesforce_account_upsert", {"name": "Acme", "industry": "SaaS", "employees": 80})
    failed_id = first.json()["executionId"]
    failed = next(e for e in env.sim.executions() if e.id == failed_id)
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.service_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"

    summary = run_tick()
    assert summary["recoveries"] == {"retried_modified": 1}
    [retry] = env.retries_of(failed_id)
    assert retry.status == "succeeded"
    assert retry.input == {"name": "Acme", "industry": "Technology - SaaS", "employees": 80}
    assert env.repository.mapping("Account.Industry", "SaaS") == "Technology - SaaS"
    decision = _decision(env, failed_id)
    assert decision["decision"]["action"] == "transform_and_trigger"
    assert "Technology - SaaS" in decision["decision"]["reason"]
    metadata_calls = [c for c in env.sim.calls() if c.path.startswith("/core/v1/connectors/salesforce")]
    assert len(metadata_calls) == 1

    # Next time the remembered mapping fixes it without asking Salesforce again.
    again = env.trigger("salesforce_account_upsert", {"name": "Beta", "industry": "SaaS"}).json()[
        "executionId"
    ]
    run_tick(later(minutes=5))
    [retry2] = env.retries_of(again)
    assert retry2.input["industry"] == "Technology - SaaS" and retry2.status == "succeeded"
    assert len([c for c in env.sim.calls() if c.path.startswith("/core/v1/connectors/salesforce")]) == 1
    assert _decision(env, again)["decision"]["rule"] == "monitor.data_mismatch.remembered"

    # The agent learnt it too: the next event's run is fixed before its trigger, not after a failure.
    lessons = LessonsRepository(env.settings.work_table).lessons("salesforce_account_upsert")
    assert lessons.fixes[("industry", "SaaS")] == "Technology - SaaS"
    assert lessons.picklists["industry"] == "salesforce:Account.Industry"
    event = InboundEvent.model_validate(
        new_event("account.updated", data={"name": "Gamma", "industry": "SaaS", "employees": 5})
    )
    answer = build_event_service(env.settings).handle(event)
    assert answer.status == "done"
    [run] = [e for e in env.sim.executions() if e.id == answer.execution_id]
    assert run.input["industry"] == "Technology - SaaS" and run.status == "succeeded"
    fixes = build_event_service(env.settings).get_decision(answer.decision_id).decision.fixes
    assert [(f.before, f.after, f.source) for f in fixes] == [("SaaS", "Technology - SaaS", "monitor")]


def test_payload_too_large_is_split_into_chunks_of_200(monitor_env: MonitorEnv) -> None:
    env = monitor_env
    records = [{"sku": f"SKU-{i}", "qty": 1} for i in range(1000)]
    failed = failed_execution(
        env.sim,
        "support_ticket_triage",
        code="PAYLOAD_TOO_LARGE",
        message="step data is 7340032 bytes; at most 6291456 (6 MB) may pass between steps",
        created_at=ago(minutes=1),
        input={"ticket_id": "BULK-1", "priority": "low", "records": records},
    )
    env.sim.seed_executions([failed])

    summary = run_tick()
    assert summary["recoveries"] == {"chunked": 1}
    chunks = env.retries_of(failed.id)
    assert [len(c.input["records"]) for c in chunks] == [200] * 5
    assert [r for c in chunks for r in c.input["records"]] == records  # nothing lost, in order
    assert all(c.status == "succeeded" and c.input["ticket_id"] == "BULK-1" for c in chunks)
    decision = _decision(env, failed.id)
    assert decision["decision"]["action"] == "chain" and len(decision["executions"]) == 5


def test_auth_failure_is_held_escalated_once_and_retried_once_after_the_login_is_fixed(
    monitor_env: MonitorEnv,
) -> None:
    env = monitor_env
    env.sim.set_script("csm_health_task", SEED_STORIES["csm_health_task"])
    payload = {"customer_id": "c-9", "risk_level": "high", "brief": "usage down 40%"}
    ids = [env.trigger("csm_health_task", payload).json()["executionId"] for _ in range(3)]

    summary = run_tick()
    assert summary["recoveries"] == {"held": 3}
    assert all(env.retries_of(i) == [] for i in ids)
    [escalation] = [a for a in env.alerts() if a["kind"] == "escalation"]
    assert escalation["workflow"] == "csm_health_task"
    assert escalation["auth"] == "Salesforce (CSM)"
    assert [n.input["severity"] for n in env.ops_notifications()] == ["critical"]

    env.trigger("csm_health_task", payload)
    run_tick(later(minutes=5))
    assert [a for a in env.alerts() if a["kind"] == "escalation"] == []  # once per incident
    assert _decision(env, ids[0])["outcome"] == "held"
    assert all(env.retries_of(i) == [] for i in ids)  # retrying now would only fail again

    # The login is fixed: a run succeeds, the monitor sees it, the held runs are retried once each.
    env.sim.set_script("csm_health_task", WorkflowScript())
    env.trigger("csm_health_task", payload)
    run_tick(later(minutes=10))
    env.sim.wait_idle()
    assert all(len(env.retries_of(i)) == 1 for i in ids), [env.retries_of(i) for i in ids]
    assert _decision(env, ids[0])["outcome"] == "triggered"
    run_tick(later(minutes=15))
    assert all(len(env.retries_of(i)) == 1 for i in ids)  # drained once, never again

    # It expires again: a new incident, escalated again.
    env.sim.set_script("csm_health_task", SEED_STORIES["csm_health_task"])
    env.trigger("csm_health_task", payload)
    run_tick(later(minutes=20))
    assert len([a for a in env.alerts() if a["kind"] == "escalation"]) == 1


def test_disabled_workflow_is_held_and_retried_once_enabled(monitor_env: MonitorEnv) -> None:
    env = monitor_env
    env.sim.set_enabled("order_processing", False)
    response = env.trigger("order_processing", {"order_data": {"id": "o-1"}})
    assert response.status_code == 409
    failed_id = response.json()["executionId"]

    summary = run_tick()
    assert summary["recoveries"] == {"held": 1}
    assert env.retries_of(failed_id) == []
    [escalation] = env.alerts()
    assert escalation["failure_class"] == "disabled" and escalation["workflow"] == "order_processing"
    assert "retried once" in escalation["action_needed"]
    # Enabled again: the sweep's GraphQL probe sees it, and the held run is retried once.
    env.sim.set_enabled("order_processing", True)
    run_tick(later(minutes=5))
    env.sim.wait_idle()
    assert len(env.retries_of(failed_id)) == 1
    run_tick(later(minutes=10))
    assert len(env.retries_of(failed_id)) == 1


def test_outage_opens_a_circuit_holds_retries_probes_and_drains(monitor_env: MonitorEnv) -> None:
    env = monitor_env
    env.sim.set_script("order_processing", SEED_STORIES["order_processing"])  # NetSuite 503
    ids = [
        env.trigger("order_processing", {"order_data": {"id": f"o-{i}"}}).json()["executionId"]
        for i in range(4)
    ]

    opened = run_tick()
    assert opened["open_circuits"] == ["netsuite"]
    assert [a for a in opened["alerts"] if a.startswith("circuit_opened")]
    assert opened["recoveries"] == {"held": 4}
    assert all(env.retries_of(i) == [] for i in ids)  # nothing retried into the outage
    assert opened["queued"] == 4  # nothing lost

    still_down = run_tick(later(minutes=5))  # one probe, which fails: still open
    assert still_down["open_circuits"] == ["netsuite"]
    assert still_down["recoveries"] == {"probed": 1, "held": 3}
    probes = [e for e in env.sim.executions() if e.retry_of in ids]
    assert len(probes) == 1 and probes[0].status == "failed"

    env.sim.set_script("order_processing", WorkflowScript(steps=SEED_STORIES["order_processing"].steps))
    recovered = run_tick(later(minutes=10))
    assert recovered["open_circuits"] == []
    assert recovered["recoveries"] == {"probed": 1, "retried": 3}
    assert any(a.startswith("circuit_closed") for a in recovered["alerts"])
    for root in ids:  # every held order ran again and succeeded, none twice
        chain = [e for e in env.sim.executions() if (e.idempotency_key or "").startswith(f"monitor:{root}:")]
        assert chain[-1].status == "succeeded"
        assert len({e.idempotency_key for e in chain}) == len(chain)
    kinds = [a["kind"] for a in env.alerts()]
    assert kinds.count("circuit_opened") == 1 and kinds.count("circuit_closed") == 1


def test_unknown_failure_goes_to_review_and_approval_retries_with_edited_input(
    monitor_env: MonitorEnv,
) -> None:
    env = monitor_env
    failed = failed_execution(
        env.sim,
        "support_ticket_triage",
        code="SCRIPT_ERROR",
        message="TypeError: cannot read property 'queue' of undefined",
        created_at=ago(minutes=1),
        input={"ticket_id": "T-77", "priority": "urgent"},
    )
    env.sim.seed_executions([failed])

    summary = run_tick()
    assert summary["recoveries"] == {"review": 1}
    assert env.retries_of(failed.id) == []
    reviews = build_review_service(env.settings)
    item = reviews.get(review_id_for(failed.id))
    assert item.kind.value == "recovery" and item.payload["input"] == failed.input
    assert _decision(env, failed.id)["outcome"] == "in_review"

    edited = {**item.payload, "input": {"ticket_id": "T-77", "priority": "urgent", "queue": "billing"}}
    reviews.approve(item.review_id, "ops@corp.example", ApproveRequest(edited_payload=edited))
    [retry] = env.retries_of(failed.id)
    assert retry.input["queue"] == "billing" and retry.status == "succeeded"
    assert _decision(env, failed.id)["outcome"] == "triggered"


def test_rejected_recovery_is_recorded_and_not_retried(monitor_env: MonitorEnv) -> None:
    env = monitor_env
    failed = failed_execution(
        env.sim, "support_ticket_triage", code="SCRIPT_ERROR", message="boom", created_at=ago(minutes=1)
    )
    env.sim.seed_executions([failed])
    run_tick()
    reviews = build_review_service(env.settings)
    reviews.reject(
        review_id_for(failed.id), "ops@corp.example", RejectRequest(reason="ticket was a duplicate")
    )
    assert env.retries_of(failed.id) == []
    decision = _decision(env, failed.id)
    assert decision["outcome"] == "rejected" and "duplicate" in decision["decision"]["reason"]


def test_agent_triggered_execution_links_back_to_its_event(monitor_env: MonitorEnv) -> None:
    env = monitor_env
    failed = failed_execution(
        env.sim,
        "support_ticket_triage",
        code="HTTP_5XX",
        message="Zendesk returned HTTP 500",
        connector="zendesk",
        created_at=ago(minutes=2),
        idempotency_key=work_key("evt-42") + "a1.0",
    )
    env.sim.seed_executions([failed])
    run_tick()
    decision = _decision(env, failed.id)
    assert decision["event_id"] == work_key("evt-42").rstrip(".")
    assert decision["source"] == "tray-monitor" and decision["outcome"] == "triggered"
