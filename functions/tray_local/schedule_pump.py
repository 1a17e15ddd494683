"""EventBridge Scheduler, locally: fire the one-time schedules that are due by a (simulated) clock.

moto stores the schedules but runs nothing; the pump lists them, and for each whose ``at(...)``
time has come invokes its target the way Scheduler would (the follow-ups handler with the
schedule's input), then deletes it (``ActionAfterCompletion=DELETE``). Local-only.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from tray_agent.config import Settings
from tray_agent.data.schedules import SchedulesRepository, parse_at
from tray_local.apigw import LambdaContext


def pump(settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """Fire every schedule due at ``now``; returns what each target answered."""
    from tray_agent.handlers import followups

    schedules = SchedulesRepository(
        settings.followup_schedule_group, settings.followup_target_arn, settings.followup_role_arn
    )
    answers = []
    for name in list(schedules.names()):
        schedule = schedules.get(name)
        if schedule is None:
            continue
        at = parse_at(str(schedule.get("ScheduleExpression", "")))
        if at is None or at > now:
            continue
        payload = json.loads(schedule["Target"].get("Input") or "{}")
        answers.append(followups.handler(payload, LambdaContext()))
        if schedule.get("ActionAfterCompletion") == "DELETE":
            schedules.delete(name)
    return answers
