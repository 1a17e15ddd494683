"""Guardrails between a decision and Tray, the same for both brains.

- only workflows in the registry run, and only with input that matches their schema;
- high-risk workflows, workflows that require approval, and decisions below the confidence
  threshold are held for human review instead of executing;
- what a model may read of an event is redacted (secrets and sensitive personal data out,
  long text cut), and the same redaction applies to what is stored as the decision's inputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tray_agent.domain.agent.registry import ToolInputError, ToolRegistry, UnknownToolError
from tray_agent.models.decisions import ACTING_ACTIONS, Decision, WorkflowCall
from tray_agent.models.workflows import RiskLevel

# Keys whose values never reach a model, a log or the audit record.
SENSITIVE_KEY = re.compile(
    r"(pass(word)?|secret|token|api[_-]?key|authori[sz]ation|cookie|ssn|social_security|"
    r"card(_?number)?|cvv|cvc|iban|account_number|routing_number|date_of_birth|dob|tax_id)",
    re.IGNORECASE,
)
MAX_TEXT = 2000
MAX_DEPTH = 6
REDACTED = "[redacted]"


def redact(value: Any, depth: int = 0) -> Any:
    """A copy with sensitive keys masked and long strings cut."""
    if depth > MAX_DEPTH:
        return "[truncated]"
    if isinstance(value, dict):
        return {
            str(k): (REDACTED if SENSITIVE_KEY.search(str(k)) else redact(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v, depth + 1) for v in value[:100]]
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[:MAX_TEXT] + "…[truncated]"
    return value


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
                if call.retry_of:  # a retry of an execution whose workflow we do not describe
                    validated.append(call)
                    continue
                problems.append(f"{call.workflow!r} is not a registered workflow")
                continue
            if tool.requires_approval:
                problems.append(f"{tool.name} requires human approval")
            elif tool.risk is RiskLevel.HIGH:
                problems.append(f"{tool.name} is high-risk")
            if call.retry_of and not call.input:
                validated.append(call)
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
