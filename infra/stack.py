"""The tray-agent stack: small constructs wired together."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.bundling import lambda_code
from infra.constructs.api import Api
from infra.constructs.data import Data
from infra.constructs.monitor import Monitor
from infra.constructs.observability import Observability
from infra.constructs.po_pipeline import PoPipeline


class TrayAgentStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        code = lambda_code()
        data = Data(self, "Data")
        observability = Observability(self, "Observability")
        environment = {
            **data.environment,
            "TRAY_AGENT_ALERTS_TOPIC_ARN": observability.alerts_topic.topic_arn,
            "TRAY_AGENT_TRAY_REGION": str(self.node.try_get_context("tray_region") or "us"),
            "TRAY_AGENT_OPENAI_MODEL": str(self.node.try_get_context("openai_model") or ""),
        }
        api = Api(self, "Api", code=code, data=data, environment=environment)
        observability.watch("Api", api.function)
        Monitor(self, "Monitor", code=code, data=data, observability=observability, environment=environment)
        PoPipeline(
            self,
            "PoPipeline",
            code=code,
            data=data,
            environment=environment,
            api_function=api.function,
            observability=observability,
        )
        CfnOutput(self, "ApiUrl", value=api.url)
