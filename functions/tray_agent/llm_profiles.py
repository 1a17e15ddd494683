"""Model provider profiles: the one place that decides what a chat-completions request carries.

Endpoints disagree on parameters, and a request one accepts another answers with a 400:

- **openai**, reasoning models (o1/o3/o4-mini, the gpt-5 family): the output cap is
  ``max_completion_tokens`` (it also pays for hidden reasoning, so the profile adds room for it),
  ``temperature`` other than the default is refused, ``reasoning_effort`` is accepted.
  Non-reasoning models (gpt-4o, gpt-4.1): ``max_completion_tokens`` and ``temperature=0``.
  Structured output with a strict ``json_schema``; tools are ``strict`` when their schema allows.
- **azure**: the same models behind a deployment: the request names the deployment, the client is
  ``AzureOpenAI`` with an ``api-version`` (or the plain client on the ``/openai/v1`` endpoint).
- **compatible** (vLLM, Ollama, llama.cpp, LiteLLM): ``max_tokens``, ``temperature=0``, no
  ``tool_choice`` (vLLM refuses ``"auto"`` unless started with ``--enable-auto-tool-choice``; the
  default is the same), JSON mode (``json_object``) with the schema in the prompt unless
  ``llm_json_schema=on``.

``llm_provider=auto`` reads the base URL (Azure hosts, api.openai.com or none: openai, anything
else: compatible); ``llm_reasoning=auto`` reads the model name. The brain and the PO parsers both
take their request arguments from here. ``openai`` is imported only when a client is built.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from tray_agent.config import Settings

if TYPE_CHECKING:
    from openai import OpenAI

Provider = Literal["openai", "azure", "compatible"]
PROVIDERS: tuple[Provider, ...] = ("openai", "azure", "compatible")

AZURE_HOST_SUFFIXES = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")
OPENAI_HOST = "api.openai.com"
_O_SERIES = re.compile(r"^o\d+(-|$)")


def bare_model_name(model: str) -> str:
    """``openai/gpt-5-mini`` (LiteLLM, OpenRouter) → ``gpt-5-mini``, lower case."""
    return model.rsplit("/", 1)[-1].strip().lower()


def is_reasoning_model(model: str) -> bool:
    """o1/o3/o4-mini…, and the gpt-5 family except the ``-chat`` variants (which behave like 4o)."""
    name = bare_model_name(model)
    return bool(_O_SERIES.match(name)) or (name.startswith("gpt-5") and "-chat" not in name)


def detect_provider(base_url: str) -> Provider:
    host = (urlsplit(base_url).hostname or "").lower() if base_url else ""
    if host.endswith(AZURE_HOST_SUFFIXES):
        return "azure"
    if not base_url or host == OPENAI_HOST:
        return "openai"
    return "compatible"


@dataclass(frozen=True)
class ModelProfile:
    provider: Provider
    model: str  # the model's name: prices, detection, the usage record
    request_model: str  # what the request's "model" says (Azure: the deployment)
    reasoning: bool
    json_schema: bool  # strict structured outputs; else JSON mode with the schema in the prompt
    reasoning_effort: str = ""
    reasoning_room_tokens: int = 0

    @property
    def name(self) -> str:
        return f"{self.provider}-{'reasoning' if self.reasoning else 'chat'}"

    @property
    def max_tokens_param(self) -> str:
        return "max_tokens" if self.provider == "compatible" else "max_completion_tokens"

    def sampling(self, max_tokens: int | None) -> dict[str, Any]:
        """The output cap, temperature and reasoning effort this endpoint accepts."""
        kwargs: dict[str, Any] = {}
        if max_tokens is not None:
            room = self.reasoning_room_tokens if self.reasoning else 0
            kwargs[self.max_tokens_param] = max_tokens + room
        if self.reasoning:
            if self.reasoning_effort:
                kwargs["reasoning_effort"] = self.reasoning_effort
        else:
            kwargs["temperature"] = 0  # repeatable decisions where the model allows it
        return kwargs

    def tool_kwargs(self, tools: list[dict[str, Any]]) -> dict[str, Any]:
        """Tools as this endpoint takes them (strict where the schema allows, on OpenAI/Azure)."""
        if self.provider == "compatible":
            return {"tools": tools}
        strict = []
        for tool in tools:
            function = dict(tool["function"])
            if strict_schema_ok(function.get("parameters") or {}):
                function["strict"] = True
            strict.append({**tool, "function": function})
        return {"tools": strict, "tool_choice": "auto"}

    def chat_kwargs(
        self, messages: list[Any], *, tools: list[dict[str, Any]] | None = None, max_tokens: int | None = None
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": self.request_model, "messages": messages}
        if tools:
            kwargs.update(self.tool_kwargs(tools))
        kwargs.update(self.sampling(max_tokens))
        return kwargs

    def structured_kwargs(
        self, messages: list[Any], *, name: str, schema: dict[str, Any], max_tokens: int | None = None
    ) -> dict[str, Any]:
        """A request whose reply is one JSON object following ``schema``."""
        if self.json_schema:
            response_format: dict[str, Any] = {
                "type": "json_schema",
                "json_schema": {"name": name, "strict": True, "schema": schema},
            }
        else:
            # JSON mode only promises *some* JSON object (and needs the word JSON in the
            # messages): the schema goes into the instructions instead.
            response_format = {"type": "json_object"}
            instruction = {
                "role": "system",
                "content": "Answer with one JSON object that follows this JSON Schema:\n"
                + json.dumps(schema, separators=(",", ":")),
            }
            messages = [*messages, instruction]
        kwargs = self.chat_kwargs(messages, max_tokens=max_tokens)
        kwargs["response_format"] = response_format
        return kwargs

    def client(self, settings: Settings, api_key: str, *, timeout: float, max_retries: int) -> OpenAI:
        import openai

        key = api_key or "not-needed"  # local servers accept any key
        base_url = settings.openai_base_url or None
        if self.provider == "azure" and base_url and "/openai/v1" not in base_url:
            return openai.AzureOpenAI(
                azure_endpoint=base_url,
                api_version=settings.azure_openai_api_version,
                api_key=key,
                timeout=timeout,
                max_retries=max_retries,
            )
        return openai.OpenAI(base_url=base_url, api_key=key, timeout=timeout, max_retries=max_retries)


def strict_schema_ok(schema: dict[str, Any]) -> bool:
    """OpenAI's strict mode needs every object closed and every property required."""
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "object" in kinds:
        properties = schema.get("properties") or {}
        if schema.get("additionalProperties") is not False:
            return False
        if set(schema.get("required") or []) != set(properties):
            return False
        return all(strict_schema_ok(p) for p in properties.values())
    if "array" in kinds:
        return strict_schema_ok(schema.get("items") or {})
    return "anyOf" not in schema and "oneOf" not in schema and "allOf" not in schema


def profile_for(settings: Settings) -> ModelProfile:
    """The profile the settings select (``auto`` values detected from the URL and model name)."""
    provider: Provider = (
        detect_provider(settings.openai_base_url)
        if settings.llm_provider == "auto"
        else settings.llm_provider
    )
    reasoning = (
        is_reasoning_model(settings.openai_model)
        if settings.llm_reasoning == "auto"
        else settings.llm_reasoning == "on"
    )
    json_schema = (
        provider != "compatible" if settings.llm_json_schema == "auto" else settings.llm_json_schema == "on"
    )
    request_model = settings.openai_model
    if provider == "azure" and settings.azure_openai_deployment:
        request_model = settings.azure_openai_deployment
    return ModelProfile(
        provider=provider,
        model=settings.openai_model,
        request_model=request_model,
        reasoning=reasoning,
        json_schema=json_schema,
        reasoning_effort=settings.llm_reasoning_effort,
        reasoning_room_tokens=settings.llm_reasoning_room_tokens,
    )
