"""Our API on a local URL: HTTP on 127.0.0.1 → an API Gateway HTTP API event → the real API handler.

Local only (tests, demo, the simulator's alerting posts): what API Gateway does in front of the
API Lambda, in-process. Headers and the raw body pass through unchanged, so signatures are
checked by the handler exactly as in AWS.
"""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tray_local.apigw import LambdaContext, http_api_event

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


class ApiBridge:
    def __init__(self, port: int = 0) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def start(self) -> ApiBridge:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="api-bridge", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ApiBridge:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler() -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._dispatch()

        def do_POST(self) -> None:
            self._dispatch()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the handler logs; the bridge stays quiet

        def _dispatch(self) -> None:
            from tray_agent.handlers import api  # the Lambda's module, loaded as Lambda loads it

            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY_BYTES:
                self._send(
                    413, {"content-type": "application/json"}, b'{"message":"Request Entity Too Large"}'
                )
                return
            body = self.rfile.read(length) if length else b""
            split = urlsplit(self.path)
            event = http_api_event(
                self.command,
                split.path,
                body or None,
                headers=dict(self.headers.items()),
                query=dict(parse_qsl(split.query)) or None,
            )
            result = api.handler(event, LambdaContext())
            raw = result.get("body") or ""
            payload = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
            self._send(int(result["statusCode"]), result.get("headers") or {}, payload)

        def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler
