"""Agent fixtures: the shared local environment, optionally with the LLM brain switched on.

The LLM brain talks to ``tests/support/fake_openai.py`` through the real ``openai`` client.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.fake_openai import FakeOpenAI, ScriptedReply

MODEL = "scripted-model"


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def llm_env(local_env: Any, fake_openai: FakeOpenAI) -> Iterator[Any]:
    """``local_env`` as a container configured with a model (restored afterwards)."""
    fake_openai.requests.clear()
    fake_openai.rejections.clear()
    with local_env.reconfigured(
        TRAY_AGENT_OPENAI_BASE_URL=fake_openai.base_url,
        TRAY_AGENT_OPENAI_MODEL=MODEL,
        TRAY_AGENT_OPENAI_API_KEY="test-key",
        TRAY_AGENT_LLM_MAX_RETRIES="0",
        TRAY_AGENT_LLM_BUDGET_S="5",
    ):
        yield local_env
    # A test that left replies unused would leak them into the next test.
    while fake_openai._replies:
        fake_openai._replies.popleft()


def final(
    action: str,
    reason: str,
    confidence: float = 0.9,
    workflow: str | None = None,
    input: dict[str, Any] | None = None,
    **extra: Any,
) -> ScriptedReply:
    """A scripted final decision (the JSON object the system prompt asks for)."""
    body = {
        "action": action,
        "workflow": workflow,
        "input": input or {},
        "reason": reason,
        "confidence": confidence,
    }
    return ScriptedReply(content=json.dumps({**body, **extra}))


def customer() -> str:
    return f"cust-{uuid.uuid4().hex[:10]}"


def runs_for(env: Any, key_prefix: str) -> list[Any]:
    env.simulator.wait_idle()
    return [e for e in env.simulator.executions() if (e.idempotency_key or "").startswith(key_prefix)]


def decision(env: Any, decision_id: str) -> dict[str, Any]:
    answer = env.api("GET", f"/decisions/{decision_id}")
    assert answer.status == 200, answer.body
    body: dict[str, Any] = answer.body
    return body


def review_key(env: Any, review_id: str) -> str:
    """The attempt-key prefix of the work a decision review holds."""
    work_id = env.api("GET", f"/reviews/{review_id}").body["work_id"]
    assert work_id, f"review {review_id} names no work"
    return f"{work_id}."
