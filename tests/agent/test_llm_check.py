"""``tray-agent llm check`` against the scripted endpoint: passing and failing configurations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.fake_openai import ENDPOINTS, FakeOpenAI, ScriptedReply
from tray_local.cli import main


def _answer(body: dict[str, Any]) -> ScriptedReply:
    """What a capable model answers to each of the check's requests."""
    if body.get("tools"):
        return ScriptedReply(tool_calls=[("record_check", {"word": "tray"})])
    if "response_format" in body:
        return ScriptedReply(content=json.dumps({"status": "ok", "numbers": [1, 2, 3]}))
    return ScriptedReply(content="Red")


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def apply(fake: FakeOpenAI, **overrides: str) -> None:
        for key in ("OPENAI_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
            monkeypatch.delenv(key, raising=False)
        values = {**fake.endpoint.env(fake), "TRAY_AGENT_OPENAI_API_KEY": "right-key", **overrides}
        for key, value in values.items():
            monkeypatch.setenv(key, value)

    yield apply


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_a_working_configuration_passes_every_line(endpoint: str, configure: Any, capsys: Any) -> None:
    with FakeOpenAI([_answer] * 3, endpoint=endpoint, api_key="right-key") as fake:
        configure(fake)
        code = main(["llm", "check"])
        assert fake.rejections == []
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"profile: {endpoint.split('-', maxsplit=1)[0]}" in out
    for capability in ("auth", "model", "tools", "structured output", "vision"):
        assert f"ok    {capability}:" in out
    assert out.strip().endswith("model ready")


def test_a_wrong_key_fails_auth(configure: Any, capsys: Any) -> None:
    with FakeOpenAI([_answer] * 3, endpoint="openai-chat", api_key="right-key") as fake:
        configure(fake, TRAY_AGENT_OPENAI_API_KEY="stale-key")
        code = main(["llm", "check", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["ok"] is False
    by_name = {c["capability"]: c for c in report["checks"]}
    assert by_name["auth"]["status"] == "FAIL"
    assert "Incorrect API key" in by_name["auth"]["detail"]
    assert {by_name[n]["status"] for n in ("model", "tools", "structured output", "vision")} == {"skip"}


def test_an_unknown_model_fails_the_model_line(configure: Any, capsys: Any) -> None:
    with FakeOpenAI([_answer] * 3, endpoint="openai-chat", api_key="right-key", models={"gpt-4.1"}) as fake:
        configure(fake)
        code = main(["llm", "check"])
    out = capsys.readouterr().out
    assert code == 1
    assert "ok    auth:" in out
    assert "FAIL  model: 'gpt-4.1-mini': 404 NotFoundError: The model `gpt-4.1-mini` does not exist" in out


def test_the_wrong_profile_for_a_reasoning_model_fails_tools_and_structured_output(
    configure: Any, capsys: Any
) -> None:
    with FakeOpenAI([_answer] * 3, endpoint="openai-reasoning", api_key="right-key") as fake:
        configure(fake, TRAY_AGENT_LLM_PROVIDER="compatible")
        code = main(["llm", "check"])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  tools: 400 BadRequestError: Unsupported parameter: 'max_tokens'" in out
    assert "FAIL  structured output: json_object: 400 BadRequestError: Unsupported parameter" in out
    assert out.strip().endswith("model NOT ready")


def test_a_model_without_vision_warns_but_passes(configure: Any, capsys: Any) -> None:
    with FakeOpenAI([_answer] * 3, endpoint="compatible", api_key="right-key", vision=False) as fake:
        configure(fake)
        code = main(["llm", "check"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "warn  vision: images refused (scanned POs cannot be read)" in out


def test_a_model_that_ignores_the_tool_fails_the_tools_line(configure: Any, capsys: Any) -> None:
    replies: list[Any] = [ScriptedReply(content="I would rather not."), _answer, _answer]
    with FakeOpenAI(replies, endpoint="openai-chat", api_key="right-key") as fake:
        configure(fake)
        code = main(["llm", "check"])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  tools: the model answered without calling the tool" in out
