"""Follow-ups and customer health (issue 12): the follow-ups function, its scheduler role, the daily job.

- One-time EventBridge Scheduler schedules (created by the functions that schedule follow-ups,
  in one schedule group) invoke the follow-ups function through a role that may invoke only it;
  each schedule deletes itself after it ran.
- A daily EventBridge rule runs the health sweep of every customer with signals and sends
  yesterday's operations summary (with its patterns) to the ops notification workflow.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from infra.constructs.data import Data
from infra.constructs.dead_letters import DeadLetters
from infra.constructs.function import python_function
from infra.constructs.observability import Observability
from infra.nag import acknowledge

SCHEDULE_GROUP = "tray-agent-followups"
DAILY_AGE = Duration.hours(6)


class FollowUps(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        data: Data,
        observability: Observability,
        dead_letters: DeadLetters,
        environment: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.group = scheduler.CfnScheduleGroup(self, "Group", name=SCHEDULE_GROUP)
        self.function = python_function(
            self,
            "FollowUpsFunction",
            code=code,
            handler="tray_agent.handlers.followups.handler",
            description="tray-agent follow-ups: a one-time schedule fires one follow-up's check",
            environment=environment,
            timeout=Duration.minutes(2),
        )
        self.daily_function = python_function(
            self,
            "DailyFunction",
            code=code,
            handler="tray_agent.handlers.followups.daily_handler",
            description="tray-agent daily: customer health sweep, late follow-ups, operations summary",
            environment=environment,
            # 10,000s of customers: one DynamoDB query each, and at most health_sweep_max_tasks Tray calls.
            timeout=Duration.minutes(15),
            memory_size=1024,
            reserved_concurrency=1,
        )
        self.role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
            description="EventBridge Scheduler: invokes the follow-ups function, nothing else",
        )
        # The function's ARN itself (not grant_invoke's "ARN:*"): no version or alias is invoked.
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[self.function.function_arn])
        )
        for function in (self.function, self.daily_function):
            data.grant(function, "work_table", "decisions_table", "reviews_table", "context_table")
            data.grant_payloads(function, "ledger/", "decisions/", "reviews/")
            data.tray_tokens.grant_read(function)
            data.openai_api_key.grant_read(function)
            observability.grant_publish(function)
            self.grant_scheduling(function)
            observability.watch(function.node.id.removesuffix("Function"), function)
        # Its own ARN would be a circular reference: "self" is read from the invocation's context.
        for name, value in self.environment.items():
            self.function.add_environment(name, "self" if name.endswith("TARGET_ARN") else value)
            self.daily_function.add_environment(name, value)
        dead_letters.invoked_asynchronously(self.daily_function, retry_attempts=0, max_event_age=DAILY_AGE)
        self.daily_rule = events.Rule(
            self,
            "Daily",
            description="tray-agent daily health sweep and operations summary",
            schedule=events.Schedule.cron(minute="10", hour="0"),
            targets=[
                dead_letters.rule_target(self.daily_function, retry_attempts=0, max_event_age=DAILY_AGE)
            ],
        )

    @property
    def environment(self) -> dict[str, str]:
        """What every function that schedules follow-ups needs (Settings' followup_* fields)."""
        return {
            "TRAY_AGENT_FOLLOWUP_SCHEDULE_GROUP": SCHEDULE_GROUP,
            "TRAY_AGENT_FOLLOWUP_TARGET_ARN": self.function.function_arn,
            "TRAY_AGENT_FOLLOWUP_ROLE_ARN": self.role.role_arn,
        }

    def grant_scheduling(self, function: lambda_.Function) -> None:
        """Create, read and delete the group's schedules, handing them the scheduler role only."""
        stack = Stack.of(self)
        schedules = stack.format_arn(
            service="scheduler", resource="schedule", resource_name=f"{SCHEDULE_GROUP}/*"
        )
        group = stack.format_arn(service="scheduler", resource="schedule-group", resource_name=SCHEDULE_GROUP)
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:DeleteSchedule"],
                resources=[schedules],
            )
        )
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["scheduler:CreateScheduleGroup"], resources=[group])
        )
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["iam:PassRole"], resources=[self.role.role_arn])
        )
        role = function.role
        assert role is not None

        # cdk-nag names the resource as the template will hold it: the pseudo-parameters where the
        # stack's environment is left to deploy time, the values where `cdk synth` knows them (the
        # CLI sets CDK_DEFAULT_REGION), so the acknowledgement is spelt the same way.
        def shown(value: str, pseudo: str) -> str:
            return f"<AWS::{pseudo}>" if Token.is_unresolved(value) else value

        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::arn:{shown(stack.partition, 'Partition')}:scheduler:"
            f"{shown(stack.region, 'Region')}:{shown(stack.account, 'AccountId')}:"
            f"schedule/{SCHEDULE_GROUP}/*]",
            "One-time follow-up schedules, one per follow-up work item, in the follow-ups group only.",
        )
