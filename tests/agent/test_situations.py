"""``decide_situation``: the monitor asks the agent about a failure, with logs and context.

Seed 000, "Error Recovery That Actually Recovers": Salesforce rejects Industry "SaaS"; the
agent reads the execution, sees the picklist error, and retries with "Technology - SaaS".
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.agent.conftest import final
from tests.support.fake_openai import FakeOpenAI, ScriptedReply
from tray_agent.config import get_settings
from tray_agent.domain.agent.brain import decide_situation
from tray_agent.domain.agent.service import build_event_service
from tray_agent.tray import get_tray_clients
from tray_local.simulator import SEED_STORIES
from tray_local.simulator.scripts import WorkflowScript


def _failed_account_upsert(env: Any) -> str:
    settings = get_settings()
    clients = get_tray_clients(settings)
    env.simulator.set_script("salesforce_account_upsert", SEED_STORIES["salesforce_account_upsert"])
    try:
        execution = clients.workflows.execute(
            env.simulator.workflow_id("salesforce_account_upsert"),
            {"name": "Acme", "industry": "SaaS", "employees": 80},
            idempotency_key=f"test-{uuid.uuid4()}",
        )
        failed = clients.workflows.wait_for_execution(execution.id, timeout_s=5, poll_interval_s=0.05)
    finally:
        env.simulator.set_script("salesforce_account_upsert", WorkflowScript())
    assert failed.status == "failed"
    return failed.id


def test_model_reads_the_failure_and_retries_with_corrected_input(
    llm_env: Any, fake_openai: FakeOpenAI
) -> None:
    failed_id = _failed_account_upsert(llm_env)
    fixed = {"name": "Acme", "industry": "Technology - SaaS", "employees": 80}
    fake_openai.script(
        ScriptedReply(tool_calls=[("check_execution_status", {"execution_id": failed_id})]),
        ScriptedReply(
            tool_calls=[("retry_failed_execution", {"execution_id": failed_id, "modified_input": fixed})]
        ),
        final("retry", "Industry 'SaaS' is not in the picklist; 'Technology - SaaS' is", 0.9),
    )
    settings = get_settings()
    decision = decide_situation(
        settings,
        kind="execution_failure",
        summary="salesforce_account_upsert failed",
        data={
            "execution_id": failed_id,
            "workflow": "salesforce_account_upsert",
            "logs": ["validation failed"],
        },
        context={"failure_count_today": 1},
    )
    assert decision.brain == "llm"
    status_seen = json.loads(fake_openai.requests[1]["messages"][-1]["content"])
    assert status_seen["status"] == "failed"
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" in json.dumps(status_seen)

    record = build_event_service(settings).carry_out(
        decision, origin_id=f"situation-{uuid.uuid4()}", event_type="execution_failure", source="monitor"
    )
    assert record.outcome.value == "triggered", record.error
    llm_env.simulator.wait_idle()
    [retry] = [e for e in llm_env.simulator.executions() if e.retry_of == failed_id]
    assert retry.input == fixed
    assert retry.status == "succeeded"
    assert record.executions[0].execution_id == retry.id


def test_without_a_model_an_unknown_failure_goes_to_a_person(local_env: Any) -> None:
    settings = get_settings()
    data = {"execution_id": "exec-x", "workflow": "lead_enrichment", "error_code": "WEIRD"}
    decision = decide_situation(settings, kind="execution_failure", summary="unknown failure", data=data)
    assert decision.brain == "policy"
    assert decision.action.value == "review"
    record = build_event_service(settings).carry_out(
        decision, origin_id=f"situation-{uuid.uuid4()}", event_type="execution_failure", source="monitor"
    )
    assert record.outcome.value == "in_review"
    item = local_env.api("GET", f"/reviews/{record.review_id}").body
    assert "no model is available" in item["reason"] or "no model is available" in " ".join(item["findings"])
    approved = local_env.api("POST", f"/reviews/{record.review_id}/approve", {"note": "looked at it"})
    assert approved.status == 200, approved.body
