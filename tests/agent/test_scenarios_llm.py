"""The seed's five scenarios on the LLM brain: the real ``openai`` client against a scripted
OpenAI-compatible endpoint, through the real API handler, with Tray as the simulator.

Every scenario runs once per endpoint kind (``ENDPOINTS``: an OpenAI reasoning model, an OpenAI
chat model, an Azure deployment of a reasoning model, a classic OpenAI-compatible server); the
scripted endpoint refuses, as the real one does, any request the provider profile got wrong."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.agent.conftest import customer, decision, final, runs_for
from tests.conftest import business_input, new_event, work_key
from tests.support.fake_openai import ENDPOINTS, FakeOpenAI, ScriptedReply


@pytest.fixture(params=sorted(ENDPOINTS))
def llm_env(request: pytest.FixtureRequest, llm_env: Any, fake_openai: FakeOpenAI) -> Iterator[Any]:
    """The agent conftest's ``llm_env`` pointed at one kind of endpoint."""
    endpoint = fake_openai.use(request.param)
    try:
        # The same scenario content runs once per endpoint: not a duplicate submission of a form.
        with llm_env.reconfigured(**endpoint.env(fake_openai), TRAY_AGENT_DUPLICATE_WINDOW_S="0"):
            yield llm_env
        assert fake_openai.rejections == [], fake_openai.rejections
    finally:
        fake_openai.use("compatible")
        fake_openai.rejections.clear()


def _user_message(request: dict[str, Any]) -> str:
    return str(next(m["content"] for m in request["messages"] if m["role"] == "user"))


def test_scenario_1_model_routes_the_series_b_fintech_to_enterprise(
    llm_env: Any, fake_openai: FakeOpenAI
) -> None:
    brief = "Strategic: 200-person fintech that just raised a Series B; use fintech enrichment sources."
    fake_openai.script(
        # First attempt forgets the required briefing note: a tool error, never sent to Tray.
        ScriptedReply(
            tool_calls=[("enterprise_lead_routing", {"email": "cto@ledgerly.io", "company": "Ledgerly"})]
        ),
        ScriptedReply(
            tool_calls=[
                (
                    "enterprise_lead_routing",
                    {
                        "email": "cto@ledgerly.io",
                        "company": "Ledgerly",
                        "briefing_note": brief,
                        "enrichment_sources": ["crunchbase", "pitchbook"],
                    },
                )
            ]
        ),
        final("trigger", "fast-growing fintech after a Series B: strategic account", 0.86),
    )
    event = new_event(
        data={"email": "cto@ledgerly.io", "company": "Ledgerly", "employees": 200, "industry": "fintech"}
    )
    answer = llm_env.api("POST", "/events", event)
    assert answer.status == 202, answer.body
    assert answer.body["brain"] == "llm"
    assert answer.body["workflow"] == "enterprise_lead_routing"
    [run] = runs_for(llm_env, work_key(event["id"]))
    assert run.input["briefing_note"] == brief

    second_request = fake_openai.requests[1]
    tool_error = second_request["messages"][-1]
    assert tool_error["role"] == "tool"
    assert "briefing_note" in tool_error["content"]
    assert {t["function"]["name"] for t in second_request["tools"]} >= {
        "enterprise_lead_routing",
        "check_execution_status",
        "retry_failed_execution",
        "lookup_customer_context",
        "route_to_human_review",
        "record_no_action",
    }
    record = decision(llm_env, answer.body["decision_id"])
    assert record["decision"]["brain"] == "llm"
    assert [c["ok"] for c in record["decision"]["tool_calls"]] == [False, True]
    usage = record["decision"]["usage"]
    assert usage["model"] == fake_openai.endpoint.model
    assert usage["requests"] == 3
    assert usage["prompt_tokens"] == 360 and usage["completion_tokens"] == 120
    if fake_openai.endpoint.provider == "auto":  # llama3.1 on a local server: no price is known
        assert usage["estimated_cost_usd"] is None
    else:  # priced from model_prices.json: 360 input and 120 output tokens
        assert usage["estimated_cost_usd"] > 0 and usage["prices_taken_on"]


def test_scenario_1_spam_is_dropped_before_a_token_is_spent(llm_env: Any, fake_openai: FakeOpenAI) -> None:
    event = new_event(data={"email": "win@mailinator.com", "company": "Free Money"})
    answer = llm_env.api("POST", "/events", event)
    assert answer.body["action"] == "ignore"
    assert answer.body["brain"] == "policy"
    assert fake_openai.requests == []
    assert runs_for(llm_env, work_key(event["id"])) == []


