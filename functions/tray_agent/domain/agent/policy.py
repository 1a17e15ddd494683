"""The policy brain: declarative rules, no model.

Rules live in a JSON file. The first rule whose ``when`` matches decides; an event no rule
matches is ignored with a reason, so nothing is dropped silently. A rule looks like::

    {"name": "spam-lead",
     "when": {"event_type": ["lead.created"], "any": [{"path": "data.email", "op": "matches",
                                                      "value": "@(mailinator|example)\\\\."}]},
     "then": {"action": "ignore", "reason": "disposable e-mail domain: {data.email}"}}

Conditions: ``path`` is a dotted path into the event (``type``, ``source``, ``customer_id``,
``data.…``, ``context.…`` for the customer's stored context); ``op`` is one of eq, ne, gt, gte,
lt, lte, in, not_in, contains, matches, exists, missing. ``then.calls`` (or ``workflow`` plus
``input``) map event fields into workflow input: a string ``"$data.email"`` is a path, anything
else is a literal; ``reason`` may quote fields with ``{path}``.

``screening.…`` (``score``, ``signals``, ``reason``, ``role_address``, ``domain``) is the lead
screen's verdict on the event's data (``screening.py``), computed only for the event types of
rules that mention it, so every other event pays nothing for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from tray_agent.errors import ConfigurationError
from tray_agent.models.base import Model
from tray_agent.models.decisions import Decision, DecisionAction, WorkflowCall

Op = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "matches", "exists", "missing"]

_MISSING = object()


def lookup(document: Mapping[str, Any], path: str) -> Any:
    """Resolve a dotted path (``data.company.name``, ``data.lines.0.sku``); _MISSING if absent."""
    current: Any = document
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda actual, expected: bool(actual == expected),
    "ne": lambda actual, expected: bool(actual != expected),
    "gt": lambda actual, expected: bool(actual > expected),
    "gte": lambda actual, expected: bool(actual >= expected),
    "lt": lambda actual, expected: bool(actual < expected),
    "lte": lambda actual, expected: bool(actual <= expected),
    "in": lambda actual, expected: actual in expected,
    "not_in": lambda actual, expected: actual not in expected,
    "contains": lambda actual, expected: expected in actual,
}


def _compare(op: Op, actual: Any, expected: Any) -> bool:
    if op == "exists":
        return actual is not _MISSING and actual is not None
    if op == "missing":
        return actual is _MISSING or actual is None
    if actual is _MISSING:
        return False
    try:
        return _COMPARISONS[op](actual, expected)
    except TypeError:
        # A field of an unexpected type simply does not match; it never breaks the policy.
        return False


class Condition(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    op: Op = "eq"
    value: Any = None

    @model_validator(mode="after")
    def _compile_pattern(self) -> Condition:
        if self.op == "matches":
            try:
                object.__setattr__(self, "_pattern", re.compile(str(self.value), re.IGNORECASE))
            except re.error as exc:
                raise ValueError(f"bad pattern {self.value!r}: {exc}") from exc
        return self

    def holds(self, document: Mapping[str, Any]) -> bool:
        actual = lookup(document, self.path)
        if self.op == "matches":
            pattern: re.Pattern[str] = getattr(self, "_pattern")  # noqa: B009 - set in the validator
            return isinstance(actual, str) and pattern.search(actual) is not None
        return _compare(self.op, actual, self.value)


class When(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: list[str] = Field(default_factory=list)  # empty: any type
    all: list[Condition] = Field(default_factory=list)
    any: list[Condition] = Field(default_factory=list)

    @field_validator("event_type", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def matches(self, document: Mapping[str, Any]) -> bool:
        if self.event_type and document.get("type") not in self.event_type:
            return False
        if not all(c.holds(document) for c in self.all):
            return False
        return not self.any or any(c.holds(document) for c in self.any)


class Then(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    action: DecisionAction
    reason: str
    workflow: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    calls: list[dict[str, Any]] = Field(default_factory=list)  # [{"workflow": ..., "input": {...}}]
    confidence: float = Field(default=1.0, ge=0, le=1)
    # A later check once the calls ran: {"after": "3d", "check": "accounts_active", "then": {...},
    # "input": {...}, "person": "$data.email"}; input may quote the calls ("$calls.0.input.tools").
    follow_up: dict[str, Any] | None = None

    @field_validator("follow_up")
    @classmethod
    def _valid_follow_up(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            from tray_agent.models.followups import parse_after

            parse_after(value.get("after", ""))
            if not value.get("check"):
                raise ValueError("a follow_up needs a check")
        return value

    def planned_calls(self) -> list[dict[str, Any]]:
        if self.workflow:
            return [{"workflow": self.workflow, "input": self.input}, *self.calls]
        return list(self.calls)


class Rule(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    # A screening rule decides even when a model is configured (spam, noise): the first pass
    # that catches the obvious cases before any token is spent.
    screen: bool = False
    when: When
    then: Then


class RulesFile(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: list[Rule]


def _render(template: Any, document: Mapping[str, Any]) -> Any:
    """Map a rule's input template onto the event: "$path" strings are looked up."""
    if isinstance(template, str) and template.startswith("$"):
        value = lookup(document, template[1:])
        return None if value is _MISSING else value
    if isinstance(template, str) and "{" in template:
        return _render_reason(template, document)
    if isinstance(template, dict):
        rendered = {key: _render(value, document) for key, value in template.items()}
        return {key: value for key, value in rendered.items() if value is not None}
    if isinstance(template, list):
        return [_render(item, document) for item in template]
    return template


