"""Fix before trigger: a run that would fail on a known constraint is fixed first, or not run.

Before every trigger the planned input passes through what the agent has learnt about the
workflow (values the monitor fixed after a failure, corrections reviewers made) and through the
cheap checks of known constraints (picklists declared in the workflows file or learnt from a
failure, their values from the Platform API, cached). A value outside a picklist is mapped to
the value meant when that is clear; otherwise the work goes to a person with the reason. The
fixes are written into the decision before the attempt is recorded, so what runs is what the
audit trail shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from tray_agent.data.lessons import LessonsRepository, WorkflowLessons
from tray_agent.domain.agent.registry import ToolRegistry
from tray_agent.domain.picklists import PicklistSource, best_match
from tray_agent.models.decisions import InputFix, WorkflowCall
from tray_agent.observability import logger

# Reviewer corrections are learnt for short values only (a picklist value, a code).
MAX_LEARNT_VALUE_CHARS = 80


@dataclass
class FixResult:
    calls: list[WorkflowCall]
    fixes: list[InputFix] = field(default_factory=list)
    blocked: str | None = None  # why the run cannot go as planned (a person decides)


class InputFixer:
    def __init__(
        self, registry: ToolRegistry, lessons: LessonsRepository, picklists: PicklistSource | None
    ) -> None:
        self._registry = registry
        self._lessons = lessons
        self._picklists = picklists

    def fix(self, calls: list[WorkflowCall], now: datetime) -> FixResult:
        result = FixResult(calls=[])
        for call in calls:
            if call.retry_of or call.workflow not in self._registry:
                result.calls.append(call)  # retries carry Tray's input; unknown tools fail later
                continue
            fixed, fixes, blocked = self._fix_call(call, now)
            result.calls.append(fixed)
            result.fixes.extend(fixes)
            if blocked and result.blocked is None:
                result.blocked = blocked
        return result

    def _fix_call(self, call: WorkflowCall, now: datetime) -> tuple[WorkflowCall, list[InputFix], str | None]:
        lessons = self._read(call.workflow)
        data = dict(call.input)
        fixes: list[InputFix] = []
        for (name, before), after in lessons.fixes.items():
            if data.get(name) == before and after != before:
                data[name] = after
                source = lessons.sources.get((name, before), "learnt")
                fixes.append(
                    InputFix(workflow=call.workflow, field=name, before=before, after=after, source=source)
                )
        blocked: str | None = None
        for name, picklist in self._picklists_of(call.workflow, lessons).items():
            value = data.get(name)
            if not isinstance(value, str) or self._picklists is None:
                continue
            connector, _, sf_field = picklist.partition(":")
            valid = self._picklists.values(connector, sf_field)
            if not valid or value in valid:
                continue  # unknown values (Tray could not say) never block a run
            meant = best_match(value, valid)
            if meant is None:
                blocked = f"{name}={value!r} is not one of the {len(valid)} values of {sf_field}"
                continue
            data[name] = meant
            fix = InputFix(workflow=call.workflow, field=name, before=value, after=meant, source="picklist")
            fixes.append(fix)
            self._learn(fix, now)
        if not fixes:
            return call, [], blocked
        logger.info("input fixed before trigger", workflow=call.workflow, fields=[f.field for f in fixes])
        return call.model_copy(update={"input": data}), fixes, blocked

    def _picklists_of(self, workflow: str, lessons: WorkflowLessons) -> dict[str, str]:
        declared = {
            name: f"{constraint.connector}:{constraint.field}"
            for name, constraint in self._registry.get(workflow).picklists.items()
        }
        return {**lessons.picklists, **declared}

    def _read(self, workflow: str) -> WorkflowLessons:
        return self._lessons.lessons(workflow)

    def learn_from_review(
        self, proposed: list[WorkflowCall], approved: list[WorkflowCall], now: datetime
    ) -> int:
        """A reviewer's correction of a constrained value is learnt: the next run gets it first.

        Only a field with a known picklist whose proposed value was not valid teaches anything;
        any other edit (a priority, a note) is that one decision's business, not a rule.
        """
        learnt = 0
        for before, after in zip(proposed, approved, strict=False):
            if before.workflow != after.workflow or before.retry_of or after.workflow not in self._registry:
                continue
            picklists = self._picklists_of(after.workflow, self._read(after.workflow))
            for name, picklist in picklists.items():
                fix = self._correction(
                    after.workflow, name, picklist, before.input.get(name), after.input.get(name)
                )
                if fix is not None:
                    self._learn(fix, now)
                    learnt += 1
        return learnt

    def _correction(
        self, workflow: str, name: str, picklist: str, old: object, new: object
    ) -> InputFix | None:
        if not (isinstance(old, str) and isinstance(new, str)) or old == new or self._picklists is None:
            return None
        if len(old) > MAX_LEARNT_VALUE_CHARS:
            return None
        connector, _, sf_field = picklist.partition(":")
        valid = self._picklists.values(connector, sf_field) or []
        if old in valid or new not in valid:
            return None
        return InputFix(workflow=workflow, field=name, before=old, after=new, source="review")

    def _learn(self, fix: InputFix, now: datetime) -> None:
        try:
            self._lessons.remember_fix(
                fix.workflow, fix.field, fix.before, fix.after, source=fix.source, at=now
            )
        except (ClientError, BotoCoreError) as exc:  # a lesson not kept costs a fix later, not work
            logger.warning("lesson not kept", workflow=fix.workflow, error=type(exc).__name__)
