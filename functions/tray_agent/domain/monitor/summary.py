"""Feeding the agent's daily operations summary (domain/agent/memory.py) when it is deployed."""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from tray_agent.config import Settings
from tray_agent.observability import logger


class SummarySink(Protocol):
    def record(self, workflow: str, outcome: str, note: str | None = None) -> None: ...


class NoSummary:
    def record(self, workflow: str, outcome: str, note: str | None = None) -> None:
        return None


class OperationsSummarySink:
    """``OperationsSummary(settings).record(day, "execution", workflow, outcome, note)``."""

    def __init__(self, summary: Any) -> None:
        self._summary = summary

    def record(self, workflow: str, outcome: str, note: str | None = None) -> None:
        try:
            self._summary.record(None, "execution", workflow, outcome, note)
        except Exception:
            logger.warning("operations summary not updated", workflow=workflow, outcome=outcome)


def build_summary(settings: Settings) -> SummarySink:
    try:
        module = importlib.import_module("tray_agent.domain.agent.memory")
    except ModuleNotFoundError:
        return NoSummary()
    summary_class = getattr(module, "OperationsSummary", None)
    return NoSummary() if summary_class is None else OperationsSummarySink(summary_class(settings))
