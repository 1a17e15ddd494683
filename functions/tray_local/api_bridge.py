"""Our API on a local URL: HTTP on 127.0.0.1 → an API Gateway HTTP API event → the real API handler.

Local only (``tray-agent serve``, tests, the simulator's alerting posts): what API Gateway does in
front of the API Lambda, in-process. The HTTP server is waitress (a maintained, pure-Python WSGI
server); ``api_wsgi_app`` is the adapter: headers and the raw body pass through unchanged, so
signatures are checked by the handler exactly as in AWS. ``static`` maps URL prefixes to
directories of static files served as they are (the reviewer console's assets), so a browser
needs one origin only.
"""

from __future__ import annotations

import base64
import mimetypes
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from tray_local.apigw import LambdaContext, http_api_event

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_REASONS = {
    200: "OK",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
# Hop-by-hop and framing headers are the server's business, not the handler's.
_SERVER_HEADERS = frozenset({"content-length", "connection", "transfer-encoding"})


def _status_line(status: int) -> str:
    return f"{status} {_REASONS.get(status, 'Unknown')}"


def _request_headers(environ: dict[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = value
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return headers


def _wsgi_text(value: str) -> str:
    """WSGI hands paths and query strings over as latin-1 decoded bytes; API Gateway as UTF-8."""
    return value.encode("latin-1").decode("utf-8", errors="replace")


def api_wsgi_app(static: dict[str, Path] | None = None) -> WsgiApp:
    """A WSGI application that answers every request with the API Lambda handler."""
    mounts = sorted((static or {}).items(), key=lambda item: -len(item[0]))

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ["REQUEST_METHOD"]).upper()
        path = _wsgi_text(environ.get("PATH_INFO") or "/")
        for prefix, directory in mounts:
            if method == "GET" and (path == prefix.rstrip("/") or path.startswith(prefix)):
                return _static(directory, path[len(prefix) :], start_response)
        from tray_agent.handlers import api  # the Lambda's module, loaded as Lambda loads it

        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY_BYTES:  # API Gateway refuses these before the Lambda runs
            start_response(_status_line(413), [("Content-Type", "application/json")])
            return [b'{"message":"Request Entity Too Large"}']
        body = environ["wsgi.input"].read(length) if length else b""
        raw_query = _wsgi_text(environ.get("QUERY_STRING") or "")
        query: dict[str, str] = {}
        for name, value in parse_qsl(raw_query, keep_blank_values=True):
            # API Gateway joins repeated parameters with commas.
            query[name] = f"{query[name]},{value}" if name in query else value
        event = http_api_event(
            method,
            path,
            body or None,
            headers=_request_headers(environ),
            query=query or None,
            raw_query=raw_query,
        )
        result = api.handler(event, LambdaContext())
        raw = result.get("body") or ""
        payload = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
        headers = [
            (name, str(value))
            for name, value in (result.get("headers") or {}).items()
            if name.lower() not in _SERVER_HEADERS
        ]
        headers.append(("Content-Length", str(len(payload))))
        start_response(_status_line(int(result["statusCode"])), headers)
        return [payload]

    return app


def _static(directory: Path, relative: str, start_response: StartResponse) -> Iterable[bytes]:
    root = directory.resolve()
    target = (root / (relative.lstrip("/") or "index.html")).resolve()
    if target.is_dir():
        target = target / "index.html"
    if root not in target.parents or not target.is_file():  # no escaping the directory
        start_response(_status_line(404), [("Content-Type", "application/json")])
        return [b'{"error":"NotFound","message":"no such file","details":{}}']
    payload = target.read_bytes()
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    start_response(_status_line(200), [("Content-Type", kind), ("Content-Length", str(len(payload)))])
    return [payload]


class ApiBridge:
    """The API handler served by waitress on 127.0.0.1 (port 0: any free port)."""

    def __init__(self, port: int = 0, *, static: dict[str, Path] | None = None, threads: int = 8) -> None:
        from waitress.server import create_server

        self._server: Any = create_server(
            api_wsgi_app(static),
            host="127.0.0.1",
            port=port,
            threads=threads,
            max_request_body_size=MAX_BODY_BYTES + 1,  # the app answers 413 itself, as API Gateway does
            ident="tray-agent",
            clear_untrusted_proxy_headers=True,
        )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def start(self) -> ApiBridge:
        self._thread = threading.Thread(target=self._server.run, name="api-bridge", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        # waitress's loop ends when its socket map is empty: close the listener and every channel.
        self._server.task_dispatcher.shutdown(timeout=5)
        for channel in list(self._server._map.values()):
            channel.close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> ApiBridge:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
