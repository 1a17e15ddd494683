"""What the agent has learnt about each workflow's input, kept in the work table.

One item per workflow, ``lessons#<workflow>``, read with one GetItem before a trigger:

    fix|<input field>|<value>     → the value that works instead (learnt from a fixed failure,
                                    a reviewer's correction or a picklist check)
    fixsrc|<input field>|<value>  → who taught it ("monitor", "reviewer", "picklist")
    picklist|<input field>        → the picklist ("salesforce:Account.Industry") a failure showed
                                    this field is written to

Each lesson is its own attribute, set with one atomic UpdateItem, so two containers learning at
once never overwrite each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tray_agent.data import aws

PREFIX = "lessons#"
FIX = "fix"
FIX_SOURCE = "fixsrc"
PICKLIST = "picklist"
SEPARATOR = "|"


@dataclass
class WorkflowLessons:
    fixes: dict[tuple[str, str], str] = field(default_factory=dict)  # (field, value) -> value
    sources: dict[tuple[str, str], str] = field(default_factory=dict)
    picklists: dict[str, str] = field(default_factory=dict)  # field -> "connector:Object.Field"


class LessonsRepository:
    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    @property
    def _table(self) -> Any:
        return aws.table(self._table_name)

    def lessons(self, workflow: str) -> WorkflowLessons:
        item = self._table.get_item(Key={"work_id": PREFIX + workflow}).get("Item") or {}
        lessons = WorkflowLessons()
        for name, value in item.items():
            kind, _, rest = str(name).partition(SEPARATOR)
            if kind == PICKLIST:
                lessons.picklists[rest] = str(value)
            elif kind in (FIX, FIX_SOURCE):
                input_field, _, original = rest.partition(SEPARATOR)
                target = lessons.fixes if kind == FIX else lessons.sources
                target[(input_field, original)] = str(value)
        return lessons

    def remember_fix(
        self, workflow: str, input_field: str, value: str, fixed: str, *, source: str, at: datetime
    ) -> None:
        self._set(
            workflow,
            {
                SEPARATOR.join((FIX, input_field, value)): fixed,
                SEPARATOR.join((FIX_SOURCE, input_field, value)): source,
                "learnt_at": at.isoformat(),
            },
        )

    def remember_picklist(self, workflow: str, input_field: str, picklist: str, *, at: datetime) -> None:
        self._set(workflow, {SEPARATOR.join((PICKLIST, input_field)): picklist, "learnt_at": at.isoformat()})

    def _set(self, workflow: str, values: dict[str, str]) -> None:
        names = {f"#a{i}": name for i, name in enumerate(values)}
        self._table.update_item(
            Key={"work_id": PREFIX + workflow},
            UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":v{i}": value for i, value in enumerate(values.values())},
        )
