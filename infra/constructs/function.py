"""The one helper that builds every Lambda function the same way."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.nag import acknowledge

SERVICE = "tray-agent"


def python_function(
    scope: Construct,
    construct_id: str,
    *,
    code: lambda_.Code,
    handler: str,
    description: str,
    environment: dict[str, str],
    memory_size: int = 512,
    timeout: Duration | None = None,
    reserved_concurrency: int | None = None,
) -> lambda_.Function:
    """arm64, Python 3.12, JSON logs with retention, X-Ray tracing, Powertools settings."""
    log_group = logs.LogGroup(
        scope,
        f"{construct_id}Logs",
        retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=RemovalPolicy.DESTROY,
    )
    function = lambda_.Function(
        scope,
        construct_id,
        runtime=lambda_.Runtime.PYTHON_3_12,
        architecture=lambda_.Architecture.ARM_64,
        code=code,
        handler=handler,
        description=description,
        memory_size=memory_size,
        timeout=timeout or Duration.seconds(30),
        tracing=lambda_.Tracing.ACTIVE,
        logging_format=lambda_.LoggingFormat.JSON,
        application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
        system_log_level_v2=lambda_.SystemLogLevel.WARN,
        log_group=log_group,
        reserved_concurrent_executions=reserved_concurrency,
        environment={
            "POWERTOOLS_SERVICE_NAME": SERVICE,
            "POWERTOOLS_METRICS_NAMESPACE": "TrayAgent",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            **environment,
        },
    )
    acknowledge(
        function,
        "AwsSolutions-L1",
        "Pinned to python3.12, the product's deploy target: the asset's wheels are built for cp312/arm64.",
    )
    role = function.role
    assert role is not None
    acknowledge(
        role,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        "AWS's standard policy for writing the function's own CloudWatch logs; it grants nothing else.",
    )
    acknowledge(
        role,
        "AwsSolutions-IAM5[Resource::*]",
        "X-Ray PutTraceSegments/PutTelemetryRecords accept only Resource '*'; every function is traced.",
    )
    return function
