"""Api: the HTTP API and its one Lambda function (Powertools resolver routes inside)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.data import Data
from infra.constructs.function import python_function
from infra.nag import acknowledge


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        data: Data,
        environment: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = python_function(
            self,
            "ApiFunction",
            code=code,
            handler="tray_agent.handlers.api.handler",
            description="tray-agent HTTP API: events, decisions, reviews",
            environment=environment,
            timeout=Duration.seconds(29),  # API Gateway's integration limit
        )
        # monitor_table: failure callbacks recover through the monitor (its queue, claims, circuits).
        data.grant(
            self.function,
            "work_table",
            "decisions_table",
            "context_table",
            "reviews_table",
            "monitor_table",
            "tray_budget_table",
        )
        data.grant_payloads(self.function, "ledger/", "decisions/", "reviews/")
        data.tray_tokens.grant_read(self.function)
        data.openai_api_key.grant_read(self.function)
        data.signing_secret.grant_read(self.function)

        # One integration for the $default route and the reviewer routes (reviewer_sign_in.py).
        self.integration = integrations.HttpLambdaIntegration("ApiIntegration", self.function)
        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            description="tray-agent inbound events and review API",
            default_integration=self.integration,
        )
        access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH)
        stage = self.http_api.default_stage
        assert stage is not None
        cfn_stage = stage.node.default_child
        assert isinstance(cfn_stage, apigwv2.CfnStage)
        cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=access_logs.log_group_arn,
            format='{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
            '"method":"$context.httpMethod","path":"$context.path","status":"$context.status",'
            '"latencyMs":"$context.responseLatency","integrationError":"$context.integrationErrorMessage"}',
        )
        cfn_stage.default_route_settings = apigwv2.CfnStage.RouteSettingsProperty(
            throttling_burst_limit=100, throttling_rate_limit=50
        )
        acknowledge(
            self.http_api,
            "AwsSolutions-APIG4",
            "The reviewer routes carry the Cognito JWT authorizer (reviewer_sign_in.py); the $default "
            "route serves machine senders, whose HMAC-SHA256 signatures (with nonce and timestamp) only "
            "the function can verify against Secrets Manager, and the open /health and console files.",
        )

    @property
    def url(self) -> str:
        return self.http_api.api_endpoint
