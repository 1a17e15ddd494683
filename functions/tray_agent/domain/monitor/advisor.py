"""Asking the agent about a failure the monitor cannot classify.

The seam: anything with ``decide(summary, data, context) -> Decision | None``. The monitor asks
the agent's ``decide_situation`` (domain/agent/brain.py: the LLM brain when a model is
configured, else the policy rules, which send an unclassified failure to review); when the agent
fails, nobody answers and the failure goes to human review. The monitor itself carries out a
retry the agent chooses, so the retry stays bounded, idempotent and audited like every other
recovery.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from tray_agent.config import Settings
from tray_agent.models.decisions import Decision
from tray_agent.observability import logger

SITUATION_KIND = "execution_failure"


class Advisor(Protocol):
    def decide(self, summary: str, data: dict[str, Any], context: dict[str, Any]) -> Decision | None: ...


class AgentAdvisor:
    def __init__(self, settings: Settings, decide_situation: Callable[..., Decision]) -> None:
        self._settings = settings
        self._decide_situation = decide_situation

    def decide(self, summary: str, data: dict[str, Any], context: dict[str, Any]) -> Decision | None:
        try:
            return self._decide_situation(
                self._settings, kind=SITUATION_KIND, summary=summary, data=data, context=context
            )
        except Exception:
            # The agent is advice: when it fails, a person decides (the review the caller files).
            logger.exception("agent could not decide on a failure", execution_id=data.get("execution_id"))
            return None


def build_advisor(settings: Settings) -> Advisor:
    from tray_agent.domain.agent.brain import decide_situation  # the agent's modules load only here

    return AgentAdvisor(settings, decide_situation)
