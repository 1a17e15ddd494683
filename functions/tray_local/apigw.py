"""API Gateway HTTP API (payload v2) events, as the real service sends them to Lambda."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

from tray_agent.clock import utc_now


def http_api_event(
    method: str,
    path: str,
    body: str | bytes | dict[str, Any] | None = None,
    *,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    stage: str = "$default",
) -> dict[str, Any]:
    """An HTTP API event; a named ``stage`` prefixes the path as API Gateway's stage URL does.

    Bytes that are not UTF-8 travel base64-encoded with ``isBase64Encoded``, as API Gateway
    sends bodies it cannot pass as text.
    """
    if isinstance(body, dict):
        body = json.dumps(body)
    is_base64 = False
    if isinstance(body, bytes):
        try:
            text = body.decode()
        except UnicodeDecodeError:
            text, is_base64 = base64.b64encode(body).decode(), True
        body = text
    if stage != "$default":
        path = f"/{stage}{path}"
    now = utc_now()
    all_headers = {"content-type": "application/json", **{k.lower(): v for k, v in (headers or {}).items()}}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "queryStringParameters": query,
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "local.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "local",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": stage,
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


@dataclass
class LambdaContext:
    """The attributes Powertools reads from a Lambda context object."""

    function_name: str = "tray-agent-local"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:tray-agent-local"
    aws_request_id: str = "local-request"
    log_group_name: str = "/aws/lambda/tray-agent-local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@dataclass
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: Any

    @classmethod
    def from_proxy_result(cls, result: dict[str, Any]) -> HttpAnswer:
        raw = result.get("body") or ""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw
        return cls(status=int(result["statusCode"]), headers=result.get("headers") or {}, body=body)
