"""``tray-agent llm check``: does the configured model endpoint do what the agent needs?

A few tiny calls with the very parameters the brain and the PO parsers send (the provider
profile's), each reported in one line: auth, model, tools (a tool call), structured output (a
JSON object following a schema), vision (an image; only scanned POs need it, so it warns rather
than fails). ``ok`` is false when anything the agent needs does not work.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal

from tray_agent.config import Settings
from tray_agent.llm_profiles import ModelProfile, profile_for

Status = Literal["ok", "FAIL", "warn", "skip"]


def red_png(size: int = 8) -> bytes:
    """A small solid red PNG (built here: no imaging library on this path)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * size for _ in range(size))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


CHECK_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "record_check",
        "description": "Records that the connectivity check ran.",
        "parameters": {
            "type": "object",
            "additionalProperties": False,
            "required": ["word"],
            "properties": {"word": {"type": "string"}},
        },
    },
}
CHECK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["status", "numbers"],
    "properties": {"status": {"type": "string"}, "numbers": {"type": "array", "items": {"type": "integer"}}},
}


@dataclass
class CheckLine:
    capability: str
    status: Status
    detail: str

    def __str__(self) -> str:
        return f"{self.status:<4}  {self.capability}: {self.detail}"


@dataclass
class CheckReport:
    profile: str
    lines: list[CheckLine] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.lines) and all(line.status in ("ok", "warn") for line in self.lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "ok": self.ok,
            "checks": [
                {"capability": x.capability, "status": x.status, "detail": x.detail} for x in self.lines
            ],
        }


def _error_text(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    status = getattr(exc, "status_code", None)
    prefix = f"{status} " if status else ""
    return f"{prefix}{type(exc).__name__}: {message or exc}"[:300]


def run_check(settings: Settings, api_key: str) -> CheckReport:
    if not settings.model_configured:
        report = CheckReport(profile="none")
        report.lines.append(CheckLine("model", "FAIL", "no model configured (set OPENAI_MODEL)"))
        return report
    import openai

    profile = profile_for(settings)
    where = settings.openai_base_url or "https://api.openai.com/v1"
    report = CheckReport(profile=_describe(profile))
    client = profile.client(settings, api_key, timeout=settings.llm_budget_s, max_retries=0)
    add = report.lines.append

    messages: list[Any] = [
        {"role": "system", "content": "This is a connectivity check. Call the record_check tool once."},
        {"role": "user", "content": "Call record_check with word set to 'tray'."},
    ]
    try:
        response = client.chat.completions.create(
            **profile.chat_kwargs(messages, tools=[CHECK_TOOL], max_tokens=settings.llm_max_tokens)
        )
    except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
        add(CheckLine("auth", "FAIL", f"{where} refused the key: {_error_text(exc)}"))
        for name in ("model", "tools", "structured output", "vision"):
            add(CheckLine(name, "skip", "needs auth"))
        return report
    except openai.NotFoundError as exc:
        add(CheckLine("auth", "ok", f"key accepted by {where}"))
        add(CheckLine("model", "FAIL", f"{profile.request_model!r}: {_error_text(exc)}"))
        for name in ("tools", "structured output", "vision"):
            add(CheckLine(name, "skip", "needs a model"))
        return report
    except openai.APIConnectionError as exc:
        add(CheckLine("auth", "FAIL", f"cannot reach {where}: {_error_text(exc)}"))
        for name in ("model", "tools", "structured output", "vision"):
            add(CheckLine(name, "skip", "needs a connection"))
        return report
    except openai.APIError as exc:
        add(CheckLine("auth", "ok", f"key accepted by {where}"))
        add(CheckLine("model", "ok", f"{profile.request_model!r} answered"))
        add(CheckLine("tools", "FAIL", _error_text(exc)))
    else:
        add(CheckLine("auth", "ok", f"key accepted by {where}"))
        add(CheckLine("model", "ok", f"{profile.request_model!r} answered as {response.model!r}"))
        add(_tool_line(response))

    add(_structured_line(client, profile, settings, openai.APIError))
    add(_vision_line(client, profile, settings, openai.APIError))
    return report


def _tool_line(response: Any) -> CheckLine:
    message = response.choices[0].message if response.choices else None
    calls = [c for c in (message.tool_calls or []) if getattr(c, "function", None)] if message else []
    if not calls:
        return CheckLine("tools", "FAIL", "the model answered without calling the tool")
    call = calls[0]
    arguments = call.function.arguments
    try:
        parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
    except json.JSONDecodeError:
        return CheckLine("tools", "FAIL", "the tool call's arguments are not JSON")
    if call.function.name != "record_check" or not isinstance(parsed, dict) or "word" not in parsed:
        return CheckLine("tools", "FAIL", f"unexpected tool call {call.function.name}({arguments})")
    return CheckLine("tools", "ok", "called record_check with valid arguments")


def _structured_line(
    client: Any, profile: ModelProfile, settings: Settings, api_error: type[Exception]
) -> CheckLine:
    messages: list[Any] = [{"role": "user", "content": "Reply with status 'ok' and the numbers 1, 2 and 3."}]
    request = profile.structured_kwargs(
        messages, name="check", schema=CHECK_SCHEMA, max_tokens=settings.llm_max_tokens
    )
    mode = request["response_format"]["type"]
    try:
        response = client.chat.completions.create(**request)
    except api_error as exc:
        return CheckLine("structured output", "FAIL", f"{mode}: {_error_text(exc)}")
    content = response.choices[0].message.content if response.choices else None
    try:
        reply = json.loads(content or "")
    except json.JSONDecodeError:
        return CheckLine("structured output", "FAIL", f"{mode}: the reply is not JSON")
    if not isinstance(reply, dict) or set(CHECK_SCHEMA["required"]) - set(reply):
        return CheckLine("structured output", "FAIL", f"{mode}: the reply does not follow the schema")
    return CheckLine("structured output", "ok", f"{mode}: a JSON object following the schema")


def _vision_line(
    client: Any, profile: ModelProfile, settings: Settings, api_error: type[Exception]
) -> CheckLine:
    image = "data:image/png;base64," + base64.b64encode(red_png()).decode()
    messages: list[Any] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What colour is this image? One word."},
                {"type": "image_url", "image_url": {"url": image}},
            ],
        }
    ]
    try:
        response = client.chat.completions.create(
            **profile.chat_kwargs(messages, max_tokens=settings.llm_max_tokens)
        )
    except api_error as exc:
        return CheckLine("vision", "warn", f"images refused (scanned POs cannot be read): {_error_text(exc)}")
    content = (response.choices[0].message.content or "").strip() if response.choices else ""
    if not content:
        return CheckLine("vision", "warn", "no answer about the image")
    return CheckLine("vision", "ok", f"read an image ({content[:40]!r})")


def _describe(profile: ModelProfile) -> str:
    parts = [profile.name, f"model {profile.model}"]
    if profile.request_model != profile.model:
        parts.append(f"deployment {profile.request_model}")
    parts.append(profile.max_tokens_param)
    parts.append("no temperature" if profile.reasoning else "temperature 0")
    if profile.reasoning and profile.reasoning_effort:
        parts.append(f"reasoning_effort {profile.reasoning_effort}")
    parts.append("json_schema" if profile.json_schema else "json_object")
    return ", ".join(parts)
