"""Work that cannot run now is held behind an incident, escalated once, and drains once on recovery."""

from __future__ import annotations

from typing import Any

from tests.conftest import new_event, work_key
from tests.work.conftest import runs, sweep
from tray_local.simulator import Fault

LEAD_WEBHOOK = "/webhooks/5c1f0d2e-lead-enrichment"


def _lead() -> dict[str, Any]:
    return new_event()  # each a different lead (see new_event)


def test_tray_outage_holds_events_then_drains_each_exactly_once_oldest_first(ledger_env: Any) -> None:
    env = ledger_env
    env.simulator.inject_fault(Fault(kind="status", path_prefix=LEAD_WEBHOOK, status=503, times=2))
    first, second = _lead(), _lead()
    held = [env.api("POST", "/events", event) for event in (first, second)]
    assert [a.status for a in held] == [202, 202], [a.body for a in held]
    assert [a.body["status"] for a in held] == ["held", "held"]
    assert "Tray is failing" in held[0].body["reason"]

    incidents = env.api("GET", "/incidents").body
    assert len(incidents) == 1 and incidents[0]["key"] == "service:tray"
    assert incidents[0]["escalated_at"] is not None
    listed = env.api("GET", "/work", query={"state": "held"}).body
    assert {item["origin_id"] for item in listed} == {first["id"], second["id"]}
    # A redelivery while held gets the same answer and sends nothing.
    assert env.api("POST", "/events", first).body == held[0].body
    assert runs(env, work_key(first["id"])) == []

    report = sweep()  # the outage is over: the probe goes through, the incident closes, the rest drains
    assert report.incidents_closed == 1 and report.drained == 2, report
    first_runs, second_runs = runs(env, work_key(first["id"])), runs(env, work_key(second["id"]))
    assert len(first_runs) == 1 and len(second_runs) == 1
    assert first_runs[0].created_at <= second_runs[0].created_at  # oldest first
    # A new attempt key: the refused attempt's key is never replayed.
    assert first_runs[0].idempotency_key.endswith(".a2.0")
    assert env.api("GET", "/incidents").body == []
    work = env.api("GET", f"/work/{held[0].body['work_id']}").body
    assert work["state"] == "done" and [a["status"] for a in work["attempts"]] == ["refused", "sent"]
    decision = env.api("GET", f"/decisions/{held[0].body['decision_id']}").body
    assert decision["outcome"] == "triggered"
    assert sweep().drained == 0  # nothing runs twice


def test_a_failure_after_recovery_opens_a_new_incident_with_its_own_escalation(ledger_env: Any) -> None:
    env = ledger_env
    env.simulator.inject_fault(Fault(kind="status", path_prefix=LEAD_WEBHOOK, status=503, times=1))
    env.api("POST", "/events", _lead())
    [first] = env.api("GET", "/incidents").body
    sweep()
    env.simulator.inject_fault(Fault(kind="status", path_prefix=LEAD_WEBHOOK, status=503, times=1))
    again = env.api("POST", "/events", _lead())
    assert again.body["status"] == "held"
    [second] = env.api("GET", "/incidents").body
    assert second["incident_id"] != first["incident_id"]
    assert second["escalated_at"] is not None
    sweep()
    assert env.api("GET", f"/work/{again.body['work_id']}").body["state"] == "done"


def test_disabled_workflow_holds_until_enabled_and_redelivery_never_replays_the_refused_key(
    ledger_env: Any,
) -> None:
    env = ledger_env
    env.simulator.set_enabled("lead_enrichment", False)
    try:
        event = _lead()
        held = env.api("POST", "/events", event)
        assert held.body["status"] == "held", held.body
        [incident] = env.api("GET", "/incidents").body
        assert incident["key"] == "workflow:lead_enrichment" and incident["kind"] == "workflow"
        assert sweep().drained == 0  # still disabled: the probe is refused, nothing runs
        assert env.api("GET", f"/work/{held.body['work_id']}").body["state"] == "held"
        [still] = env.api("GET", "/incidents").body
        assert still["incident_id"] == incident["incident_id"] and still["probes"] == 1
    finally:
        env.simulator.set_enabled("lead_enrichment", True)
    sweep()
    # Refused triggers (the first, the probe) are on record as failed runs, each on its own key;
    # exactly one run went through, and a redelivery adds nothing.
    tried = runs(env, work_key(event["id"]))
    assert len({r.idempotency_key for r in tried}) == len(tried)
    [run] = [r for r in tried if r.status != "failed"]
    assert all(r.error and "WORKFLOW_DISABLED" in str(r.error) for r in tried if r is not run)
    assert env.api("POST", "/events", event).body["status"] == "done"
    assert len(runs(env, work_key(event["id"]))) == len(tried)


def test_an_operator_can_release_or_cancel_held_work(ledger_env: Any) -> None:
    env = ledger_env
    env.simulator.inject_fault(Fault(kind="status", path_prefix=LEAD_WEBHOOK, status=503, times=1))
    keep, drop = _lead(), _lead()
    held_keep = env.api("POST", "/events", keep).body
    env.simulator.inject_fault(Fault(kind="status", path_prefix=LEAD_WEBHOOK, status=503, times=1))
    held_drop = env.api("POST", "/events", drop).body
    assert held_keep["status"] == held_drop["status"] == "held"

    cancelled = env.api("POST", f"/work/{held_drop['work_id']}/cancel", {"reason": "sent by mistake"})
    assert cancelled.status == 200 and cancelled.body["state"] == "rejected"
    released = env.api("POST", f"/work/{held_keep['work_id']}/release")
    assert released.status == 200 and released.body["state"] == "done", released.body
    again = env.api("POST", f"/work/{held_keep['work_id']}/release")
    assert again.status == 409
    sweep()
    assert runs(env, work_key(drop["id"])) == []
    assert len(runs(env, work_key(keep["id"]))) == 1
    decision = env.api("GET", f"/decisions/{held_drop['decision_id']}").body
    assert decision["outcome"] == "rejected"


def test_an_escalation_that_cannot_be_sent_is_owed_not_lost(local_env: Any) -> None:
    import boto3
    from botocore.exceptions import ClientError

    from tests.work.conftest import fresh_ledger
    from tray_agent.data import aws

    topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="alerts-escalation-test")[
        "TopicArn"
    ]
    with fresh_ledger(local_env, TRAY_AGENT_ALERTS_TOPIC_ARN=topic) as env:
        failures = {"left": 1}

        def sns_down(**_: Any) -> None:
            if failures["left"]:
                failures["left"] -= 1
                raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, "Publish")

        sns = aws.client("sns")
        sns.meta.events.register("before-call.sns.Publish", sns_down)
        try:
            env.simulator.inject_fault(Fault(kind="status", path_prefix=LEAD_WEBHOOK, status=503, times=2))
            first = env.api("POST", "/events", _lead())
            assert first.status == 202 and first.body["status"] == "held"  # the work is safe
            [incident] = env.api("GET", "/incidents").body
            assert incident["escalated_at"] is None  # owed
            second = env.api("POST", "/events", _lead())
            assert second.body["status"] == "held"
            [incident] = env.api("GET", "/incidents").body
            assert incident["escalated_at"] is not None  # sent with the next hold, once
        finally:
            sns.meta.events.unregister("before-call.sns.Publish", sns_down)
        sweep()
