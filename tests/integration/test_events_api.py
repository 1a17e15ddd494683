"""The first slice end to end: HTTP event → policy decision → Tray webhook → audited decision.

The real API handler is called in-process with API Gateway HTTP API events; DynamoDB is moto;
Tray is the simulator over real HTTP.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.conftest import business_input, new_event, work_key


def executions_for(env: Any, event_id: str) -> list[Any]:
    env.simulator.wait_idle()
    return [e for e in env.simulator.executions() if (e.idempotency_key or "").startswith(work_key(event_id))]


def test_event_triggers_the_mapped_workflow_and_records_the_decision(local_env: Any) -> None:
    event = new_event()
    answer = local_env.api("POST", "/events", event)
    assert answer.status == 202, answer.body
    assert answer.body["action"] == "trigger"
    assert answer.body["workflow"] == "lead_enrichment"
    runs = executions_for(local_env, event["id"])
    assert [run.id for run in runs] == [answer.body["execution_id"]]
    assert business_input(runs[0]) == {
        "email": "ann@smallco.io",
        "source": "hubspot",
        "company": "SmallCo",
        "priority": "normal",
    }

    decision = local_env.api("GET", f"/decisions/{answer.body['decision_id']}")
    assert decision.status == 200
    assert decision.body["event_id"] == event["id"]
    assert decision.body["outcome"] == "triggered"
    assert decision.body["decision"]["rule"] == "standard-lead"
    assert decision.body["executions"][0]["execution_id"] == answer.body["execution_id"]


def test_sequential_duplicate_returns_the_first_answer_and_runs_once(local_env: Any) -> None:
    event = new_event()
    first = local_env.api("POST", "/events", event)
    second = local_env.api("POST", "/events", event)
    assert first.status == second.status == 202
    assert second.body == first.body
    assert len(executions_for(local_env, event["id"])) == 1


def test_twenty_concurrent_duplicates_start_exactly_one_execution(local_env: Any) -> None:
    event = new_event(data={"email": "cfo@bigbank.com", "company": "Big Bank", "employees": 5000})
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: local_env.api("POST", "/events", event), range(20)))
    assert {a.status for a in answers} == {202}, [a.body for a in answers if a.status != 202]
    assert len({a.body["decision_id"] for a in answers}) == 1
    runs = executions_for(local_env, event["id"])
    assert len(runs) == 1
    assert runs[0].workflow_name == "enterprise_lead_routing"


def test_spam_is_ignored_with_a_reason_and_costs_no_execution(local_env: Any) -> None:
    # Its own spammer: the same content as another test's, minutes apart, is a near-duplicate.
    event = new_event(data={"email": "prizes@mailinator.com", "company": "Free Money"})
    answer = local_env.api("POST", "/events", event)
    assert answer.status == 202
    assert answer.body["action"] == "ignore"
    assert answer.body["execution_id"] is None
    assert "spam" in answer.body["reason"]
    assert executions_for(local_env, event["id"]) == []
    decision = local_env.api("GET", f"/decisions/{answer.body['decision_id']}")
    assert decision.body["outcome"] == "ignored"


def _decisions_count(env: Any) -> int:
    import boto3

    return int(boto3.client("dynamodb").scan(TableName=env.settings.decisions_table, Select="COUNT")["Count"])


def test_malformed_json_is_400_and_changes_nothing(local_env: Any) -> None:
    before_runs, before_decisions = len(local_env.simulator.executions()), _decisions_count(local_env)
    answer = local_env.api("POST", "/events", '{"id": "x", "type": ')
    assert answer.status == 400
    assert answer.body["error"] == "MalformedJson"
    assert "not valid JSON" in answer.body["message"]
    assert len(local_env.simulator.executions()) == before_runs
    assert _decisions_count(local_env) == before_decisions


def test_missing_field_and_wrong_type_are_422_naming_the_field(local_env: Any) -> None:
    before_runs, before_decisions = len(local_env.simulator.executions()), _decisions_count(local_env)
    event = new_event()
    del event["source"]
    missing = local_env.api("POST", "/events", event)
    assert missing.status == 422
    assert "source" in missing.body["message"]

    wrong = local_env.api("POST", "/events", new_event(data=["not", "an", "object"]))
    assert wrong.status == 422
    assert "data" in wrong.body["message"]
    assert len(local_env.simulator.executions()) == before_runs
    assert _decisions_count(local_env) == before_decisions


def test_body_over_one_megabyte_is_413_before_parsing(local_env: Any) -> None:
    before_runs, before_decisions = len(local_env.simulator.executions()), _decisions_count(local_env)
    event = new_event(data={"blob": "x" * (1024 * 1024)})
    answer = local_env.api("POST", "/events", json.dumps(event))
    assert answer.status == 413
    assert "1048576 byte limit" in answer.body["message"]
    assert len(local_env.simulator.executions()) == before_runs
    assert _decisions_count(local_env) == before_decisions


def test_unknown_decision_is_404(local_env: Any) -> None:
    answer = local_env.api("GET", "/decisions/does-not-exist")
    assert answer.status == 404
    assert answer.body["error"] == "NotFound"


def test_health_and_openapi(local_env: Any) -> None:
    assert local_env.api("GET", "/health").body == {"status": "ok"}
    spec = local_env.api("GET", "/openapi.json")
    assert spec.status == 200
    assert "/events" in spec.body["paths"]
    assert "InboundEvent" in json.dumps(spec.body["components"])
