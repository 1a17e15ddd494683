"""Batch flushes in off-peak windows (issue 9): one EventBridge Scheduler cron schedule per policy.

Each workflow whose batch policy (workflows file, ``batch.off_peak``) has a window gets a
schedule at the window's start (UTC) that invokes the monitor function with
``{"action": "flush_batches", "workflow": …, "time": <scheduled time>}``: whatever waits for
that workflow goes to Tray as bulk runs. The sweeper (every tick) also flushes inside the
window, so a missed invocation delays a batch by one tick at most.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, Stack, TimeZone
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from constructs import Construct

from infra.constructs.dead_letters import DeadLetters
from tray_agent.models.workflows import load_workflows_file

WORKFLOWS_FILE = Path(__file__).parents[2] / "functions/tray_agent/config_files/workflows.json"


class BatchSchedules(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        monitor_function: lambda_.Function,
        dead_letters: DeadLetters,
        workflows_file: Path = WORKFLOWS_FILE,
    ) -> None:
        super().__init__(scope, construct_id)
        self.schedules: list[scheduler.Schedule] = []
        # One role for every schedule here: it may invoke the monitor function and nothing else.
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
            description="tray-agent: EventBridge Scheduler invokes the monitor to flush batches",
        )
        # The function's ARN itself: the scheduler target's own grant (grantInvoke) would add
        # "<arn>:*" (every version and alias), so the targets get an immutable view of the role.
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[monitor_function.function_arn])
        )
        target_role = iam.Role.without_policy_updates(self.role)
        for tool in load_workflows_file(workflows_file).workflows:
            window = tool.batch.off_peak if tool.batch else None
            if window is None:
                continue
            hour, minute = window.start_hour_minute
            name = "".join(part.title() for part in tool.name.split("_"))
            self.schedules.append(
                scheduler.Schedule(
                    self,
                    f"{name}OffPeak",
                    description=f"tray-agent: flush {tool.name}'s batches at its off-peak window "
                    f"({window.start}-{window.end} UTC)",
                    schedule=scheduler.ScheduleExpression.cron(
                        minute=str(minute), hour=str(hour), time_zone=TimeZone.ETC_UTC
                    ),
                    target=targets.LambdaInvoke(
                        monitor_function,
                        role=target_role,
                        input=scheduler.ScheduleTargetInput.from_object(
                            {
                                "action": "flush_batches",
                                "workflow": tool.name,
                                "time": scheduler.ContextAttribute.scheduled_time,
                            }
                        ),
                        # Throttled behind a running tick (one at a time): tried again, then the
                        # undelivered-events queue; the sweeper flushes inside the window anyway.
                        retry_attempts=3,
                        max_event_age=Duration.hours(1),
                        dead_letter_queue=dead_letters.undelivered_events,
                    ),
                )
            )