def test_scenario_2_model_sees_three_failed_orders_and_expedites(
    llm_env: Any, fake_openai: FakeOpenAI
) -> None:
    cid = customer()
    for n in range(3):
        failed = new_event("order.failed", customer_id=cid, source="shopify", data={"order_id": f"o-{n}"})
        assert llm_env.api("POST", "/events", failed).body["action"] == "ignore"
    assert fake_openai.requests == []  # failures are remembered by the policy's first pass
    order = {"order_id": "o-9", "total": 250}
    fake_openai.script(
        ScriptedReply(tool_calls=[("lookup_customer_context", {"customer_id": cid})]),
        final(
            "trigger",
            "three failed orders this week: expedite to win back trust",
            0.8,
            workflow="order_processing",
            input={"order_data": order, "expedited": True},
        ),
    )
    event = new_event("order.created", customer_id=cid, source="shopify", data=order)
    answer = llm_env.api("POST", "/events", event)
    assert answer.status == 202, answer.body
    [run] = runs_for(llm_env, work_key(event["id"]))
    assert business_input(run) == {"order_data": order, "expedited": True}
    assert '"failed_orders_7d": 3' in _user_message(fake_openai.requests[0])
    looked_up = json.loads(fake_openai.requests[1]["messages"][-1]["content"])
    assert looked_up["failed_orders_7d"] == 3


def test_scenario_3_model_writes_the_csm_brief(llm_env: Any, fake_openai: FakeOpenAI) -> None:
    cid = customer()
    brief = "Tickets doubled, usage down a third, renewal in 12 days: call the sponsor this week."
    fake_openai.script(
        final(
            "trigger",
            "combination of churn signals",
            0.82,
            workflow="csm_health_task",
            input={"customer_id": cid, "risk_level": "high", "brief": brief, "check_in_within_days": 2},
        )
    )
    data = {"ticket_frequency_change_pct": 100, "usage_change_pct": -33, "renewal_in_days": 12}
    event = new_event("customer.health_signals", customer_id=cid, source="warehouse", data=data)
    assert llm_env.api("POST", "/events", event).body["workflow"] == "csm_health_task"
    [run] = runs_for(llm_env, work_key(event["id"]))
    assert run.input["brief"] == brief


def test_scenario_4_model_picks_tools_and_permissions(llm_env: Any, fake_openai: FakeOpenAI) -> None:
    provisioning = {
        "employee_email": "kai@corp.io",  # not the policy scenario's hire: that one is another event
        "role": "Software Engineer",
        "department": "engineering",
        "seniority": "junior",
        "tools": ["google_workspace", "slack", "okta", "github", "aws"],
        "permissions": {"aws": "read", "github": "write"},
    }
    fake_openai.script(
        final(
            "trigger",
            "junior engineer: no AWS admin",
            0.9,
            workflow="employee_provisioning",
            input=provisioning,
        )
    )
    data = {
        "email": "kai@corp.io",
        "role": "Software Engineer",
        "department": "engineering",
        "seniority": "junior",
    }
    event = new_event("employee.hired", source="bamboohr", data=data)
    llm_env.api("POST", "/events", event)
    [run] = runs_for(llm_env, work_key(event["id"]))
    assert run.input["permissions"] == {"aws": "read", "github": "write"}


def test_scenario_5_duplicates_unknown_types_and_no_action(llm_env: Any, fake_openai: FakeOpenAI) -> None:
    first = new_event(data={"email": "bo@dupe.io", "company": "Dupe", "employees": 30})
    fake_openai.script(
        ScriptedReply(
            tool_calls=[("record_no_action", {"reason": "internal test submission", "confidence": 0.95})]
        )
    )
    answer = llm_env.api("POST", "/events", first)
    assert answer.body["action"] == "ignore"
    assert answer.body["reason"] == "internal test submission"
    assert len(fake_openai.requests) == 1

    again = llm_env.api("POST", "/events", dict(first, id=first["id"] + "-resent"))
    assert "duplicate of event" in again.body["reason"]
    unknown = llm_env.api("POST", "/events", new_event("newsletter.opened", data={}))
    assert unknown.body["action"] == "ignore"
    assert len(fake_openai.requests) == 1  # neither cost a token
    assert runs_for(llm_env, work_key(first["id"])) == []
