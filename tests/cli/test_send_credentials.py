"""How `tray-agent drop` authenticates its reviewer reads: a static token, or a signed-in ID token
under the JWT authorizer's prefix (a stack deployed with reviewer sign-in)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tray_local.cli_common import CommandFailedError
from tray_local.send import Credentials, follow_intake


@pytest.fixture
def api() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """A stand-in API on 127.0.0.1 recording each request's path and Authorization header."""
    seen: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Authorization", "")))
            body = json.dumps([{"intake_id": "i-1", "status": "ordered"}]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_an_id_token_reads_under_the_signed_in_prefix(
    api: tuple[str, list[tuple[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seen = api
    monkeypatch.delenv("TRAY_AGENT_REVIEWER_TOKEN", raising=False)
    records = follow_intake(Credentials(api_url=url, id_token="eyJ.id.token"), "inbox-bucket", "inbox/po.pdf")
    assert records == [{"intake_id": "i-1", "status": "ordered"}]
    [(path, authorization)] = seen
    assert path.startswith("/signed-in/po/intake?") and "key=inbox%2Fpo.pdf" in path
    assert authorization == "Bearer eyJ.id.token"


def test_without_an_id_token_the_static_reviewer_token_reads_the_plain_route(
    api: tuple[str, list[tuple[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seen = api
    monkeypatch.delenv("TRAY_AGENT_ID_TOKEN", raising=False)
    monkeypatch.setenv("TRAY_AGENT_REVIEWER_TOKEN", "static-token")
    follow_intake(Credentials(api_url=url), "inbox-bucket", "inbox/po.pdf")
    [(path, authorization)] = seen
    assert path.startswith("/po/intake?") and authorization == "Bearer static-token"


def test_a_deployed_api_without_any_reviewer_credential_is_refused_before_anything_is_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in (
        "TRAY_AGENT_ID_TOKEN",
        "TRAY_AGENT_REVIEWER_TOKEN",
        "TRAY_AGENT_REVIEWER_TOKENS_SECRET_NAME",
    ):
        monkeypatch.delenv(name, raising=False)
    credentials = Credentials(api_url="https://abc.execute-api.eu-west-1.amazonaws.com")
    with pytest.raises(CommandFailedError, match="--id-token"):
        credentials.reviewer_headers_and_prefix()
