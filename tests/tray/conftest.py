"""Fixtures: a real simulator on 127.0.0.1 and real clients talking to it over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tray_agent.config import Settings
from tray_agent.tray import TrayClients, build_tray_clients
from tray_agent.tray.http import RetryPolicy
from tray_local.simulator import TraySimulator

# Short waits so that retry tests stay fast; the bounds are what they check.
FAST_RETRIES = RetryPolicy(max_attempts=4, base_delay_s=0.01, max_delay_s=0.05)


def settings_for(sim: TraySimulator, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "tray_api_base_url": sim.base_url,
        "tray_master_token": sim.master_token,
        "tray_user_token": sim.user_token,
        "tray_timeout_s": 5.0,
        # Functional tests are not about the limit: tests/tray/test_rate_limit.py is.
        "tray_client_rps": 2000.0,
        "tray_client_burst": 100,
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture
def sim() -> Iterator[TraySimulator]:
    # Time factor 0.01: a scripted 45 s connector timeout takes 0.45 s.
    with TraySimulator(time_factor=0.01, seed=7, rate_limit_rps=5000, burst=500) as simulator:
        yield simulator


@pytest.fixture
def clients(sim: TraySimulator) -> Iterator[TrayClients]:
    built = build_tray_clients(settings_for(sim), retry_policy=FAST_RETRIES)
    yield built
    built.close()
