"""The one clock: everything that needs "now" asks it, so a day can be simulated in seconds.

Domain objects take a ``Clock`` (default ``utc_now``); ``utc_now`` reads the process's clock,
which is the system's unless a simulation installs another (``use_clock``): signature windows,
idempotency and duplicate windows, leases, the monitor's window, the local Tray simulator's
timestamps and its alerting signatures all move with it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_now() -> datetime:
    return datetime.now(UTC)


_source: Clock = system_now
_sleeper: Callable[[float], None] = time.sleep


def utc_now() -> datetime:
    return _source()


def epoch_s() -> float:
    return _source().timestamp()


def sleep(seconds: float) -> None:
    """Wait ``seconds`` on the process's clock (a simulated clock just moves on)."""
    _sleeper(seconds)


@contextmanager
def use_clock(clock: Clock, *, sleeper: Callable[[float], None] | None = None) -> Iterator[Clock]:
    """Install ``clock`` (and how to wait on it) as the process's clock for the block.

    Simulations and benchmarks only; a ``VirtualClock`` brings its own ``sleep``.
    """
    global _source, _sleeper  # noqa: PLW0603 - the one process-wide seam, by design
    saved = _source, _sleeper
    _source = clock
    _sleeper = sleeper or getattr(clock, "sleep", None) or time.sleep
    try:
        yield clock
    finally:
        _source, _sleeper = saved


class VirtualClock:
    """A clock that moves only when told: ``advance`` and ``sleep`` add time, ``set`` jumps."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=max(0.0, seconds))
            return self._now

    sleep = advance

    def set(self, at: datetime) -> datetime:
        """Move to ``at`` (never backwards)."""
        with self._lock:
            self._now = max(self._now, at)
            return self._now
