"""Guardrails between a decision and Tray, the same for both brains.

- only workflows in the registry run, and only with input that matches their schema;
- high-risk workflows, workflows that require approval, and decisions below the confidence
  threshold are held for human review instead of executing;
- what a model may read of an event is redacted (secrets and sensitive personal data out,
  long text cut; ``tray_agent.redaction``, the one redaction the audit trail uses too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tray_agent import redaction
from tray_agent.domain.agent.registry import ToolInputError, ToolRegistry, UnknownToolError
from tray_agent.models.decisions import ACTING_ACTIONS, Decision, WorkflowCall
from tray_agent.models.workflows import RiskLevel

MAX_TEXT = redaction.MODEL_MAX_TEXT
MAX_DEPTH = redaction.MODEL_MAX_DEPTH


def redact(value: Any) -> Any:
    """A copy a model may read: secrets masked by key and by value (``tray_agent.redaction``),
    long strings and lists cut, deep nesting truncated."""
    return redaction.redact(value)


@dataclass(frozen=True)
class Verdict:
    execute: bool
    calls: list[WorkflowCall]  # validated (schema defaults applied) when execute is True
    held_because: str | None = None


class Guardrails:
    def __init__(self, registry: ToolRegistry, confidence_threshold: float) -> None:
        self._registry = registry
        self._threshold = confidence_threshold

    def check(self, decision: Decision) -> Verdict:
        """May this decision run now? If not, why it goes to a person."""
        if decision.action not in ACTING_ACTIONS:
            return Verdict(execute=False, calls=list(decision.calls))
        if not decision.calls:
            return Verdict(False, [], "the decision asks to act but names no workflow")
        problems: list[str] = []
        validated: list[WorkflowCall] = []
        for call in decision.calls:
            try:
                tool = self._registry.get(call.workflow)
            except UnknownToolError:
                # A retry re-runs a workflow just as a trigger does: one we do not describe (no
                # schema, no risk level) never runs without a person, whatever input it carries.
                if call.retry_of:
                    problems.append(
                        f"retry of execution {call.retry_of}: {call.workflow!r} is not a registered workflow"
                    )
                else:
                    problems.append(f"{call.workflow!r} is not a registered workflow")
                continue
            what = f"retry of {tool.name}" if call.retry_of else tool.name
            if tool.requires_approval:
                problems.append(f"{what} requires human approval")
            elif tool.risk is RiskLevel.HIGH:
                problems.append(f"{what} is high-risk")
            if call.retry_of and not call.input:
                validated.append(call)  # the failed execution's own input, already accepted once
                continue
            try:
                payload = self._registry.validate_input(call.workflow, call.input)
            except ToolInputError as exc:
                problems.append(exc.message)
                continue
            validated.append(call.model_copy(update={"input": payload}))
        if decision.confidence < self._threshold:
            problems.append(
                f"confidence {decision.confidence:.2f} is below the {self._threshold:.2f} threshold"
            )
        if problems:
            return Verdict(False, list(decision.calls), "; ".join(problems))
        return Verdict(True, validated)
