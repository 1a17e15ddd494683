"""One-time EventBridge Scheduler schedules: a follow-up fires at its due time, once.

Each follow-up gets ``at(yyyy-mm-ddThh:mm:ss)`` in UTC with ``ActionAfterCompletion=DELETE``
(the schedule removes itself after it ran); its target is the follow-ups function with the
work id as input. The schedule is only the punctual trigger: the ledger holds the follow-up,
and the sweeper fires a due one whose schedule was lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from tray_agent.data import aws

AT_FORMAT = "%Y-%m-%dT%H:%M:%S"


def at_expression(when: datetime) -> str:
    return f"at({when.astimezone(UTC).strftime(AT_FORMAT)})"


def parse_at(expression: str) -> datetime | None:
    """The time of an ``at(...)`` expression (UTC), None for rate/cron expressions."""
    if not expression.startswith("at(") or not expression.endswith(")"):
        return None
    return datetime.strptime(expression[3:-1], AT_FORMAT).replace(tzinfo=UTC)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class SchedulesRepository:
    def __init__(self, group: str, target_arn: str, role_arn: str) -> None:
        self._group = group
        self._target_arn = target_arn
        self._role_arn = role_arn
        self._group_known = False

    @property
    def _client(self) -> Any:
        return aws.client("scheduler")

    def create_once(self, name: str, when: datetime, payload: dict[str, Any]) -> bool:
        """Create the one-time schedule unless it exists (then False: scheduling is idempotent)."""
        request = {
            "Name": name,
            "GroupName": self._group,
            "ScheduleExpression": at_expression(when),
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE",
            "Target": {
                "Arn": self._target_arn,
                "RoleArn": self._role_arn,
                "Input": json.dumps(payload, separators=(",", ":")),
                # The target is idempotent (the ledger): EventBridge may retry a failed invoke.
                "RetryPolicy": {"MaximumRetryAttempts": 5, "MaximumEventAgeInSeconds": 3600},
            },
        }
        self._ensure_group()
        try:
            self._client.create_schedule(**request)
        except ClientError as exc:
            if _code(exc) == "ConflictException":
                return False
            raise
        return True

    def _ensure_group(self) -> None:
        """The stack creates the group; a fresh local account (moto) has none. Once per instance."""
        if self._group_known:
            return
        try:
            self._client.create_schedule_group(Name=self._group)
        except ClientError as exc:
            if _code(exc) != "ConflictException":
                raise
        self._group_known = True

    def delete(self, name: str) -> bool:
        """Delete a schedule (a cancelled follow-up); False when it is already gone."""
        try:
            self._client.delete_schedule(Name=name, GroupName=self._group)
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                return False
            raise
        return True

    def get(self, name: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self._client.get_schedule(Name=name, GroupName=self._group)
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                return None
            raise
        return found

    def names(self) -> Iterator[str]:
        """Every schedule of the group (the local pump's view; Scheduler itself fires them when deployed)."""
        kwargs: dict[str, Any] = {"GroupName": self._group}
        while True:
            try:
                page = self._client.list_schedules(**kwargs)
            except ClientError as exc:
                if _code(exc) == "ResourceNotFoundException":
                    return
                raise
            for schedule in page.get("Schedules", []):
                yield str(schedule["Name"])
            token = page.get("NextToken")
            if not token:
                return
            kwargs["NextToken"] = token
