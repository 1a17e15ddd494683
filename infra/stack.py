"""The tray-agent stack: small constructs wired together."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.bundling import lambda_code
from infra.constructs.api import Api
from infra.constructs.batch_schedules import BatchSchedules
from infra.constructs.data import Data
from infra.constructs.dead_letters import DeadLetters
from infra.constructs.followups import FollowUps
from infra.constructs.monitor import Monitor
from infra.constructs.observability import Observability
from infra.constructs.po_pipeline import PoPipeline
from infra.constructs.reviewer_sign_in import ReviewerSignIn


class TrayAgentStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        stage = str(self.node.try_get_context("stage") or "dev")
        with_model = bool(self.node.try_get_context("openai_model"))
        # One asset per role, each with only the libraries its handlers import (bundling.py).
        api_code = lambda_code("api", with_model=with_model)
        monitor_code = lambda_code("monitor")
        po_code = lambda_code("po")
        data = Data(self, "Data")
        observability = Observability(self, "Observability", stage=stage)
        dead_letters = DeadLetters(self, "DeadLetters", observability=observability)
        environment = {
            **data.environment,
            "TRAY_AGENT_ALERTS_TOPIC_ARN": observability.alerts_topic.topic_arn,
            "TRAY_AGENT_TRAY_REGION": str(self.node.try_get_context("tray_region") or "us"),
            "TRAY_AGENT_OPENAI_MODEL": str(self.node.try_get_context("openai_model") or ""),
            # One Tray limit for every container (data/tray_budget.py), not one per container.
            "TRAY_AGENT_TRAY_SHARED_LIMIT": "true",
            # Non-urgent work waits for its workflow's bulk run (the workflows file's batch
            # policies); local runs and tests keep it off unless they ask for it.
            "TRAY_AGENT_BATCHING_ENABLED": "true",
        }
        api = Api(self, "Api", code=api_code, data=data, environment=environment)
        observability.watch("Api", api.function)
        observability.watch_api(api.http_api)
        # Work held behind a new incident is escalated from the request that met it.
        observability.grant_publish(api.function)
        monitor = Monitor(
            self,
            "Monitor",
            code=monitor_code,
            data=data,
            observability=observability,
            dead_letters=dead_letters,
            environment=environment,
        )
        BatchSchedules(self, "BatchSchedules", monitor_function=monitor.function, dead_letters=dead_letters)
        po_pipeline = PoPipeline(
            self,
            "PoPipeline",
            code=po_code,
            data=data,
            environment=environment,
            api_function=api.function,
            dead_letters=dead_letters,
            observability=observability,
        )
        # Follow-ups and customer health (issue 12): the API, the monitor's sweep and the
        # follow-ups functions schedule follow-ups; one-time schedules invoke the follow-ups function.
        followups = FollowUps(
            self,
            "FollowUps",
            code=monitor_code,  # the agent's engine, no PDF engine: the monitor's asset
            data=data,
            observability=observability,
            dead_letters=dead_letters,
            environment=environment,
        )
        for function in (api.function, monitor.function):
            followups.grant_scheduling(function)
            for name, value in followups.environment.items():
                function.add_environment(name, value)
        # The API redrives dead letters (POST /dead-letters/redrive) to the functions they came from.
        dead_letters.grant_redrive(api.function)
        for name, value in {
            **dead_letters.environment,
            "TRAY_AGENT_PO_INTAKE_FUNCTION_NAME": po_pipeline.intake_function.function_name,
            "TRAY_AGENT_MONITOR_FUNCTION_NAME": monitor.function.function_name,
        }.items():
            api.function.add_environment(name, value)
        # Reviewers sign in with Cognito; API Gateway verifies their JWT on the reviewer routes.
        sign_in = ReviewerSignIn(self, "ReviewerSignIn", stage=stage, api=api)
        for name, value in sign_in.environment.items():
            api.function.add_environment(name, value)
        observability.watch_tables(data.tables)
        observability.watch_monitor()
        observability.build_dashboard()
        CfnOutput(self, "ApiUrl", value=api.url)
        # Subscribe people or tools to this topic (README: "Deploying and operating").
        CfnOutput(self, "AlertsTopicArn", value=observability.alerts_topic.topic_arn)
        CfnOutput(
            self,
            "DashboardUrl",
            value=f"https://console.aws.amazon.com/cloudwatch/home#dashboards:name=tray-agent-{stage}",
        )
        # What `tray-agent redrive` needs (TRAY_AGENT_<name in upper snake case>).
        CfnOutput(self, "FailedInvocationsQueue", value=dead_letters.failed_invocations.queue_url)
        CfnOutput(self, "UndeliveredEventsQueue", value=dead_letters.undelivered_events.queue_url)
        CfnOutput(self, "PoIntakeFunctionName", value=po_pipeline.intake_function.function_name)
        CfnOutput(self, "MonitorFunctionName", value=monitor.function.function_name)
        # Reviewer sign-in (README: "Reviewer sign-in"): create reviewers in this pool.
        CfnOutput(self, "ReviewerUserPoolId", value=sign_in.user_pool.user_pool_id)
        CfnOutput(self, "ReviewerConsoleClientId", value=sign_in.client.user_pool_client_id)
        CfnOutput(self, "ReviewerHostedUiUrl", value=sign_in.hosted_ui_url)
