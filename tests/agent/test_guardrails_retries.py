"""Guardrails cover retries: a retry re-runs a workflow, so it passes the same checks a trigger does.

A retry of a workflow the registry does not describe, or of a high-risk or approval-only one, is
held for a person; a registered low/medium-risk retry runs, its modified input validated.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.agent.conftest import decision, final
from tests.conftest import new_event
from tests.support.fake_openai import FakeOpenAI, ScriptedReply
from tray_agent.config import DEFAULT_RULES_FILE, DEFAULT_WORKFLOWS_FILE, get_settings
from tray_agent.domain.agent.guardrails import Guardrails
from tray_agent.domain.agent.registry import ToolRegistry
from tray_agent.models.decisions import Decision, DecisionAction, WorkflowCall
from tray_agent.tray import get_tray_clients
from tray_local.simulator import SEED_STORIES
from tray_local.simulator.scripts import WorkflowScript


@pytest.fixture(scope="module")
def guard() -> Guardrails:
    return Guardrails(ToolRegistry.from_file(DEFAULT_WORKFLOWS_FILE), confidence_threshold=0.7)


def _retry(workflow: str, input: dict[str, Any] | None = None, confidence: float = 0.9) -> Decision:
    return Decision(
        action=DecisionAction.RETRY,
        calls=[WorkflowCall(workflow=workflow, input=input or {}, retry_of="exec-1")],
        reason="r",
        confidence=confidence,
    )


def test_a_retry_of_an_unregistered_workflow_is_held_with_or_without_input(guard: Guardrails) -> None:
    for input in ({}, {"anything": "goes"}):
        verdict = guard.check(_retry("wire_money", input))
        assert not verdict.execute
        assert verdict.held_because == "retry of execution exec-1: 'wire_money' is not a registered workflow"
        assert verdict.calls == _retry("wire_money", input).calls  # held as planned, for the reviewer


def test_a_retry_of_an_approval_only_or_high_risk_workflow_is_held(guard: Guardrails) -> None:
    plain = guard.check(_retry("issue_refund"))
    assert not plain.execute and plain.held_because == "retry of issue_refund requires human approval"
    modified = guard.check(_retry("issue_refund", {"customer_id": "c", "amount": 5, "currency": "EUR"}))
    assert not modified.execute and "retry of issue_refund requires human approval" in (
        modified.held_because or ""
    )


def test_a_registered_low_or_medium_risk_retry_runs(guard: Guardrails) -> None:
    as_it_was = guard.check(_retry("order_processing"))
    assert as_it_was.execute and as_it_was.calls[0].input == {} and as_it_was.calls[0].retry_of == "exec-1"
    modified = guard.check(_retry("order_processing", {"order_data": {"id": 1}}))
    assert modified.execute
    assert modified.calls[0].input == {"order_data": {"id": 1}, "expedited": False}  # schema applied
    assert modified.calls[0].retry_of == "exec-1"


def test_a_modified_retry_input_must_match_the_schema(guard: Guardrails) -> None:
    verdict = guard.check(_retry("csm_health_task", {"customer_id": "c"}))
    assert not verdict.execute
    assert "input for workflow 'csm_health_task' is invalid" in (verdict.held_because or "")


def test_a_confident_retry_below_the_threshold_is_held_too(guard: Guardrails) -> None:
    verdict = guard.check(_retry("order_processing", confidence=0.3))
    assert not verdict.execute and "below the 0.70 threshold" in (verdict.held_because or "")


def test_a_chain_with_one_unregistered_retry_runs_nothing(guard: Guardrails) -> None:
    chain = Decision(
        action=DecisionAction.CHAIN,
        calls=[
            WorkflowCall(workflow="order_processing", input={"order_data": {"id": 1}}),
            WorkflowCall(workflow="shadow_workflow", retry_of="exec-2"),
        ],
        reason="r",
    )
    verdict = guard.check(chain)
    assert not verdict.execute and "'shadow_workflow' is not a registered workflow" in (
        verdict.held_because or ""
    )


def _failed_execution(env: Any, workflow: str) -> str:
    clients = get_tray_clients(get_settings())
    env.simulator.set_script(workflow, SEED_STORIES[workflow])
    try:
        execution = clients.workflows.execute(
            env.simulator.workflow_id(workflow),
            {"name": "Acme", "industry": "SaaS", "employees": 80},
            idempotency_key=f"test-{uuid.uuid4()}",
        )
        failed = clients.workflows.wait_for_execution(execution.id, timeout_s=5, poll_interval_s=0.05)
    finally:
        env.simulator.set_script(workflow, WorkflowScript())
    assert failed.status == "failed"
    return failed.id


def test_a_model_retrying_a_workflow_outside_the_registry_is_held_and_nothing_reruns(
    llm_env: Any, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """Tray runs salesforce_account_upsert, but this deployment's registry does not describe it."""
    failed_id = _failed_execution(llm_env, "salesforce_account_upsert")
    workflows = json.loads(DEFAULT_WORKFLOWS_FILE.read_text())
    workflows["workflows"] = [w for w in workflows["workflows"] if w["name"] != "salesforce_account_upsert"]
    narrower = tmp_path / "workflows.json"
    narrower.write_text(json.dumps(workflows))
    rules = json.loads(DEFAULT_RULES_FILE.read_text())  # and no rule names it either
    rules["rules"] = [r for r in rules["rules"] if r["then"].get("workflow") != "salesforce_account_upsert"]
    fewer_rules = tmp_path / "rules.json"
    fewer_rules.write_text(json.dumps(rules))
    with llm_env.reconfigured(
        TRAY_AGENT_WORKFLOWS_FILE=str(narrower), TRAY_AGENT_RULES_FILE=str(fewer_rules)
    ):
        fake_openai.script(
            ScriptedReply(
                tool_calls=[
                    (
                        "retry_failed_execution",
                        {"execution_id": failed_id, "modified_input": {"industry": "anything", "owner": "x"}},
                    )
                ]
            ),
            final("retry", "the upsert failed; retrying with a fix", 0.99, retry_execution_id=failed_id),
        )
        event = new_event(
            "ticket.created", data={"ticket_id": "t-retry", "subject": f"execution {failed_id} failed"}
        )
        answer = llm_env.api("POST", "/events", event)
        assert answer.status == 202, answer.body
        assert answer.body["execution_id"] is None
        assert answer.body["review_id"]
        record = decision(llm_env, answer.body["decision_id"])
    assert record["outcome"] == "in_review"
    assert "'salesforce_account_upsert' is not a registered workflow" in record["guardrail"]
    llm_env.simulator.wait_idle()
    assert [e for e in llm_env.simulator.executions() if e.retry_of == failed_id] == []
