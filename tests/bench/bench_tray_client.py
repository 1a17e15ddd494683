"""Tray client figures against the simulator over real HTTP on 127.0.0.1.

- ``tray_client_sustained_rps``: 600 calls from 8 threads through one client (the container's
  shared limiter) at a simulator enforcing Tray's 30 req/s with bursts to 50. Target >= 27.
- ``tray_client_429s_to_caller``: 429s that reached the caller in that run. Target 0.
- ``tray_client_429s_absorbed``: 429s the simulator sent that the client waited out.
- ``tray_client_overhead_ratio``: time per ``get_execution`` call through the client (rate limit
  out of the way) over the same GET + JSON decode with a bare ``httpx.Client``. Target <= 1.2.
"""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from tray_agent.config import Settings
from tray_agent.tray import TrayRateLimitedError, build_tray_clients
from tray_local.simulator import TraySimulator

RATE_LIMIT_CALLS = 600
RATE_LIMIT_THREADS = 8
OVERHEAD_CALLS_PER_ROUND = 300
OVERHEAD_ROUNDS = 7


def _settings(sim: TraySimulator, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "tray_api_base_url": sim.base_url,
        "tray_master_token": sim.master_token,
        "tray_user_token": sim.user_token,
    }
    values.update(overrides)
    return Settings.model_validate(values)


def sustained_rate() -> dict[str, float]:
    with TraySimulator(rate_limit_rps=30, burst=50) as sim:
        clients = build_tray_clients(_settings(sim))  # production defaults: limiter, retries
        execution_id = clients.workflows.execute("wf-ops-alert", {"severity": "info"}, idempotency_key="b").id

        def one(_: int) -> bool:
            try:
                clients.workflows.get_execution(execution_id)
            except TrayRateLimitedError:
                return False
            return True

        time.sleep(2)  # let the simulator's bucket refill after the setup call
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=RATE_LIMIT_THREADS) as pool:
            results = list(pool.map(one, range(RATE_LIMIT_CALLS)))
        elapsed = time.perf_counter() - started
        limited = results.count(False)
        clients.close()
        return {
            "tray_client_sustained_rps": round(RATE_LIMIT_CALLS / elapsed, 2),
            "tray_client_429s_to_caller": float(limited),
            "tray_client_429s_absorbed": float(sim.rejected_429),
        }


def overhead() -> dict[str, float]:
    with TraySimulator(rate_limit_rps=1e6, burst=1_000_000) as sim:
        clients = build_tray_clients(_settings(sim, tray_client_rps=1e6, tray_client_burst=1_000_000))
        execution_id = clients.workflows.execute("wf-ops-alert", {"severity": "info"}, idempotency_key="o").id
        url = f"{sim.base_url}/api/v1/executions/{execution_id}"
        headers = {"Authorization": f"Bearer {sim.master_token}", "Accept": "application/json"}
        bare = httpx.Client(timeout=10)

        def through_client() -> None:
            for _ in range(OVERHEAD_CALLS_PER_ROUND):
                clients.workflows.get_execution(execution_id)

        def through_bare_httpx() -> None:
            for _ in range(OVERHEAD_CALLS_PER_ROUND):
                response = bare.get(url, headers=headers)
                response.raise_for_status()
                response.json()

        ratios, client_us, bare_us = [], [], []
        through_client(), through_bare_httpx()  # warm connections and code paths
        for _ in range(OVERHEAD_ROUNDS):
            started = time.perf_counter()
            through_bare_httpx()
            bare_s = time.perf_counter() - started
            started = time.perf_counter()
            through_client()
            client_s = time.perf_counter() - started
            ratios.append(client_s / bare_s)
            client_us.append(client_s / OVERHEAD_CALLS_PER_ROUND * 1e6)
            bare_us.append(bare_s / OVERHEAD_CALLS_PER_ROUND * 1e6)
        bare.close()
        clients.close()
        return {
            "tray_client_overhead_ratio": round(statistics.median(ratios), 3),
            "tray_client_call_us": round(statistics.median(client_us), 1),
            "tray_bare_httpx_call_us": round(statistics.median(bare_us), 1),
        }


def run() -> dict[str, float]:
    return {**overhead(), **sustained_rate()}
