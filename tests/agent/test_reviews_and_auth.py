"""Human review through the API (exactly-once approval, edits, rejection) and authentication."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import boto3

from tests.agent.conftest import customer, decision, review_key, runs_for
from tests.conftest import business_input, new_event, work_key
from tray_agent.domain.auth import sign
from tray_local.local_env import LOCAL_SIGNING_SECRET


def _refund_request(env: Any, amount: float = 120.0) -> tuple[str, dict[str, Any]]:
    cid = customer()
    event = new_event(
        "refund.requested", customer_id=cid, source="zendesk", data={"amount": amount, "currency": "EUR"}
    )
    answer = env.api("POST", "/events", event)
    assert answer.status == 202, answer.body
    assert answer.body["review_id"], answer.body
    return cid, answer.body


def test_held_decision_is_listed_then_approval_runs_it_exactly_once(local_env: Any) -> None:
    cid, accepted = _refund_request(local_env)
    review_id = accepted["review_id"]
    assert runs_for(local_env, review_key(local_env, review_id)) == []

    listed = local_env.api("GET", "/reviews")
    assert review_id in [item["review_id"] for item in listed.body]
    item = local_env.api("GET", f"/reviews/{review_id}").body
    assert item["kind"] == "decision"
    assert item["payload"]["calls"][0]["workflow"] == "issue_refund"
    assert "requires human approval" in item["reason"]

    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(
            pool.map(lambda _: local_env.api("POST", f"/reviews/{review_id}/approve", {}), range(5))
        )
    assert sorted(a.status for a in answers) == [200, 409, 409, 409, 409], [a.body for a in answers]
    [run] = runs_for(local_env, review_key(local_env, review_id))
    assert business_input(run) == {"customer_id": cid, "amount": 120.0, "currency": "EUR"}

    record = decision(local_env, accepted["decision_id"])
    assert record["outcome"] == "triggered"
    assert record["resolved_by"] == "local-reviewer"
    assert record["executions"][0]["execution_id"] == run.id
    approved = local_env.api("GET", "/reviews", query={"status": "approved"}).body
    assert review_id in [i["review_id"] for i in approved]


def test_approval_with_edited_input_runs_the_edit_and_bad_edits_change_nothing(local_env: Any) -> None:
    cid, accepted = _refund_request(local_env, amount=900)
    review_id = accepted["review_id"]
    bad = local_env.api(
        "POST", f"/reviews/{review_id}/approve", {"edited_payload": {"input": {"amount": -1}}}
    )
    assert bad.status == 400, bad.body
    assert local_env.api("GET", f"/reviews/{review_id}").body["status"] == "pending"

    edit = {"customer_id": cid, "amount": 450, "currency": "EUR", "reason": "half, agreed by phone"}
    ok = local_env.api(
        "POST", f"/reviews/{review_id}/approve", {"edited_payload": {"input": edit}, "note": "halved"}
    )
    assert ok.status == 200, ok.body
    assert ok.body["resolution_payload"]["calls"][0]["input"]["amount"] == 450
    [run] = runs_for(local_env, review_key(local_env, review_id))
    assert business_input(run) == edit


def test_rejection_records_the_reason_and_runs_nothing(local_env: Any) -> None:
    _, accepted = _refund_request(local_env)
    review_id = accepted["review_id"]
    answer = local_env.api("POST", f"/reviews/{review_id}/reject", {"reason": "not eligible"})
    assert answer.status == 200
    assert answer.body["status"] == "rejected"
    assert local_env.api("POST", f"/reviews/{review_id}/approve", {}).status == 409
    assert runs_for(local_env, review_key(local_env, review_id)) == []
    assert decision(local_env, accepted["decision_id"])["outcome"] == "rejected"


def test_unknown_review_is_404(local_env: Any) -> None:
    assert local_env.api("GET", "/reviews/nope").status == 404
    assert local_env.api("POST", "/reviews/nope/approve", {}).status == 404


def _decision_count(env: Any) -> int:
    return int(boto3.client("dynamodb").scan(TableName=env.settings.decisions_table, Select="COUNT")["Count"])


def signed(
    body: bytes, secret: str = LOCAL_SIGNING_SECRET, age_s: int = 0, **overrides: str
) -> dict[str, str]:
    timestamp, nonce = str(int(time.time()) - age_s), uuid.uuid4().hex
    headers = {
        "X-Tray-Agent-Timestamp": timestamp,
        "X-Tray-Agent-Nonce": nonce,
        "X-Tray-Agent-Signature": sign(secret, timestamp, nonce, body),
    }
    return {**headers, **overrides}


def test_unsigned_badly_signed_and_replayed_events_are_401_and_change_nothing(local_env: Any) -> None:
    event = new_event()
    body = json.dumps(event).encode()
    tampered = signed(body)
    tampered["X-Tray-Agent-Signature"] = sign(
        LOCAL_SIGNING_SECRET, tampered["X-Tray-Agent-Timestamp"], tampered["X-Tray-Agent-Nonce"], body + b" "
    )
    no_nonce = signed(body)
    del no_nonce["X-Tray-Agent-Nonce"]
    attempts = {
        "unsigned": {},
        "wrong secret": signed(body, secret="guess"),
        "tampered body": tampered,
        "no nonce": no_nonce,
        "old timestamp (replay after the window)": signed(body, age_s=301),
        "reviewer token is not a sender": {"Authorization": "Bearer local-reviewer-token"},
    }
    before = _decision_count(local_env)
    for name, headers in attempts.items():
        answer = local_env.api("POST", "/events", body, headers=headers, auth=False)
        assert answer.status == 401, (name, answer.body)
        assert answer.body["error"] == "Authentication"
    assert runs_for(local_env, work_key(event["id"])) == []
    assert _decision_count(local_env) == before

    good = signed(body)
    assert local_env.api("POST", "/events", body, headers=good, auth=False).status == 202
    after_first = _decision_count(local_env)
    replay = local_env.api("POST", "/events", body, headers=good, auth=False)  # captured and re-sent
    assert replay.status == 401
    assert "replayed" in replay.body["message"]
    assert _decision_count(local_env) == after_first
    assert len(runs_for(local_env, work_key(event["id"]))) == 1


def test_review_endpoints_need_a_reviewer_token(local_env: Any) -> None:
    _, accepted = _refund_request(local_env)
    review_id = accepted["review_id"]
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}, signed(b"{}")):
        answer = local_env.api("POST", f"/reviews/{review_id}/approve", "{}", headers=headers, auth=False)
        assert answer.status == 401, (headers, answer.body)
    assert local_env.api("GET", "/reviews", auth=False).status == 401
    assert local_env.api("GET", f"/reviews/{review_id}").body["status"] == "pending"
    assert local_env.api("GET", f"/decisions/{accepted['decision_id']}", auth=False).status == 401
    assert local_env.api("GET", "/health", auth=False).status == 200


def test_customer_decisions_and_the_daily_summary(local_env: Any) -> None:
    from tray_agent.domain.agent.memory import OperationsSummary

    cid = customer()
    ids = []
    for n in range(2):
        event = new_event("ticket.created", customer_id=cid, source="zendesk", data={"ticket_id": f"t-{n}"})
        ids.append(local_env.api("POST", "/events", event).body["decision_id"])
    history = local_env.api("GET", f"/customers/{cid}/decisions")
    assert history.status == 200
    assert sorted(r["decision_id"] for r in history.body) == sorted(ids)
    assert local_env.api("GET", f"/customers/{customer()}/decisions").body == []

    day = "2031-01-02"  # a day of its own: other tests do not write to it
    summary = OperationsSummary(local_env.settings)
    summary.record(day, "execution", "lead_enrichment", "succeeded", count=2)
    for _ in range(2):
        summary.record(day, "execution", "lead_enrichment", "failed")
    summary.record(day, "execution", "lead_enrichment", "failed", note="Clearbit 503 since 09:00")
    answer = local_env.api("GET", f"/summary/{day}")
    assert answer.status == 200, answer.body
    assert answer.body["totals"] == {"execution": 5}
    assert answer.body["workflows"][0]["by_outcome"] == {"failed": 3, "succeeded": 2}
    assert answer.body["flags"] == ["lead_enrichment: 3 of 5 failed today (60%)"]
    assert answer.body["notes"][0]["note"] == "Clearbit 503 since 09:00"
    assert local_env.api("GET", "/summary/not-a-day").status == 422  # the documented pattern
    assert local_env.api("GET", "/summary/2026-02-30").status == 404  # the shape, but no such day
    today = local_env.api("GET", f"/summary/{datetime.now(UTC).date().isoformat()}").body
    assert today["totals"]["decision"] >= 2  # the agent records every decision it makes
