"""Asking the agent about a failure the monitor cannot classify.

The seam: anything with ``decide(situation) -> Decision | None``. The agent's situation API
(LLM brain when configured) plugs in here through ``build_advisor``; until it is wired, no
advisor answers and the failure goes to human review, which is the policy brain's answer for
an unknown situation anyway.
"""

from __future__ import annotations

from typing import Any, Protocol

from tray_agent.config import Settings
from tray_agent.models.decisions import Decision


class Advisor(Protocol):
    def decide(self, situation: dict[str, Any]) -> Decision | None: ...


class NoAdvisor:
    """No brain to ask: every unknown failure is reviewed by a person."""

    def decide(self, situation: dict[str, Any]) -> Decision | None:
        return None


def build_advisor(settings: Settings) -> Advisor:
    return NoAdvisor()
