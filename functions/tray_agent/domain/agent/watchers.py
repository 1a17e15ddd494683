"""Building the agent's watchers (issue 12): follow-ups and customer health, on the work engine."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tray_agent.clock import Clock, utc_now
from tray_agent.config import Settings
from tray_agent.data.followups import FollowUpIndex
from tray_agent.data.health import HealthRepository
from tray_agent.data.schedules import SchedulesRepository
from tray_agent.domain.agent.followups import FollowUps
from tray_agent.domain.agent.health import CustomerHealth
from tray_agent.domain.agent.registry import ToolRegistry
from tray_agent.tray.errors import TrayError

if TYPE_CHECKING:
    from tray_agent.domain.agent.work import WorkEngine

CHECK_TIMEOUT_S = 60.0


def build_followups(
    settings: Settings, engine: WorkEngine, registry: ToolRegistry, clock: Clock = utc_now
) -> FollowUps:
    from tray_agent.tray import get_tray_clients

    workflows = get_tray_clients(settings).workflows

    def run_check(workflow_id: str, payload: dict[str, Any], key: str) -> dict[str, Any]:
        """Run a read-only check workflow and wait for its reply (a failed run is a Tray error)."""
        started = workflows.execute(workflow_id, payload, idempotency_key=key)
        done = workflows.wait_for_execution(started.id, timeout_s=CHECK_TIMEOUT_S, poll_interval_s=0.2)
        if done.status != "succeeded":
            raise TrayError(f"check workflow {workflow_id} ended {done.status}", operation="followups.check")
        return dict(done.output or {})

    retention = timedelta(days=settings.context_retention_days)
    followups = FollowUps(
        engine,
        SchedulesRepository(
            settings.followup_schedule_group, settings.followup_target_arn, settings.followup_role_arn
        ),
        FollowUpIndex(settings.context_table),
        registry,
        run_check_workflow=run_check,
        retention=retention,
        clock=clock,
    )
    write_brief = None
    if settings.model_configured:  # the LLM brain writes the CSM's brief; the policy's otherwise
        from tray_agent.domain.agent.brain import build_brains

        llm = build_brains(settings).llm
        write_brief = llm.write_health_brief if llm is not None else None
    health = CustomerHealth(
        HealthRepository(settings.context_table),
        engine,
        threshold=settings.health_risk_threshold,
        recheck_days=settings.health_recheck_days,
        retention=retention,
        write_brief=write_brief,
        clock=clock,
    )
    followups.health = health
    followups.register_check("health_recheck", health.recheck)
    return followups
