"""Approvals are never used up; large and deep events are recorded whole; held work shows in the summary."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.conftest import new_event, work_key
from tests.work.conftest import runs, sweep
from tray_local.simulator import Fault

REFUND_WEBHOOK = "/webhooks/"


def _held_refund(env: Any, amount: float = 120.0) -> dict[str, Any]:
    event = new_event(
        "refund.requested",
        customer_id="cust-approvals",
        source="zendesk",
        data={"amount": amount, "currency": "EUR"},
    )
    accepted = env.api("POST", "/events", event)
    assert accepted.status == 202 and accepted.body["status"] == "in_review", accepted.body
    return {"event": event, **accepted.body}


def test_approval_while_tray_fails_is_kept_and_runs_once_when_tray_recovers(ledger_env: Any) -> None:
    env = ledger_env
    refund = _held_refund(env)
    env.simulator.inject_fault(Fault(kind="status", status=503, path_prefix=REFUND_WEBHOOK, times=1))
    approved = env.api("POST", f"/reviews/{refund['review_id']}/approve", {})
    assert approved.status == 200, approved.body  # the approval is recorded, not an error
    work = env.api("GET", f"/work/{refund['work_id']}").body
    assert work["state"] == "held" and work["approved_by"] == "local-reviewer"
    assert env.api("POST", f"/reviews/{refund['review_id']}/approve", {}).status == 409
    assert runs(env, work_key(refund["event"]["id"])) == []

    sweep()  # Tray answers again: the approved refund runs, once
    [run] = runs(env, work_key(refund["event"]["id"]))
    assert run.input["amount"] == 120.0
    decision = env.api("GET", f"/decisions/{refund['decision_id']}").body
    assert decision["outcome"] == "triggered" and decision["resolved_by"] == "local-reviewer"
    sweep()
    assert len(runs(env, work_key(refund["event"]["id"]))) == 1


def test_a_misspelt_approval_field_is_refused_naming_it_and_uses_nothing_up(ledger_env: Any) -> None:
    env = ledger_env
    refund = _held_refund(env, amount=900)
    misspelt = env.api(
        "POST", f"/reviews/{refund['review_id']}/approve", {"edited_paylod": {"input": {"amount": 1}}}
    )
    assert misspelt.status == 422 and "edited_paylod" in misspelt.body["message"], misspelt.body
    rejected_typo = env.api("POST", f"/reviews/{refund['review_id']}/reject", {"reason": "x", "notes": "y"})
    assert rejected_typo.status == 422 and "notes" in rejected_typo.body["message"]
    assert env.api("GET", f"/reviews/{refund['review_id']}").body["status"] == "pending"
    assert env.api("GET", f"/work/{refund['work_id']}").body["state"] == "in_review"
    assert runs(env, work_key(refund["event"]["id"])) == []
    assert env.api("POST", f"/reviews/{refund['review_id']}/approve", {}).status == 200


def test_a_near_limit_event_is_recorded_whole_and_its_decision_readable(ledger_env: Any) -> None:
    env = ledger_env
    notes = "x" * (900 * 1024)  # the record is far past DynamoDB's 400 KB item
    event = new_event(data={"email": "ann@smallco.io", "company": "SmallCo", "employees": 12, "notes": notes})
    answer = env.api("POST", "/events", event)
    assert answer.status == 202 and answer.body["status"] == "done", answer.body
    decision = env.api("GET", f"/decisions/{answer.body['decision_id']}")
    assert decision.status == 200
    assert len(decision.body["inputs"]["data"]["notes"]) > 1000  # kept (truncated for reading), not lost
    assert env.api("GET", f"/work/{answer.body['work_id']}").body["state"] == "done"
    assert env.api("POST", "/events", event).body == answer.body


def test_a_32_level_event_is_recorded_and_answered(ledger_env: Any) -> None:
    env = ledger_env
    deep: dict[str, Any] = {"leaf": 1}
    for _ in range(29):  # the body's own two levels (event → data) make 32 in all
        deep = {"n": deep}
    event = new_event(data={"email": "ann@smallco.io", "company": "Deep Co", "employees": 3, "tree": deep})
    answer = env.api("POST", "/events", event)
    assert answer.status == 202, answer.body
    assert env.api("GET", f"/decisions/{answer.body['decision_id']}").status == 200


def test_held_work_and_its_incident_are_in_the_daily_summary(ledger_env: Any) -> None:
    env = ledger_env
    env.simulator.inject_fault(Fault(kind="status", status=503, path_prefix="/webhooks/", times=1))
    held = env.api("POST", "/events", new_event(data={"email": "b@smallco.io", "company": "B Co"}))
    assert held.body["status"] == "held"
    today = datetime.now(UTC).date().isoformat()
    summary = env.api("GET", f"/summary/{today}").body
    assert summary["held_work"] == 1
    [incident] = summary["open_incidents"]
    assert "Tray is failing" in incident and "1 held" in incident
    sweep()
    assert env.api("GET", f"/summary/{today}").body["held_work"] == 0


def test_the_sweep_reports_the_review_queue_depth_and_its_oldest_age(ledger_env: Any) -> None:
    """What the dashboard's review-queue graph shows (ReviewQueueDepth, ...OldestAgeSeconds)."""
    from datetime import timedelta

    from tray_agent.config import get_settings
    from tray_agent.domain.agent.service import build_sweeper

    before = sweep().reviews_pending
    refund = _held_refund(ledger_env, amount=77.0)  # another amount: not a duplicate of the others
    an_hour_later = datetime.now(UTC) + timedelta(hours=1)
    report = build_sweeper(get_settings()).sweep(an_hour_later)
    assert report.reviews_pending == before + 1
    assert report.oldest_review_s >= 3600
    assert ledger_env.api("POST", f"/reviews/{refund['review_id']}/reject", {"reason": "test"}).status == 200
    assert sweep().reviews_pending == before
