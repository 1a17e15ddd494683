"""The tick itself: failure rates and alerts, the lease, crash and resume."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.monitor.conftest import MonitorEnv, ago, later, use_settings
from tray_agent.tray import TrayUnauthorizedError
from tray_local.apigw import LambdaContext
from tray_local.demo_monitor import clearbit_story, failed_execution, run_tick, succeeded_execution
from tray_local.simulator import Fault


def test_clearbit_failing_15_percent_is_flagged_by_failure_rate_once(monitor_env: MonitorEnv) -> None:
    """Seed 000: "the Clearbit enrichment connector has been failing at a 15% rate since Tuesday"."""
    env = monitor_env
    env.sim.seed_executions(clearbit_story(env.sim, runs=200, since=ago(minutes=4), until=ago(seconds=5)))
    env.sim.seed_executions(
        succeeded_execution(env.sim, "order_processing", created_at=ago(minutes=3, seconds=i))
        for i in range(40)
    )

    first = run_tick()
    assert first["executions"] == 240 and first["failures"] == 30
    health = env.repository.health()
    lead = health[env.sim.workflow_id("lead_enrichment")]
    assert (lead.tick_runs, lead.tick_failures, lead.tick_rate) == (200, 30, 0.15)
    assert lead.alert_open and lead.last_success_at is not None
    assert not health[env.sim.workflow_id("order_processing")].alert_open
    assert first["alerts"] == [f"raised:{lead.incident_id}"]
    [alert] = env.alerts()
    assert alert["workflow"] == "lead_enrichment" and alert["failure_rate_hour"] == 0.15
    [notification] = env.ops_notifications()
    assert notification.input["severity"] == "warning" and "lead_enrichment" in notification.input["title"]
    # 15% is a failure rate, not an outage: Clearbit keeps being retried, within the per-tick cap.
    assert first["open_circuits"] == []
    assert first["recoveries"] == {"retried": 25}
    assert first["queued"] == 5

    second = run_tick(later(minutes=5))  # still above the threshold over the hour: no second alert
    assert second["alerts"] == [] and env.alerts() == []
    assert second["recoveries"] == {"retried": 5} and second["queued"] == 0

    since_second = datetime.fromisoformat(second["until"])  # runs after the window already read
    step = (datetime.now(UTC) - since_second) / 401
    env.sim.seed_executions(
        succeeded_execution(env.sim, "lead_enrichment", created_at=since_second + step * (i + 1))
        for i in range(400)
    )
    third = run_tick(later(minutes=10))
    assert third["alerts"] == []  # back under the threshold, not yet for long: no flapping
    assert env.repository.health()[lead.workflow_id].alert_open
    assert run_tick(later(minutes=25))["alerts"] == []
    cleared = run_tick(later(minutes=45))  # 35 minutes under the threshold with enough runs
    assert cleared["alerts"] == [f"cleared:{lead.incident_id}"]
    assert [a["kind"] for a in env.alerts()] == ["cleared"]
    assert not env.repository.health()[lead.workflow_id].alert_open


def test_per_workflow_threshold_override(monitor_env: MonitorEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    env = monitor_env
    use_settings(monkeypatch, monitor_alert_thresholds="lead_enrichment=0.2")
    env.sim.seed_executions(clearbit_story(env.sim, runs=100, since=ago(minutes=4), until=ago(seconds=5)))
    summary = run_tick()
    assert summary["alerts"] == []  # 15% is under this workflow's 20%
    assert env.repository.health()[env.sim.workflow_id("lead_enrichment")].threshold == 0.2


def test_overlapping_tick_does_not_run(monitor_env: MonitorEnv) -> None:
    env = monitor_env
    env.sim.seed_executions(
        [
            failed_execution(
                env.sim,
                "support_ticket_triage",
                code="HTTP_5XX",
                message="HTTP 500",
                created_at=ago(minutes=1),
            )
        ]
    )
    assert env.repository.acquire_lease("a-slow-tick", ago(seconds=0), 900)
    skipped = run_tick()
    assert skipped["status"] == "skipped"
    assert not [c for c in env.sim.calls() if c.path.startswith("/api/v1/")]  # Tray not even asked
    env.repository.release_lease("a-slow-tick")
    assert run_tick()["recoveries"] == {"retried": 1}


class _ShortContext(LambdaContext):
    """A Lambda that runs out of time after ``pages`` list calls."""

    def __init__(self, pages: int) -> None:
        self.calls = 0
        self.pages = pages

    def get_remaining_time_in_millis(self) -> int:
        self.calls += 1
        return 300_000 if self.calls <= self.pages else 1_000


def test_crash_mid_tick_resumes_without_losing_or_repeating_work(
    monitor_env: MonitorEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = monitor_env
    use_settings(monkeypatch, monitor_page_size="5")
    start = ago(minutes=4)
    executions = []
    for i in range(30):
        created = start + timedelta(seconds=5 * i)
        if i % 3 == 0:
            executions.append(
                failed_execution(
                    env.sim,
                    "support_ticket_triage",
                    code="STEP_TIMEOUT",
                    message="zendesk operation did not finish within 45 s",
                    created_at=created,
                    input={"ticket_id": f"T-{i}", "priority": "low"},
                )
            )
        else:
            executions.append(succeeded_execution(env.sim, "support_ticket_triage", created_at=created))
    env.sim.seed_executions(executions)
    failed = [e for e in executions if e.status == "failed"]

    # 1. Out of time after two pages: the checkpoint keeps the place.
    partial = run_tick(context=_ShortContext(pages=2))
    assert partial["status"] == "partial"
    # 2. Dies on the third page (Tray refuses our token): nothing counted from it.
    env.sim.inject_fault(Fault(kind="status", status=401, path_prefix="/api/v1/executions"))
    with pytest.raises(TrayUnauthorizedError):
        run_tick()
    # 3. Scans the rest, then dies half-way through the recoveries.
    env.sim.inject_fault(
        Fault(kind="status", status=401, path_prefix=f"/api/v1/executions/{failed[6].id}/retry")
    )
    with pytest.raises(TrayUnauthorizedError):
        run_tick()
    retried_before = {e.id for e in failed if env.retries_of(e.id)}
    assert 0 < len(retried_before) < len(failed)
    # 4. Resumes: the rest are retried; none twice.
    resumed = run_tick(later(minutes=1))
    assert resumed["recoveries"] == {"retried": len(failed) - len(retried_before)}
    assert all(len(env.retries_of(e.id)) == 1 for e in failed)
    health = env.repository.health()[env.sim.workflow_id("support_ticket_triage")]
    # Every execution of the first window counted exactly once, across the three ticks that read it.
    assert tuple(health.buckets[0][1:]) == (30, 10)
    assert health.day_failures == 10  # the retries all succeeded
    run_tick(later(minutes=6))
    assert all(len(env.retries_of(e.id)) == 1 for e in failed)


def test_running_executions_are_counted_when_they_finish(monitor_env: MonitorEnv) -> None:
    from tray_local.simulator import StepScript, WorkflowScript

    env = monitor_env
    env.sim.set_script(
        "support_ticket_triage",
        # An HTTP Client step (15-minute timeout) of 5 minutes: 3 s at the simulator's time factor.
        WorkflowScript(steps=[StepScript(name="slow", connector="http-client", seconds=300)]),
    )
    env.trigger("support_ticket_triage", {"ticket_id": "T-slow", "priority": "low"})
    first = run_tick()
    assert first["executions"] == 0  # still running: not counted yet
    env.sim.wait_idle(timeout_s=10)
    run_tick(later(minutes=5))
    health = env.repository.health()[env.sim.workflow_id("support_ticket_triage")]
    assert (health.day_runs, health.day_failures) == (1, 0)
    assert health.last_success_at is not None


def test_a_recovery_tray_refuses_is_tried_again_then_handed_to_a_person(
    monitor_env: MonitorEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tray_agent.domain.monitor.recovery import review_id_for
    from tray_agent.domain.reviews import build_review_service

    env = monitor_env
    settings = use_settings(monkeypatch, monitor_max_retries="1")
    failed = failed_execution(
        env.sim, "support_ticket_triage", code="HTTP_5XX", message="HTTP 500", created_at=ago(minutes=1)
    )
    env.sim.seed_executions([failed])
    env.sim.inject_fault(
        Fault(kind="status", status=409, path_prefix=f"/api/v1/executions/{failed.id}/retry", times=5)
    )
    assert run_tick()["recoveries"] == {"failed": 1}
    assert env.repository.get_work(failed.id) is not None  # kept, nothing lost
    second = run_tick(later(minutes=5))
    assert second["recoveries"] == {"failed": 1} and second["queued"] == 0
    assert env.retries_of(failed.id) == []
    review = build_review_service(settings).get(review_id_for(failed.id))
    assert "refused the recovery 2 times" in review.reason


def test_two_ticks_that_see_the_same_failure_retry_it_once(monitor_env: MonitorEnv) -> None:
    import boto3

    env = monitor_env
    failed = failed_execution(
        env.sim, "support_ticket_triage", code="STEP_TIMEOUT", message="timed out", created_at=ago(minutes=2)
    )
    env.sim.seed_executions([failed])
    assert run_tick()["recoveries"] == {"retried": 1}
    # Lose the checkpoint: the next tick reads the same window again and sees the same failure.
    boto3.resource("dynamodb", region_name="us-east-1").Table(env.settings.monitor_table).delete_item(
        Key={"pk": "CHECKPOINT", "sk": "executions"}
    )
    again = run_tick(later(minutes=1))
    # Tray does not deduplicate retries: the monitor's own claim keeps the second tick from retrying;
    # it records the first tick's retry instead.
    assert again["failures"] == 1 and again["recoveries"] == {"retried": 1}
    [retry] = env.retries_of(failed.id)
    assert retry.idempotency_key == f"monitor:{failed.id}:1"


def test_an_open_alert_never_clears_above_the_threshold_or_on_too_few_runs(
    monitor_env: MonitorEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hour by hour, as the tick sees it: one raise, one clear, no flapping in between."""
    from tray_agent.domain.monitor.service import build_monitor_service
    from tray_agent.models.monitor import Checkpoint, TickReport, WorkflowHealth

    settings = use_settings(monkeypatch, monitor_alert_min_runs="10", monitor_alert_clear_after_s="1800")
    service = build_monitor_service(settings)
    start = datetime.now(UTC)
    health = WorkflowHealth(workflow_id="wf-x", workflow_name="lead_enrichment", threshold=0.1)
    kinds: list[str] = []

    def hour(minutes: int, runs: int, failures: int) -> None:
        now = start + timedelta(minutes=minutes)
        health.hour_runs, health.hour_failures, health.day_runs = runs, failures, max(runs, 1)
        report = TickReport()
        service._alert_on(health, Checkpoint(since=now, until=now), now, report)
        kinds.extend(alert.kind.value for alert in report.alerts)

    hour(0, 100, 20)  # 20%: raised
    hour(5, 100, 5)  # 5%: under, not yet for long
    hour(10, 100, 30)  # above again: the sustained period starts over, still one incident
    hour(15, 100, 5)
    hour(20, 4, 0)  # 0% but only 4 runs: too few to judge, never clears
    hour(60, 100, 5)  # under with enough runs: the period starts again here
    hour(80, 100, 12)  # 12%, still above: never cleared while above
    hour(85, 100, 5)
    hour(100, 100, 5)
    assert kinds == ["raised"] and health.alert_open
    hour(116, 100, 5)  # 31 minutes under the threshold with enough runs
    assert kinds == ["raised", "cleared"] and not health.alert_open


