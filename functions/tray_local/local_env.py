"""Everything the product needs, on this machine: moto for AWS, the Tray simulator for Tray.

Used by ``make demo`` and by the integration tests; handlers are called in-process with the
very events API Gateway, S3, EventBridge and Step Functions would send them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moto import mock_aws

from tray_agent.config import DEFAULT_WORKFLOWS_FILE, Settings, get_settings
from tray_agent.data import aws
from tray_local.apigw import HttpAnswer, LambdaContext, http_api_event
from tray_local.local_aws import create_tables, use_fake_aws_credentials
from tray_local.simulator import TraySimulator


@dataclass
class LocalEnvironment:
    settings: Settings
    simulator: TraySimulator

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
                    **(extra_env or {}),
                }
            )
            get_settings.cache_clear()
            aws.reset_clients()
            settings = get_settings()
            create_tables(settings)
            yield cls(settings=settings, simulator=simulator)

    def api(
        self,
        method: str,
        path: str,
        body: str | bytes | dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> HttpAnswer:
        """Call the API Lambda handler in-process with an API Gateway HTTP API event."""
        from tray_agent.handlers import api

        event = http_api_event(method, path, body, headers=headers)
        return HttpAnswer.from_proxy_result(api.handler(event, LambdaContext()))
