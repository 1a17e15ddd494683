"""A fresh work ledger per test (its own table), on the shared moto + Tray simulator environment.

Incidents are shared state by nature (one per cause); a table of its own keeps one test's
incident from holding or releasing another test's work.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tray_local.local_aws import create_tables


@contextmanager
def fresh_ledger(env: Any, **extra: str) -> Iterator[Any]:
    name = f"tray-agent-work-{uuid.uuid4().hex[:8]}"
    with env.reconfigured(
        TRAY_AGENT_WORK_TABLE=name,
        TRAY_AGENT_TRAY_MAX_ATTEMPTS="1",  # Tray's refusals reach the ledger at once
        TRAY_AGENT_WORK_PROBE_INTERVAL_S="0.01",
        **extra,
    ) as settings:
        create_tables(settings)
        saved, env.settings = env.settings, settings
        try:
            yield env
        finally:
            env.settings = saved


@pytest.fixture
def ledger_env(local_env: Any) -> Iterator[Any]:
    with fresh_ledger(local_env) as env:
        yield env


def sweep() -> Any:
    from tray_agent.config import get_settings
    from tray_agent.domain.agent.service import build_sweeper

    return build_sweeper(get_settings()).sweep()


def runs(env: Any, prefix: str) -> list[Any]:
    env.simulator.wait_idle()
    return [e for e in env.simulator.executions() if (e.idempotency_key or "").startswith(prefix)]