_PLACEHOLDER = re.compile(r"\{([a-zA-Z0-9_.]+)\}")


def _render_reason(reason: str, document: Mapping[str, Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        value = lookup(document, match.group(1))
        return "?" if value is _MISSING else str(value)

    return _PLACEHOLDER.sub(replace, reason)


SCREENING = "screening"  # the lead screen's verdict, as the rules see it


def _mentions_screening(rule: Rule) -> bool:
    conditions = [*rule.when.all, *rule.when.any]
    return any(c.path.split(".", 1)[0] == SCREENING for c in conditions) or (
        "{" + SCREENING + "." in rule.then.reason
    )


class PolicyBrain:
    """Deterministic decisions from rules; the same ``Decision`` model the LLM brain returns."""

    def __init__(self, rules: list[Rule], known_workflows: Callable[[str], bool] | None = None) -> None:
        self._rules = rules
        self._screens = [rule for rule in rules if rule.screen]
        self._known_types = frozenset(t for rule in rules for t in rule.when.event_type)
        screened = [rule for rule in rules if _mentions_screening(rule)]
        self._screened_types = frozenset(t for rule in screened for t in rule.when.event_type)
        self._screen_every_type = any(not rule.when.event_type for rule in screened)
        if known_workflows is not None:
            unknown = sorted(
                {
                    call["workflow"]
                    for rule in rules
                    for call in rule.then.planned_calls()
                    if not known_workflows(call["workflow"])
                }
            )
            if unknown:
                raise ConfigurationError(f"rules name workflows missing from the registry: {unknown}")

    @classmethod
    def from_file(cls, path: Path, known_workflows: Callable[[str], bool] | None = None) -> PolicyBrain:
        try:
            rules = RulesFile.model_validate(json.loads(path.read_text())).rules
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot load rules file {path}: {exc}") from exc
        return cls(rules, known_workflows)

    def usual_workflow(self, event_type: str) -> str | None:
        """What a rule-only integration runs for every event of this type (the unconditional
        trigger rule), to count the task credits an ignored event saved."""
        for rule in reversed(self._rules):
            when = rule.when
            if event_type in when.event_type and not when.all and not when.any:
                calls = rule.then.planned_calls()
                if rule.then.action is DecisionAction.TRIGGER and calls:
                    return str(calls[0]["workflow"])
        return None

    def knows(self, event_type: str) -> bool:
        """Does any rule name this event type? (Unknown types are ignored before a model runs.)"""
        return event_type in self._known_types

    def _with_screening(self, document: Mapping[str, Any]) -> Mapping[str, Any]:
        """The document with the lead screen's verdict, for the types whose rules ask for it."""
        if not self._screen_every_type and document.get("type") not in self._screened_types:
            return document
        from tray_agent.domain.agent.screening import screen_lead

        data = document.get("data")
        verdict = screen_lead(data if isinstance(data, Mapping) else {})
        return {**document, SCREENING: verdict.for_rules()}  # a copy: the caller's event is untouched

    def screen(self, document: Mapping[str, Any]) -> Decision | None:
        """The first pass: a decision from a screening rule or for an unknown type, else None."""
        document = self._with_screening(document)
        for rule in self._screens:
            if rule.when.matches(document):
                return _decision(rule, document)
        if not self.knows(str(document.get("type"))):
            return self._no_rule(document)
        return None

    def decide(self, document: Mapping[str, Any]) -> Decision:
        """Decide for an event given as a plain dict (``type``, ``data``, ``context``, ...)."""
        document = self._with_screening(document)
        for rule in self._rules:
            if rule.when.matches(document):
                return _decision(rule, document)
        return self._no_rule(document)

    @staticmethod
    def _no_rule(document: Mapping[str, Any]) -> Decision:
        return Decision(
            action=DecisionAction.IGNORE,
            reason=f"no rule handles event type {document.get('type')!r}",
            brain="policy",
            rule=None,
        )


def _decision(rule: Rule, document: Mapping[str, Any]) -> Decision:
    then = rule.then
    calls = [
        WorkflowCall(workflow=call["workflow"], input=_render(call.get("input", {}), document))
        for call in then.planned_calls()
    ]
    return Decision(
        action=then.action,
        calls=calls,
        reason=_render_reason(then.reason, document),
        confidence=then.confidence,
        brain="policy",
        rule=rule.name,
        follow_ups=_follow_ups(then, document, calls),
    )


def _follow_ups(then: Then, document: Mapping[str, Any], calls: list[WorkflowCall]) -> list[Any]:
    if then.follow_up is None:
        return []
    from tray_agent.models.followups import followup_plan_from

    scope = {**document, "calls": [call.model_dump(mode="json") for call in calls]}
    spec = then.follow_up
    rendered = {**spec, "input": _render(spec.get("input", {}), scope)}
    person = _render(spec.get("person"), scope)
    customer = document.get("customer_id")
    return [
        followup_plan_from(
            rendered,
            customer_id=str(customer) if customer else None,
            person=str(person) if person else None,
        )
    ]
