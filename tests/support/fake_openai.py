"""A scripted OpenAI-compatible HTTP endpoint on 127.0.0.1 for tests.

Tests drive the real ``openai`` client against it: ``base_url=server.base_url``. Each request to
``/v1/chat/completions`` takes the next scripted reply:

- ``ScriptedReply(content=...)``: an assistant message (plain text or JSON for structured output);
- ``ScriptedReply(tool_calls=[("tool_name", {...args})])``: the model asks for tool calls;
- ``ScriptedReply(status=500)``: an HTTP error (the client's retries count as further requests);
- ``ScriptedReply(delay_s=...)``: answer slowly (to exercise time budgets);
- a callable ``(request_json) -> ScriptedReply`` for replies that depend on the request.

Every request body is kept in ``server.requests`` for assertions.
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


@dataclass
class ScriptedReply:
    content: str | None = None
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: int = 200
    delay_s: float = 0.0
    prompt_tokens: int = 120
    completion_tokens: int = 40


Script = ScriptedReply | Callable[[dict[str, Any]], ScriptedReply]


class FakeOpenAI:
    def __init__(self, replies: list[Script] | None = None) -> None:
        self._replies: deque[Script] = deque(replies or [])
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

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
                if not self.path.endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
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
                "id": f"call_{uuid.uuid4().hex[:12]}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
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
