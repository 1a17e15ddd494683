"""Everything the product needs, on this machine: moto for AWS, the Tray simulator for Tray.

Used by ``make demo`` and by the integration tests; handlers are called in-process with the
very events API Gateway, S3, EventBridge and Step Functions would send them.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moto import mock_aws

from tray_agent.clock import epoch_s
from tray_agent.config import DEFAULT_WORKFLOWS_FILE, Settings, get_settings
from tray_agent.data import aws
from tray_local import moto_speedups
from tray_local.apigw import HttpAnswer, LambdaContext, http_api_event
from tray_local.lambda_local import LocalLambda
from tray_local.local_aws import create_queues, create_tables, use_fake_aws_credentials
from tray_local.simulator import TraySimulator

# Lambda finishes a container's init before it serves a request; concurrent local requests
# (threads of one process) must not race to build the handler's cached services either.
_INIT_LOCK = threading.Lock()

# Local credentials for the API (the deployed API reads them from Secrets Manager).
LOCAL_SIGNING_SECRET = "local-signing-secret"  # noqa: S105 - a well-known local-only value
LOCAL_REVIEWER = "local-reviewer"
LOCAL_REVIEWER_TOKEN = "local-reviewer-token"  # noqa: S105


def local_functions(settings: Settings) -> dict[str, str]:
    """The functions invoked asynchronously (and so redriven), by name: their handler modules."""
    return {
        settings.po_intake_function_name: "tray_agent.handlers.po_intake",
        settings.monitor_function_name: "tray_agent.handlers.monitor",
    }


@dataclass
class LocalEnvironment:
    settings: Settings
    simulator: TraySimulator
    lambdas: LocalLambda  # Lambda's Invoke API: our handlers, in-process

    @classmethod
    @contextmanager
    def start(
        cls,
        *,
        workflows_file: Path = DEFAULT_WORKFLOWS_FILE,
        extra_env: dict[str, str] | None = None,
        simulator_options: dict[str, Any] | None = None,
    ) -> Iterator[LocalEnvironment]:
        use_fake_aws_credentials()
        moto_speedups.install()  # a Query reads its partition, not the whole table (see the module)
        with (
            mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
            TraySimulator(workflows_file, **(simulator_options or {})) as simulator,
        ):
            os.environ.update(
                {
                    "TRAY_AGENT_TRAY_API_BASE_URL": simulator.base_url,
                    "TRAY_AGENT_TRAY_WEBHOOK_BASE_URL": simulator.base_url,
                    "TRAY_AGENT_TRAY_MASTER_TOKEN": simulator.master_token,
                    "TRAY_AGENT_TRAY_USER_TOKEN": simulator.user_token,
                    "TRAY_AGENT_WORKFLOWS_FILE": str(workflows_file),
                    "TRAY_AGENT_SIGNING_SECRET": LOCAL_SIGNING_SECRET,
                    "TRAY_AGENT_REVIEWER_TOKENS": json.dumps({LOCAL_REVIEWER: LOCAL_REVIEWER_TOKEN}),
                    **(extra_env or {}),
                }
            )
            get_settings.cache_clear()
            settings = get_settings()
            create_tables(settings)
            create_queues(settings)
            with LocalLambda(
                local_functions(settings), on_failure_queue=settings.failed_invocations_queue
            ) as lambdas:
                aws.reset_clients()  # after LocalLambda: clients made from now on carry its hooks
                yield cls(settings=settings, simulator=simulator, lambdas=lambdas)

    @contextmanager
    def reconfigured(self, **env: str) -> Iterator[Settings]:
        """Run with other ``TRAY_AGENT_*`` settings, as a freshly deployed container would.

        E.g. ``env.reconfigured(TRAY_AGENT_OPENAI_MODEL=..., TRAY_AGENT_OPENAI_BASE_URL=...)``
        turns the LLM brain on. Cached settings and services are rebuilt on entry and exit;
        not for use while requests run concurrently.
        """
        saved = {key: os.environ.get(key) for key in env}
        os.environ.update(env)
        self._reset_caches()
        try:
            yield get_settings()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            self._reset_caches()

    @staticmethod
    def _reset_caches() -> None:
        from tray_agent.domain.agent.brain import build_brains
        from tray_agent.domain.agent.service import build_work_engine
        from tray_agent.handlers import api

        get_settings.cache_clear()
        build_brains.cache_clear()
        build_work_engine.cache_clear()
        for cached in (api._service_for, api._reviews_for):
            cached.cache_clear()

    def api(
        self,
        method: str,
        path: str,
        body: str | bytes | dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        auth: bool = True,
        stage: str = "$default",
    ) -> HttpAnswer:
        """Call the API Lambda handler in-process with an API Gateway HTTP API event.

        By default the request is HMAC-signed as a machine sender would sign it and carries
        the local reviewer's token; ``auth=False`` sends it bare (``headers`` still apply).
        A named ``stage`` sends it through that stage's URL (``/{stage}{path}``).
        """
        from tray_agent.domain.auth import sign
        from tray_agent.handlers import api

        if isinstance(body, dict):
            body = json.dumps(body)
        raw = body.encode() if isinstance(body, str) else (body or b"")
        all_headers: dict[str, str] = {}
        if auth:
            timestamp, nonce = str(int(epoch_s())), uuid.uuid4().hex
            all_headers = {
                "X-Tray-Agent-Timestamp": timestamp,
                "X-Tray-Agent-Nonce": nonce,
                "X-Tray-Agent-Signature": sign(self.settings.signing_secret, timestamp, nonce, raw),
                "Authorization": f"Bearer {LOCAL_REVIEWER_TOKEN}",
            }
        all_headers.update(headers or {})
        with _INIT_LOCK:  # the init phase: build what the first request would build
            api._service()
            api._reviews()
        event = http_api_event(method, path, raw, headers=all_headers, query=query, stage=stage)
        return HttpAnswer.from_proxy_result(api.handler(event, LambdaContext()))
