"""The one helper that builds every Lambda function the same way."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
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
    # Its own role, without AWSLambdaBasicExecutionRole (log writes on every log group): the
    # function may write only to its own log group.
    role = iam.Role(
        scope,
        f"{construct_id}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"tray-agent {construct_id}: only what this function calls",
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[log_group.log_group_arn],
        )
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
        role=role,
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
    log_group_id = Stack.of(scope).get_logical_id(log_group.node.default_child)  # type: ignore[arg-type]
    acknowledge(
        role,
        f"AwsSolutions-IAM5[Resource::<{log_group_id}.Arn>:*]",
        "The function's own log group and its streams (log-group:<name>:*), nothing else.",
    )
    acknowledge(
        role,
        "AwsSolutions-IAM5[Resource::*]",
        "X-Ray PutTraceSegments/PutTelemetryRecords accept only Resource '*'; every function is traced.",
    )
    return function
