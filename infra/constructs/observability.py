"""Observability: the alerts topic, alarms on every function, and a small dashboard."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.nag import acknowledge


class Observability(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        key = kms.Key(self, "AlertsKey", enable_key_rotation=True, description="tray-agent alerts topic")
        self.alerts_topic = sns.Topic(self, "Alerts", display_name="tray-agent alerts", master_key=key)
        self.alerts_topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EnforceTls",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["sns:Publish"],
                resources=[self.alerts_topic.topic_arn],
                conditions={"Bool": {"aws:SecureTransport": "false"}},
            )
        )
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name="tray-agent")

    def grant_publish(self, function: lambda_.Function) -> None:
        """Publish to the alerts topic (escalations of incidents, monitor alerts)."""
        self.alerts_topic.grant_publish(function)
        role = function.role
        assert role is not None
        acknowledge(
            role,
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "grant_publish on the KMS-encrypted alerts topic: GenerateDataKey* on that one key only, "
            "which SNS needs to encrypt what the function publishes.",
        )

    def watch(self, name: str, function: lambda_.IFunction) -> None:
        """An error alarm to the alerts topic and a dashboard row for a function."""
        errors = function.metric_errors(period=Duration.minutes(5))
        alarm = cloudwatch.Alarm(
            self,
            f"{name}Errors",
            metric=errors,
            threshold=1,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"{name} function errors",
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.alerts_topic))
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title=f"{name} invocations / errors", left=[function.metric_invocations(), errors]
            ),
            cloudwatch.GraphWidget(title=f"{name} duration", left=[function.metric_duration()]),
        )
