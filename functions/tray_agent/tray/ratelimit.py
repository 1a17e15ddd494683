"""A thread-safe token bucket shared by every Tray call from one container.

Tray allows 30 requests/s with momentary bursts to 50 (seed 001). The client stays a little
under that so that clock skew between us and Tray never turns into a 429; when a 429 does
arrive, ``pause`` makes every thread wait out the Retry-After together instead of each
thread discovering it separately.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Protocol

TRAY_RATE_LIMIT_RPS = 30.0
TRAY_BURST = 50
# Headroom under Tray's limit: our clock and Tray's never agree exactly on "one second".
DEFAULT_CLIENT_RPS = TRAY_RATE_LIMIT_RPS * 0.95
DEFAULT_CLIENT_BURST = 10
# Refills are float sums: 0.1 s at 10/s can come to 0.9999999 of a token, which must count as one.
_EPSILON = 1e-9


class TokenBucket:
    def __init__(
        self,
        rate_per_s: float = DEFAULT_CLIENT_RPS,
        burst: int = DEFAULT_CLIENT_BURST,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._updated = clock()
        self._paused_until = 0.0

    def acquire(self) -> float:
        """Take one token, waiting as long as needed; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._refill(now)
                if now < self._paused_until:
                    delay = self._paused_until - now
                elif self._tokens >= 1 - _EPSILON:
                    self._tokens = max(0.0, self._tokens - 1)
                    return waited
                else:
                    delay = (1 - self._tokens) / self.rate_per_s
            self._sleep(delay)
            waited += delay

    def pause(self, seconds: float) -> None:
        """Hold every caller for ``seconds`` (Tray said Retry-After) and drop the saved burst."""
        with self._lock:
            now = self._clock()
            self._paused_until = max(self._paused_until, now + seconds)
            self._tokens = 0.0
            self._updated = max(self._updated, self._paused_until)

    def _refill(self, now: float) -> None:
        if now > self._updated:
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate_per_s)
            self._updated = now


# -- one budget for every container ------------------------------------------------------------
#
# Tray's 30 req/s is per account, while Lambda runs as many containers as there are concurrent
# invocations. ``SharedTokenBucket`` draws every call from one account-wide bucket kept by a
# ``SharedBudget`` (DynamoDB in production: tray_agent/data/tray_budget.py; this module never
# imports boto3). To keep the storage calls few, a container takes a small batch of tokens per
# grab and spends them locally; a 429 pauses everyone through the budget's shared pause-until.


class SharedBudget(Protocol):
    """The account-wide bucket. Times are wall-clock epoch seconds, the same on every host."""

    def take(self, wanted: int, now: float) -> tuple[int, float]:
        """Grant up to ``wanted`` tokens; returns (granted, seconds to wait before asking again)."""
        ...

    def pause_until(self, until: float, now: float) -> None:
        """Nobody draws from ``now`` until ``until`` (Tray answered 429 with Retry-After)."""
        ...


DEFAULT_BATCH = 2  # tokens per grab: ~14 storage writes/s at the full rate, bursts stay small


class SharedTokenBucket(TokenBucket):
    """A ``TokenBucket`` whose tokens come from a ``SharedBudget`` in small batches."""

    def __init__(
        self,
        budget: SharedBudget,
        *,
        batch: int = DEFAULT_BATCH,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_local_age_s: float = 1.0,
    ) -> None:
        super().__init__(DEFAULT_CLIENT_RPS, max(batch, 1), clock=clock, sleep=sleep)
        self._budget = budget
        self._batch = max(batch, 1)
        self._local = 0
        self._granted_at = 0.0
        # Tokens granted but not spent within this long go unused: spending them late would
        # add them to a later second's budget.
        self._max_local_age_s = max_local_age_s

    def acquire(self) -> float:
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                if now < self._paused_until:
                    delay = self._paused_until - now
                else:
                    if self._local > 0 and now - self._granted_at <= self._max_local_age_s:
                        self._local -= 1
                        return waited
                    granted, delay = self._budget.take(self._batch, now)
                    if granted > 0:
                        self._local = granted - 1
                        self._granted_at = now
                        return waited
                    self._local = 0
            # Spread the containers that all wait for the next slot over its first few ms.
            delay += random.uniform(0, 0.02)  # noqa: S311 - jitter, not security
            self._sleep(delay)
            waited += delay

    def pause(self, seconds: float) -> None:
        with self._lock:
            now = self._clock()
            self._paused_until = max(self._paused_until, now + seconds)
            self._local = 0
            until = self._paused_until
        self._budget.pause_until(until, now)
