"""One Tray budget for every container: the DynamoDB slot counters and the shared limiter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from tray_agent.config import Settings
from tray_agent.data.tray_budget import DynamoTrayBudget
from tray_agent.tray.ratelimit import SharedTokenBucket
from tray_local.local_aws import create_tables, use_fake_aws_credentials


class FakeTime:
    """Wall-clock time every 'container' shares; sleeping moves it forward."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def budget() -> Iterator[DynamoTrayBudget]:
    use_fake_aws_credentials()
    with mock_aws():
        from tray_agent.data import aws

        aws.reset_clients()
        settings = Settings()
        create_tables(settings)
        yield DynamoTrayBudget(settings.tray_budget_table, rate_per_s=28.5)
        aws.reset_clients()


def test_containers_share_one_slot_cap(budget: DynamoTrayBudget) -> None:
    now = 1_700_000_000.0
    granted = [budget.take(2, now)[0] for _ in range(20)]  # twenty containers, one slot
    assert sum(granted) == budget.cap == 14
    refused, wait = budget.take(2, now)
    assert refused == 0 and 0 < wait <= budget.slot_s
    assert budget.take(2, now + budget.slot_s)[0] == 2  # the next slot has its own cap


def test_many_containers_together_stay_under_the_account_rate(budget: DynamoTrayBudget) -> None:
    time_ = FakeTime()
    containers = [SharedTokenBucket(budget, clock=time_.clock, sleep=time_.sleep) for _ in range(5)]
    started = time_.now
    calls = 0
    while time_.now - started < 4.0:
        containers[calls % len(containers)].acquire()
        calls += 1
    assert calls / (time_.now - started) <= 30


def test_a_429_in_one_container_pauses_every_container(budget: DynamoTrayBudget) -> None:
    time_ = FakeTime()
    first = SharedTokenBucket(budget, clock=time_.clock, sleep=time_.sleep)
    second = SharedTokenBucket(budget, clock=time_.clock, sleep=time_.sleep)
    first.acquire()
    first.pause(3.0)
    paused_at = time_.now
    waited = second.acquire()
    assert waited >= 2.5 and time_.now - paused_at >= 2.5