def test_failures_already_fixed_by_a_retry_are_counted_but_page_no_one(monitor_env: MonitorEnv) -> None:
    """Issue 9: a workflow whose failures were all auto-fixed is summarised, never alerted on."""
    env = monitor_env
    seeded = [
        succeeded_execution(env.sim, "order_processing", created_at=ago(minutes=3, seconds=i))
        for i in range(40)
    ]
    for i in range(8):  # 8 of 48 runs failed (17%, above the 10% threshold), each fixed by its retry
        failed = failed_execution(
            env.sim,
            "order_processing",
            code="CONNECTOR_ERROR",
            message="NetSuite returned HTTP 503",
            service_code="HTTP_503",
            created_at=ago(minutes=4, seconds=i),
        )
        retry = succeeded_execution(env.sim, "order_processing", created_at=ago(minutes=2, seconds=i))
        seeded += [failed, retry.model_copy(update={"retry_of": failed.id})]
    env.sim.seed_executions(seeded)

    report = run_tick()
    assert report["alerts"] == [] and env.alerts() == []
    health = env.repository.health()[env.sim.workflow_id("order_processing")]
    assert (health.hour_failures, health.hour_recovered, health.paging_rate) == (8, 8, 0.0)
    assert health.summary()["day"]["recovered"] == 8 and not health.alert_open
