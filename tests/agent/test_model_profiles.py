"""Provider profiles, the scripted endpoint's strictness and model prices."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.conftest import new_event
from tests.support.fake_openai import ENDPOINTS, FakeOpenAI, ScriptedReply
from tray_agent.config import Settings
from tray_agent.llm_prices import account, price_for
from tray_agent.llm_profiles import profile_for, strict_schema_ok
from tray_agent.models.decisions import Usage


@pytest.mark.parametrize(
    ("base_url", "model", "expected"),
    [
        ("", "gpt-5-mini", "openai-reasoning"),
        ("https://api.openai.com/v1", "o4-mini-2025-04-16", "openai-reasoning"),
        ("https://api.openai.com/v1", "o1", "openai-reasoning"),
        ("", "gpt-4.1", "openai-chat"),
        ("", "gpt-4o-mini", "openai-chat"),
        ("", "gpt-5-chat-latest", "openai-chat"),
        ("https://acme.openai.azure.com", "o3", "azure-reasoning"),
        ("https://acme.cognitiveservices.azure.com/", "gpt-4o", "azure-chat"),
        ("http://localhost:11434/v1", "llama3.1:8b", "compatible-chat"),
        ("http://vllm:8000/v1", "Qwen/Qwen2.5-7B-Instruct", "compatible-chat"),
        ("http://litellm:4000", "openai/gpt-5", "compatible-reasoning"),
    ],
)
def test_auto_detects_the_provider_and_the_model_family(base_url: str, model: str, expected: str) -> None:
    assert profile_for(Settings(openai_base_url=base_url, openai_model=model)).name == expected


def test_each_profile_sends_only_what_its_endpoint_accepts() -> None:
    tools = [
        {"type": "function", "function": {"name": "a", "parameters": {"type": "object", "properties": {}}}},
    ]
    reasoning = profile_for(Settings(openai_model="gpt-5", llm_max_tokens=1000)).chat_kwargs([], tools=tools)
    assert "temperature" not in reasoning and "max_tokens" not in reasoning
    assert reasoning["reasoning_effort"] == "low" and reasoning["tool_choice"] == "auto"
    capped = profile_for(Settings(openai_model="gpt-5", llm_max_tokens=1000)).sampling(1000)
    assert capped["max_completion_tokens"] == 1000 + 4096  # room for hidden reasoning
    chat = profile_for(Settings(openai_model="gpt-4.1")).sampling(500)
    assert chat == {"max_completion_tokens": 500, "temperature": 0}
    local = profile_for(Settings(openai_base_url="http://127.0.0.1:8080/v1", openai_model="qwen"))
    assert local.chat_kwargs([], tools=tools, max_tokens=500) == {
        "model": "qwen",
        "messages": [],
        "tools": tools,
        "max_tokens": 500,
        "temperature": 0,
    }
    azure = profile_for(
        Settings(
            openai_base_url="https://x.openai.azure.com", openai_model="o3", azure_openai_deployment="d1"
        )
    )
    assert azure.chat_kwargs([])["model"] == "d1"


def test_strict_tools_only_where_the_schema_allows_it() -> None:
    closed = {
        "type": "object",
        "additionalProperties": False,
        "required": ["a"],
        "properties": {"a": {"type": "string"}},
    }
    assert strict_schema_ok(closed)
    assert not strict_schema_ok({**closed, "required": []})
    assert not strict_schema_ok({k: v for k, v in closed.items() if k != "additionalProperties"})


@pytest.fixture
def reasoning_endpoint() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(endpoint="openai-reasoning", api_key="k") as server:
        yield server


def test_the_old_request_is_refused_with_openais_own_error(reasoning_endpoint: FakeOpenAI) -> None:
    """What both callers sent before the profiles: every call to a reasoning model failed."""
    client = openai.OpenAI(base_url=reasoning_endpoint.base_url, api_key="k", max_retries=0)
    messages: Any = [{"role": "user", "content": "hi"}]
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="gpt-5-mini", messages=messages, max_tokens=100, temperature=0)
    assert refused.value.body == {
        "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
        "Use 'max_completion_tokens' instead.",
        "type": "invalid_request_error",
        "param": "max_tokens",
        "code": "unsupported_parameter",
    }
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="gpt-5-mini", messages=messages, temperature=0)
    assert refused.value.code == "unsupported_value" and refused.value.param == "temperature"
    with pytest.raises(openai.BadRequestError, match="Unrecognized request argument supplied: top_k"):
        client.chat.completions.create(model="gpt-5-mini", messages=messages, extra_body={"top_k": 5})
    bad_tool: Any = [{"type": "function", "function": {"name": "a", "arguments_schema": {}}}]
    with pytest.raises(openai.BadRequestError, match=r"tools\[0\]\.function\.arguments_schema"):
        client.chat.completions.create(model="gpt-5-mini", messages=messages, tools=bad_tool)
    assert len(reasoning_endpoint.rejections) == 4
    assert reasoning_endpoint._replies == type(reasoning_endpoint._replies)()  # nothing consumed


def test_a_wrong_profile_falls_back_to_the_policy_and_says_why(llm_env: Any, fake_openai: FakeOpenAI) -> None:
    """An operator who forces ``compatible`` in front of a reasoning model: the event is not lost."""
    endpoint = fake_openai.use("openai-reasoning")
    try:
        with llm_env.reconfigured(**{**endpoint.env(fake_openai), "TRAY_AGENT_LLM_PROVIDER": "compatible"}):
            event = new_event(data={"email": "ana@fallback.io", "company": "Fallback", "employees": 40})
            answer = llm_env.api("POST", "/events", event)
        assert answer.status == 202, answer.body
        assert answer.body["brain"] == "policy"
        record = llm_env.api("GET", f"/decisions/{answer.body['decision_id']}").body
        assert "BadRequestError" in record["decision"]["fallback_reason"]
        assert fake_openai.rejections[0]["error"]["code"] == "unsupported_parameter"
    finally:
        fake_openai.use("compatible")
        fake_openai.rejections.clear()


def test_prices_come_from_data_and_an_unknown_model_costs_unknown(tmp_path: Path) -> None:
    settings = Settings()
    price, taken_on = price_for(settings, "gpt-4o-mini-2024-07-18")  # a snapshot: the family's price
    assert price is not None and price.input == 0.15 and taken_on
    usage = Usage(model="gpt-5-mini")
    response_usage = json.loads(
        json.dumps(
            {
                "prompt_tokens": 1_000_000,
                "completion_tokens": 1_000_000,
                "prompt_tokens_details": {"cached_tokens": 400_000},
                "completion_tokens_details": {"reasoning_tokens": 600_000},
            }
        ),
        object_hook=lambda d: type("U", (), d)(),
    )
    account(settings, usage, response_usage)
    # 600k input at 0.25 + 400k cached at 0.025 + 1M output (reasoning included) at 2.00
    assert usage.estimated_cost_usd == pytest.approx(0.15 + 0.01 + 2.0)
    assert usage.cached_prompt_tokens == 400_000 and usage.reasoning_tokens == 600_000

    unknown = Usage(model="llama3.1:8b")
    account(settings, unknown, type("U", (), {"prompt_tokens": 10, "completion_tokens": 5})())
    assert unknown.prompt_tokens == 10 and unknown.estimated_cost_usd is None  # never 0
    own = Settings(llm_input_cost_per_1k=0.001, llm_output_cost_per_1k=0.002)
    priced = Usage(model="llama3.1:8b")
    account(own, priced, type("U", (), {"prompt_tokens": 1000, "completion_tokens": 1000})())
    assert priced.estimated_cost_usd == pytest.approx(0.003) and priced.prices_taken_on == "configured"


def test_every_endpoint_kind_is_a_distinct_profile() -> None:
    with FakeOpenAI() as fake:
        names = {
            profile_for(Settings.model_validate(e.settings_values(fake))).name for e in ENDPOINTS.values()
        }
    assert names == {"openai-reasoning", "openai-chat", "azure-reasoning", "compatible-chat"}


def test_azure_requests_go_to_the_deployment_with_an_api_version() -> None:
    from tray_agent.domain.po.parsing.model_parsers import _structured_call

    with FakeOpenAI(endpoint="azure-reasoning", api_key="k") as fake:
        fake.script(ScriptedReply(content='{"ok": true}'))
        settings = Settings.model_validate({"openai_api_key": "k", **fake.endpoint.settings_values(fake)})
        assert _structured_call([{"role": "user", "content": "x"}], settings=settings) == {"ok": True}
        assert fake.rejections == []
        assert fake.requests[0]["model"] == "ops-o4"


def test_the_daily_summary_shows_model_spend_and_unknown_cost(llm_env: Any, fake_openai: FakeOpenAI) -> None:
    from datetime import UTC, datetime

    from tests.agent.conftest import final

    runs = [("openai-chat", "gpt-4o-mini-2024-07-18"), ("compatible", "mistral-small:24b")]
    try:
        for endpoint_name, model in runs:
            endpoint = fake_openai.use(endpoint_name)
            fake_openai.script(final("review", "unsure: a person should look", 0.5))
            env = {**endpoint.env(fake_openai), "TRAY_AGENT_OPENAI_MODEL": model}
            with llm_env.reconfigured(**env):
                event = new_event(
                    data={"email": f"spend@{model[:5]}.io", "company": "Spend", "employees": 20}
                )
                assert llm_env.api("POST", "/events", event).body["brain"] == "llm"
        assert fake_openai.rejections == []
    finally:
        fake_openai.use("compatible")
    today = llm_env.api("GET", f"/summary/{datetime.now(UTC).date().isoformat()}").body
    spend = {s["model"]: s for s in today["model_spend"]}
    priced = spend["gpt-4o-mini-2024-07-18"]
    assert priced["requests"] == 1 and priced["prompt_tokens"] == 120 and priced["completion_tokens"] == 40
    assert priced["cost_usd"] == pytest.approx((120 * 0.15 + 40 * 0.6) / 1_000_000)
    unpriced = spend["mistral-small:24b"]
    assert unpriced["prompt_tokens"] == 120 and unpriced["unpriced_requests"] == 1
    assert unpriced["cost_usd"] is None  # unknown, never 0


def test_compatible_servers_tool_call_quirks_are_tolerated(llm_env: Any, fake_openai: FakeOpenAI) -> None:
    """Arguments sent as an object and tool calls without ids (seen from some local servers)."""
    from tests.agent.conftest import final

    fake_openai.script(
        ScriptedReply(
            tool_calls=[("lookup_customer_context", {"customer_id": "cus_quirk"})],
            arguments_as_object=True,
            without_call_ids=True,
        ),
        final("review", "a person should look at this one", 0.9),
    )
    event = new_event("order.created", customer_id="cus_quirk", source="shopify", data={"order_id": "q-1"})
    answer = llm_env.api("POST", "/events", event)
    assert answer.status == 202, answer.body
    assert answer.body["brain"] == "llm" and answer.body["action"] == "review"
    follow_up = fake_openai.requests[1]["messages"]
    assert follow_up[-2]["tool_calls"][0]["function"]["arguments"] == '{"customer_id": "cus_quirk"}'
    assert follow_up[-1]["tool_call_id"] == follow_up[-2]["tool_calls"][0]["id"] == "call_0"
    assert fake_openai.rejections == []
