"""The client-side limiter keeps a container under Tray's limit; Tray's 429s are absorbed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tray_agent.tray import build_tray_clients
from tray_agent.tray.ratelimit import TokenBucket
from tray_local.simulator import TraySimulator

from .conftest import FAST_RETRIES, settings_for


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_bucket_allows_the_burst_then_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, 5, clock=clock, sleep=clock.sleep)

    for _ in range(25):
        bucket.acquire()

    # 5 at once, then 20 more at 10/s: two seconds.
    assert clock.now == pytest_approx(2.0)


def test_pause_holds_every_caller_for_retry_after() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, 5, clock=clock, sleep=clock.sleep)
    bucket.acquire()

    bucket.pause(3.0)
    bucket.acquire()

    assert clock.now >= 3.0


def pytest_approx(value: float) -> object:
    import pytest

    return pytest.approx(value, abs=1e-6)


def test_many_threads_through_one_client_never_see_a_429() -> None:
    # Scaled down from the benchmark (30 req/s): same shape, a second of wall time.
    with TraySimulator(rate_limit_rps=100, burst=10) as sim:
        settings = settings_for(sim, tray_client_rps=95.0, tray_client_burst=5)
        clients = build_tray_clients(settings, retry_policy=FAST_RETRIES)
        execution = clients.workflows.execute("wf-ops-alert", {"severity": "info"}, idempotency_key="rl-1")

        with ThreadPoolExecutor(max_workers=8) as pool:
            fetched = list(pool.map(lambda _: clients.workflows.get_execution(execution.id), range(100)))

        clients.close()
        assert all(f.id == execution.id for f in fetched)
        statuses = [call.status for call in sim.calls()]
        assert statuses.count(200) == 101
        # Whatever the server refused was retried; nothing above reached the caller.
        assert statuses.count(429) == sim.rejected_429
