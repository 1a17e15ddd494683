"""A scripted OpenAI-compatible HTTP endpoint on 127.0.0.1 for tests.

Tests drive the real ``openai`` client against it: ``base_url=server.base_url``. Each request to
``/v1/chat/completions`` takes the next scripted reply:

- ``ScriptedReply(content=...)``: an assistant message (plain text or JSON for structured output);
- ``ScriptedReply(tool_calls=[("tool_name", {...args})])``: the model asks for tool calls;
- ``ScriptedReply(status=500)``: an HTTP error (the client's retries count as further requests);
- ``ScriptedReply(delay_s=...)``: answer slowly (to exercise time budgets);
- a callable ``(request_json) -> ScriptedReply`` for replies that depend on the request.

Every request body is kept in ``server.requests`` for assertions.

It is as strict as the real endpoints (``server.endpoint``, one of ``ENDPOINTS``): every body is
checked against the request TypedDicts the ``openai`` package publishes (an unknown key anywhere
is refused), then against the endpoint's rules, answering 400 with the body the real API sends
(an OpenAI reasoning model refuses ``max_tokens`` and a non-default ``temperature``; a classic
OpenAI-compatible server refuses the newer parameters; Azure wants its deployment path,
``api-version`` and ``api-key``). A refused request takes no scripted reply; it is kept in
``server.rejections``. ``api_key`` / ``models`` / ``vision`` make auth, model names and image
input fail like a real endpoint's would.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.openai_schema import RequestSchemaError, chat_completion_params, check


@dataclass
class ScriptedReply:
    content: str | None = None
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: int = 200
    delay_s: float = 0.0
    prompt_tokens: int = 120
    completion_tokens: int = 40
    # Quirks of some compatible servers: tool-call arguments as an object, tool calls without ids.
    arguments_as_object: bool = False
    without_call_ids: bool = False


Script = ScriptedReply | Callable[[dict[str, Any]], ScriptedReply]


@dataclass(frozen=True)
class Endpoint:
    """What one kind of endpoint accepts, and the settings that point the project at it."""

    name: str
    model: str
    provider: str  # Settings.llm_provider
    reasoning: bool = False  # refuses max_tokens and a temperature other than 1
    classic_only: bool = False  # knows only the classic parameters (older vLLM/Ollama/llama.cpp)
    azure: bool = False  # /openai/deployments/{deployment}/..., api-version, api-key header
    deployment: str = ""

    def env(self, fake: FakeOpenAI) -> dict[str, str]:
        """``TRAY_AGENT_*`` variables that configure the project for this endpoint."""
        values = {
            "TRAY_AGENT_OPENAI_BASE_URL": fake.azure_endpoint if self.azure else fake.base_url,
            "TRAY_AGENT_OPENAI_MODEL": self.model,
            "TRAY_AGENT_LLM_PROVIDER": self.provider,
        }
        if self.deployment:
            values["TRAY_AGENT_AZURE_OPENAI_DEPLOYMENT"] = self.deployment
        return values

    def settings_values(self, fake: FakeOpenAI) -> dict[str, str]:
        return {k.removeprefix("TRAY_AGENT_").lower(): v for k, v in self.env(fake).items()}


ENDPOINTS: dict[str, Endpoint] = {
    e.name: e
    for e in (
        Endpoint("openai-reasoning", model="gpt-5-mini", provider="openai", reasoning=True),
        Endpoint("openai-chat", model="gpt-4.1-mini", provider="openai"),
        Endpoint(
            "azure-reasoning",
            model="o4-mini",
            provider="azure",
            reasoning=True,
            azure=True,
            deployment="ops-o4",
        ),
        Endpoint("compatible", model="llama3.1:8b", provider="auto", classic_only=True),
    )
}
CLASSIC_UNKNOWN = ("max_completion_tokens", "reasoning_effort", "tool_choice", "parallel_tool_calls")


def _error(message: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


class FakeOpenAI:
    def __init__(
        self,
        replies: list[Script] | None = None,
        *,
        endpoint: Endpoint | str = "compatible",
        api_key: str | None = None,
        models: set[str] | None = None,
        vision: bool = True,
    ) -> None:
        self._replies: deque[Script] = deque(replies or [])
        self.requests: list[dict[str, Any]] = []
        self.rejections: list[dict[str, Any]] = []
        self.endpoint = ENDPOINTS[endpoint] if isinstance(endpoint, str) else endpoint
        self.api_key = api_key
        self.models = models
        self.vision = vision
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def azure_endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def use(self, endpoint: Endpoint | str) -> Endpoint:
        self.endpoint = ENDPOINTS[endpoint] if isinstance(endpoint, str) else endpoint
        return self.endpoint

    def refusal(  # noqa: PLR0911, PLR0912 - one answer per rule, in the order the API checks them
        self, path: str, headers: Any, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]] | None:
        """The error the real endpoint would answer this request with, if any."""
        endpoint = self.endpoint
        url = urlsplit(path)
        if endpoint.azure:
            expected = f"/openai/deployments/{endpoint.deployment}/chat/completions"
            if url.path != expected:
                return 404, {
                    "error": {"code": "DeploymentNotFound", "message": f"no deployment at {url.path}"}
                }
            if not parse_qs(url.query).get("api-version"):
                return 404, {"error": {"code": "404", "message": "Resource not found"}}
            key = headers.get("api-key")
        else:
            if not url.path.endswith("/chat/completions"):
                return 404, {"error": {"message": f"no route {url.path}"}}
            key = (headers.get("Authorization") or "").removeprefix("Bearer ")
        if self.api_key is not None and key != self.api_key:
            message = "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."
            return 401, _error(message, None, "invalid_api_key")
        try:
            check(body, chat_completion_params())
        except RequestSchemaError as exc:
            if exc.unknown_key and "." not in exc.path:
                return 400, _error(f"Unrecognized request argument supplied: {exc.unknown_key}", None, None)
            return 400, _error(f"Invalid request: {exc}", exc.path, "invalid_value")
        model = str(body.get("model"))
        if self.models is not None and model not in self.models:
            message = f"The model `{model}` does not exist or you do not have access to it."
            return 404, _error(message, None, "model_not_found")
        if endpoint.reasoning:
            if "max_tokens" in body:
                message = (
                    "Unsupported parameter: 'max_tokens' is not supported with this model. "
                    "Use 'max_completion_tokens' instead."
                )
                return 400, _error(message, "max_tokens", "unsupported_parameter")
            if body.get("temperature") not in (None, 1):
                message = (
                    f"Unsupported value: 'temperature' does not support {body['temperature']} with this "
                    "model. Only the default (1) value is supported."
                )
                return 400, _error(message, "temperature", "unsupported_value")
        elif "reasoning_effort" in body and not endpoint.classic_only:
            message = "Unsupported parameter: 'reasoning_effort' is not supported with this model."
            return 400, _error(message, "reasoning_effort", "unsupported_parameter")
        if endpoint.classic_only:
            for key in CLASSIC_UNKNOWN:
                if key in body:
                    return 400, _error(f"Unrecognized request argument supplied: {key}", key, None)
            if (body.get("response_format") or {}).get("type") == "json_schema":
                return 400, _error(
                    "response_format type 'json_schema' is not supported", "response_format", None
                )
            if any("strict" in tool.get("function", {}) for tool in body.get("tools") or []):
                return 400, _error(
                    "Unrecognized request argument supplied: tools[].function.strict", "tools", None
                )
        if not self.vision and any(
            isinstance(m.get("content"), list) and any(p.get("type") == "image_url" for p in m["content"])
            for m in body.get("messages", [])
        ):
            return 400, _error(
                "Invalid content type. image_url is only supported by certain models.", "messages", None
            )
        return None

    def script(self, *replies: Script) -> None:
        with self._lock:
            self._replies.extend(replies)

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, body: dict[str, Any]) -> ScriptedReply:
        with self._lock:
            self.requests.append(body)
            if not self._replies:
                return ScriptedReply(status=500, content="no scripted reply left")
            script = self._replies.popleft()
        return script(body) if callable(script) else script

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                refused = fake.refusal(self.path, self.headers, body)
                if refused is not None:
                    with fake._lock:
                        fake.requests.append(body)
                        fake.rejections.append(refused[1])
                    self._send(*refused)
                    return
                reply = fake._next(body)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.status != 200:
                    message = reply.content or "scripted failure"
                    self._send(reply.status, {"error": {"message": message, "type": "server_error"}})
                    return
                self._send(200, _completion(body, reply))

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _completion(request: dict[str, Any], reply: ScriptedReply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    finish_reason = "stop"
    if reply.tool_calls:
        finish_reason = "tool_calls"
        message["tool_calls"] = [
            {
                "id": None if reply.without_call_ids else f"call_{uuid.uuid4().hex[:12]}",
                "type": "function",
                "function": {
                    "name": name,
                    "arguments": arguments if reply.arguments_as_object else json.dumps(arguments),
                },
            }
            for name, arguments in reply.tool_calls
        ]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "scripted"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }
