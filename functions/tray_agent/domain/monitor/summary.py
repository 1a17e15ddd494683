"""Feeding the agent's daily operations summary (domain/agent/memory.py) when it is deployed.

``OperationsSummary(settings).record(day, kind, workflow, outcome, note)`` counts one thing; the
monitor sees thousands of executions a tick, so it passes ``count=`` when the summary accepts
it (one write per workflow and outcome per tick) and otherwise records only its recoveries.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Protocol

from tray_agent.config import Settings
from tray_agent.observability import logger

KIND = "execution"


class SummarySink(Protocol):
    def executions(self, workflow: str, succeeded: int, failed: int) -> None: ...

    def record(self, workflow: str, outcome: str, note: str | None = None) -> None: ...


class NoSummary:
    def executions(self, workflow: str, succeeded: int, failed: int) -> None:
        return None

    def record(self, workflow: str, outcome: str, note: str | None = None) -> None:
        return None


class OperationsSummarySink:
    def __init__(self, summary: Any) -> None:
        self._summary = summary
        self._counts = "count" in inspect.signature(summary.record).parameters

    def executions(self, workflow: str, succeeded: int, failed: int) -> None:
        if not self._counts:
            return
        for outcome, count in (("succeeded", succeeded), ("failed", failed)):
            if count:
                self._call(workflow, outcome, None, count=count)

    def record(self, workflow: str, outcome: str, note: str | None = None) -> None:
        self._call(workflow, outcome, note)

    def _call(self, workflow: str, outcome: str, note: str | None, **extra: int) -> None:
        try:
            self._summary.record(None, KIND, workflow, outcome, note, **extra)
        except Exception:
            # The summary is a side channel: a tick never fails on it.
            logger.warning("operations summary not updated", workflow=workflow, outcome=outcome)


def build_summary(settings: Settings) -> SummarySink:
    try:
        module = importlib.import_module("tray_agent.domain.agent.memory")
    except ModuleNotFoundError:
        return NoSummary()
    summary_class = getattr(module, "OperationsSummary", None)
    return NoSummary() if summary_class is None else OperationsSummarySink(summary_class(settings))
