"""The LLM brain schedules a follow-up with its ``schedule_follow_up`` tool (issue 12)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.agent.conftest import final
from tests.conftest import new_event
from tests.support.fake_openai import FakeOpenAI, ScriptedReply


def test_the_model_schedules_the_onboarding_check(llm_env: Any, fake_openai: FakeOpenAI) -> None:
    email = f"llm-{uuid.uuid4().hex[:8]}@corp.io"
    tools = ["google_workspace", "slack", "okta"]
    check = {"employee_email": email, "tools": tools, "manager_email": "boss@corp.io"}
    fake_openai.script(
        ScriptedReply(
            tool_calls=[("schedule_follow_up", {"after": "3d", "check": "accounts_active", "input": check})]
        ),
        final(
            "trigger",
            "designer: base tool set; check the accounts in three days",
            0.9,
            workflow="employee_provisioning",
            input={"employee_email": email, "tools": tools},
        ),
    )
    event = new_event("employee.hired", source="bamboohr", data={"email": email, "department": "design"})
    assert llm_env.api("POST", "/events", event).body["brain"] == "llm"
    [view] = llm_env.api("GET", "/follow-ups", query={"person": email}).body
    assert view["check"] == "accounts_active" and view["state"] == "received"


def test_a_bad_follow_up_goes_back_to_the_model(llm_env: Any, fake_openai: FakeOpenAI) -> None:
    email = f"llm-{uuid.uuid4().hex[:8]}@corp.io"
    fake_openai.script(
        ScriptedReply(
            tool_calls=[("schedule_follow_up", {"after": "a year", "check": "accounts_active", "input": {}})]
        ),
        final(
            "trigger",
            "base set",
            0.9,
            workflow="employee_provisioning",
            input={"employee_email": email, "tools": ["slack"]},
        ),
    )
    event = new_event("employee.hired", source="bamboohr", data={"email": email, "department": "design"})
    llm_env.api("POST", "/events", event)
    tool_answer = fake_openai.requests[1]["messages"][-1]
    assert tool_answer["role"] == "tool" and "duration" in tool_answer["content"]
    assert llm_env.api("GET", "/follow-ups", query={"person": email}).body == []
