"""Feeding the agent's daily operations summary (domain/agent/memory.py) from the monitor.

The monitor sees thousands of executions a tick, so it records counts (one write per workflow
and outcome per tick) beside each recovery and alert.
"""

from __future__ import annotations

from typing import Protocol

from tray_agent.config import Settings
from tray_agent.domain.agent.memory import OperationsSummary
from tray_agent.observability import logger

KIND = "execution"


class SummarySink(Protocol):
    def executions(self, workflow: str, succeeded: int, failed: int) -> None: ...

    def record(self, workflow: str, outcome: str, note: str | None = None) -> None: ...


class OperationsSummarySink:
    def __init__(self, summary: OperationsSummary) -> None:
        self._summary = summary

    def executions(self, workflow: str, succeeded: int, failed: int) -> None:
        for outcome, count in (("succeeded", succeeded), ("failed", failed)):
            if count:
                self._call(workflow, outcome, None, count=count)

    def record(self, workflow: str, outcome: str, note: str | None = None) -> None:
        self._call(workflow, outcome, note)

    def _call(self, workflow: str, outcome: str, note: str | None, count: int = 1) -> None:
        try:
            self._summary.record(None, KIND, workflow, outcome, note, count=count)
        except Exception:
            # The summary is a side channel: a tick never fails on it.
            logger.warning("operations summary not updated", workflow=workflow, outcome=outcome)


def build_summary(settings: Settings) -> SummarySink:
    return OperationsSummarySink(OperationsSummary(settings))
