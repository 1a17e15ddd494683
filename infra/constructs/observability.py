"""Observability: the alerts topic a person subscribes to, every alarm, and the dashboard.

Delivery end to end: CloudWatch alarms (and EventBridge) publish to a KMS-encrypted topic, so
the key policy lets ``cloudwatch.amazonaws.com`` and ``events.amazonaws.com`` use the key and
the topic policy lets them publish, both only on behalf of this account. Who is told: the
``AlertEmail`` stack parameter subscribes an address (confirm the e-mail AWS sends), and the
``alert_topic_arn`` context value sends every alarm to an existing topic too (a team's pager
or AWS Chatbot topic). ``AlertsTopicArn`` is a stack output.
"""

from __future__ import annotations

from aws_cdk import Aws, CfnCondition, CfnParameter, Duration, Fn, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.nag import acknowledge

NAMESPACE = "TrayAgent"  # Powertools Metrics namespace (tray_agent.observability)
SERVICE_DIMENSION = {"service": "tray-agent"}  # Powertools adds the service as a dimension
PERIOD = Duration.minutes(5)
# The monitor ticks every 5 minutes: three missed ticks in a row is a stopped monitor.
HEARTBEAT_WINDOW = Duration.minutes(15)
HELD_WORK_AGE_ALARM = Duration.hours(1)
API_5XX_RATE = 0.05  # 5% of requests answered 5xx
API_P90_LATENCY_MS = 5_000
TIMEOUT_FRACTION = 0.9  # a Maximum duration at 90% of the timeout: timing out, or about to
# What the service principals that publish alarms and events may do with the topic's key.
KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey*"]
AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
ALARM_PUBLISHERS = ["cloudwatch.amazonaws.com", "events.amazonaws.com"]


def business_metric(name: str, statistic: str = "Sum", period: Duration = PERIOD) -> cloudwatch.Metric:
    """A metric the functions emit through Powertools (namespace TrayAgent, service dimension)."""
    return cloudwatch.Metric(
        namespace=NAMESPACE,
        metric_name=name,
        dimensions_map=SERVICE_DIMENSION,
        statistic=statistic,
        period=period,
    )


class Observability(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str = "dev") -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        stack = Stack.of(self)
        self.key = kms.Key(
            self, "AlertsKey", enable_key_rotation=True, description=f"tray-agent {stage} alerts topic"
        )
        # CloudWatch alarm actions and EventBridge encrypt what they publish with this key: without
        # these statements their publishes fail and no alert reaches anyone.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlarmPublishersToUseTheKey",
                principals=[iam.ServicePrincipal(p) for p in ALARM_PUBLISHERS],
                actions=KEY_ACTIONS,
                resources=["*"],  # in a key policy "*" means this key
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        self.alerts_topic = sns.Topic(
            self, "Alerts", display_name=f"tray-agent {stage} alerts", master_key=self.key
        )
        self.alerts_topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlarmPublishers",
                principals=[iam.ServicePrincipal(p) for p in ALARM_PUBLISHERS],
                actions=["sns:Publish"],
                resources=[self.alerts_topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
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
        # Who is told: an e-mail address (a parameter, so each stage can page someone else) ...
        default_email = str(stack.node.try_get_context("alert_email") or "")
        self.alert_email = CfnParameter(
            stack,
            "AlertEmail",
            type="String",
            default=default_email,
            description="E-mail address subscribed to the alerts topic (empty: no e-mail subscription)",
        )
        has_email = CfnCondition(
            stack, "HasAlertEmail", expression=Fn.condition_not(Fn.condition_equals(self.alert_email, ""))
        )
        subscription = sns.CfnSubscription(
            self,
            "AlertEmailSubscription",
            topic_arn=self.alerts_topic.topic_arn,
            protocol="email",
            endpoint=self.alert_email.value_as_string,
        )
        subscription.cfn_options.condition = has_email
        # ... and/or an existing topic (pager, AWS Chatbot) every alarm also notifies.
        forward_arn = str(stack.node.try_get_context("alert_topic_arn") or "")
        self._actions: list[cloudwatch.IAlarmAction] = [cw_actions.SnsAction(self.alerts_topic)]
        if forward_arn:
            forward = sns.Topic.from_topic_arn(self, "ForwardAlerts", forward_arn)
            self._actions.append(cw_actions.SnsAction(forward))
        self.alarms: list[cloudwatch.Alarm] = []
        # What the dashboard shows, collected as constructs register and laid out by build_dashboard.
        self.function_rows: list[tuple[str, list[cloudwatch.IWidget]]] = []
        self.table_metrics: list[tuple[str, cloudwatch.IMetric, cloudwatch.IMetric]] = []
        self.state_machines: list[tuple[str, sfn.StateMachine]] = []
        self.queue_widgets: list[cloudwatch.IWidget] = []
        self.api_widgets: list[cloudwatch.IWidget] = []
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"tray-agent-{stage}")

    # -- alarms ---------------------------------------------------------------------------------

    def alarm(
        self,
        construct_id: str,
        *,
        metric: cloudwatch.IMetric,
        threshold: float,
        description: str,
        comparison: cloudwatch.ComparisonOperator = AT_LEAST,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
        scope: Construct | None = None,
    ) -> cloudwatch.Alarm:
        """The one way an alarm is made here: named with the stage, sent to every alert action."""
        alarm = cloudwatch.Alarm(
            scope or self,
            construct_id,
            alarm_name=f"tray-agent-{self.stage}-{construct_id}",
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            treat_missing_data=missing,
            alarm_description=description,
        )
        for action in self._actions:
            alarm.add_alarm_action(action)
        self.alarms.append(alarm)
        return alarm

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

    def watch(self, name: str, function: lambda_.Function) -> None:
        """Errors, throttles and timeouts of a function, to the alerts topic; its dashboard row."""
        errors = function.metric_errors(period=PERIOD)
        self.alarm(
            f"{name}Errors",
            metric=errors,
            threshold=1,
            description=f"{name} function errors: an invocation raised. Its log group names the error.",
        )
        self.alarm(
            f"{name}Throttles",
            metric=function.metric_throttles(period=PERIOD),
            threshold=1,
            description=f"{name} invocations throttled: the account's or the function's concurrency is "
            "used up. Raise the concurrency quota or find what floods the function.",
        )
        timeout_ms = (function.timeout or Duration.seconds(3)).to_milliseconds()
        self.alarm(
            f"{name}NearTimeout",
            metric=function.metric_duration(period=PERIOD, statistic="Maximum"),
            threshold=round(timeout_ms * TIMEOUT_FRACTION),
            description=f"{name} ran for {int(TIMEOUT_FRACTION * 100)}% of its timeout or more: it is "
            "timing out or about to (slow Tray, a large backlog). Check its duration and X-Ray traces.",
        )
        self.function_rows.append(
            (
                name,
                [
                    cloudwatch.GraphWidget(
                        title=f"{name} invocations / errors / throttles",
                        left=[function.metric_invocations(), errors, function.metric_throttles()],
                        width=12,
                    ),
                    cloudwatch.GraphWidget(
                        title=f"{name} duration (p50 / p90 / max)",
                        left=[
                            function.metric_duration(statistic="p50"),
                            function.metric_duration(statistic="p90"),
                            function.metric_duration(statistic="Maximum"),
                        ],
                        width=12,
                    ),
                ],
            )
        )

    def watch_tables(self, tables: dict[str, dynamodb.Table]) -> None:
        """Throttled requests and DynamoDB system errors on every table."""
        operations = ["GetItem", "PutItem", "UpdateItem", "Query", "TransactWriteItems"]
        for index, (field, table) in enumerate(tables.items()):
            name = field.removesuffix("_table").title().replace("_", "")
            # Ids unique across tables: the dashboard graphs every table's expression together.
            throttles = cloudwatch.MathExpression(
                expression=f"r{index} + w{index}",
                using_metrics={
                    f"r{index}": table.metric("ReadThrottleEvents", period=PERIOD, statistic="Sum"),
                    f"w{index}": table.metric("WriteThrottleEvents", period=PERIOD, statistic="Sum"),
                },
                label=f"{name} throttled requests",
                period=PERIOD,
            )
            errors_by_operation = {
                f"e{index}{operation.lower()}": cloudwatch.Metric(
                    namespace="AWS/DynamoDB",
                    metric_name="SystemErrors",
                    dimensions_map={"TableName": table.table_name, "Operation": operation},
                    statistic="Sum",
                    period=PERIOD,
                )
                for operation in operations
            }
            system_errors = cloudwatch.MathExpression(
                expression=" + ".join(f"FILL({metric_id}, 0)" for metric_id in errors_by_operation),
                using_metrics=errors_by_operation,
                label=f"{name} system errors",
                period=PERIOD,
            )
            self.alarm(
                f"{name}TableThrottles",
                metric=throttles,
                threshold=1,
                evaluation_periods=3,
                datapoints_to_alarm=2,
                description=f"DynamoDB throttled the {field} table (on-demand: a burst above twice the "
                "previous peak). The code retries; if it persists, pre-warm the table or find the burst.",
            )
            self.alarm(
                f"{name}TableSystemErrors",
                metric=system_errors,
                threshold=1,
                description=f"DynamoDB answered 5xx on the {field} table: an AWS-side problem. Check the "
                "AWS Health Dashboard; work is retried and the ledger keeps what was accepted.",
            )
            self.table_metrics.append((name, throttles, system_errors))

    def watch_state_machine(self, name: str, machine: sfn.StateMachine, scope: Construct) -> None:
        """Failed and timed-out executions."""
        self.alarm(
            f"{name}FailedExecutions",
            metric=machine.metric_failed(period=PERIOD),
            threshold=1,
            description=f"{name} executions failed. The PO intake record says why; "
            "rerun with POST /po/intake/{id}/rerun once fixed.",
            scope=scope,
        )
        self.alarm(
            f"{name}TimedOutExecutions",
            metric=machine.metric_timed_out(period=PERIOD),
            threshold=1,
            description=f"{name} executions timed out (a review left open past its window, or a hold "
            "that never cleared). Look the execution up in the Step Functions console.",
            scope=scope,
        )
        self.state_machines.append((name, machine))

    def watch_monitor(self) -> None:
        """The monitor's heartbeat and the age of held work (metrics the tick emits)."""
        self.alarm(
            "MonitorHeartbeat",
            metric=business_metric("MonitorTickCompleted", period=HEARTBEAT_WINDOW),
            threshold=1,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            # No data is exactly what a stopped monitor looks like.
            missing=cloudwatch.TreatMissingData.BREACHING,
            description="The monitor has not completed a tick in 15 minutes: failures are not being "
            "recovered and held work is not drained. Check the monitor's errors and the schedule rule.",
        )
        self.alarm(
            "HeldWorkAge",
            metric=business_metric("HeldWorkOldestAgeSeconds", statistic="Maximum"),
            threshold=HELD_WORK_AGE_ALARM.to_seconds(),
            evaluation_periods=2,
            description="Work has been held behind an incident for over an hour: Tray or a workflow is "
            "still down. GET /incidents shows what holds it; the sweeper drains it once it recovers.",
        )

    def watch_api(self, http_api_id: str, stage_name: str = "$default") -> None:
        """5xx rate and p90 latency of the HTTP API (a 502/500 answer is not a Lambda error)."""

        def api_metric(name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/ApiGateway",
                metric_name=name,
                dimensions_map={"ApiId": http_api_id, "Stage": stage_name},
                statistic=statistic,
                period=PERIOD,
            )

        self.api_requests = api_metric("Count", "SampleCount")
        self.api_5xx = api_metric("5xx", "Sum")
        self.api_latency_p90 = api_metric("Latency", "p90")
        rate = cloudwatch.MathExpression(
            expression="IF(requests > 0, errors / requests, 0)",
            using_metrics={"errors": self.api_5xx, "requests": self.api_requests},
            label="API 5xx rate",
            period=PERIOD,
        )
        self.alarm(
            "Api5xxRate",
            metric=rate,
            threshold=API_5XX_RATE,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            description="Over 5% of API requests answered 5xx. The API function's logs (and the "
            "access log's integrationError) say why; senders retry, the ledger keeps accepted work.",
        )
        self.alarm(
            "ApiLatencyP90",
            metric=self.api_latency_p90,
            threshold=API_P90_LATENCY_MS,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            description="The API's p90 latency is over 5 s: a slow Tray, model or DynamoDB. The X-Ray "
            "service map shows which call.",
        )
        self.api_widgets = [
            cloudwatch.GraphWidget(
                title="API requests and 5xx", left=[self.api_requests, self.api_5xx], width=12
            ),
            cloudwatch.GraphWidget(title="API latency p90", left=[self.api_latency_p90], width=12),
        ]

    # -- the dashboard --------------------------------------------------------------------------

    def build_dashboard(self) -> None:
        """Business first (what the agent did and what it cost), then the plumbing under it."""

        def search(name_prefix: str, statistic: str = "Sum", label: str = "") -> cloudwatch.MathExpression:
            # A SEARCH picks up every metric the code names dynamically (Decision_<action>,
            # MonitorRecovery_<class>, ...) without listing them here.
            return cloudwatch.MathExpression(
                expression=f"SEARCH('{{{NAMESPACE},service}} MetricName=\"{name_prefix}\"', "
                f"'{statistic}', {int(PERIOD.to_seconds())})",
                using_metrics={},
                label=label or " ",
                period=PERIOD,
            )

        def graph(title: str, *metrics: cloudwatch.IMetric, width: int = 8) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(title=title, left=list(metrics), width=width, height=6)

        stage = self.stage
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=f"# tray-agent ({stage}): what the agent did\nDecisions, Tray runs, "
                "recoveries, held work and reviews first; the plumbing (API, functions, Step Functions, "
                "DynamoDB, dead letters) below.",
                width=24,
                height=2,
            )
        )
        self.dashboard.add_widgets(
            graph("Decisions by action", search("Decision_")),
            graph(
                "Model: tokens and fallbacks",
                business_metric("ModelTokens"),
                business_metric("ModelFallback"),
            ),
            graph(
                "Tray runs and failures (monitored)",
                business_metric("MonitorExecutions"),
                business_metric("MonitorFailures"),
            ),
        )
        self.dashboard.add_widgets(
            graph(
                "Recoveries by class (tick and callbacks)",
                search("MonitorRecovery_"),
                search("CallbackRecovery_"),
            ),
            graph(
                "Held work: items and oldest age (s)",
                business_metric("HeldWork", statistic="Maximum"),
                business_metric("HeldWorkOldestAgeSeconds", statistic="Maximum"),
                business_metric("IncidentOpened"),
            ),
            graph("Monitor alerts by kind", search("MonitorAlert_")),
        )
        self.dashboard.add_widgets(
            graph(
                "Purchase orders",
                *(
                    business_metric(name)
                    for name in (
                        "PurchaseOrdersReceived",
                        "PurchaseOrdersOrdered",
                        "PurchaseOrdersToReview",
                        "PurchaseOrdersHeld",
                        "PurchaseOrdersRefused",
                        "PurchaseOrdersRerun",
                    )
                ),
            ),
            graph(
                "Monitor heartbeat and dead letters redriven",
                business_metric("MonitorTickCompleted"),
                business_metric("DeadLettersRedriven"),
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=8, height=6),
        )
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(markdown="## Plumbing", width=24, height=1), *self.api_widgets
        )
        for _name, widgets in self.function_rows:
            self.dashboard.add_widgets(*widgets)
        for name, machine in self.state_machines:
            self.dashboard.add_widgets(
                graph(
                    f"{name} executions",
                    machine.metric_started(),
                    machine.metric_succeeded(),
                    machine.metric_failed(),
                    machine.metric_timed_out(),
                    width=12,
                )
            )
        self.dashboard.add_widgets(
            graph("DynamoDB throttled requests", *(m for _, m, _ in self.table_metrics), width=12),
            graph("DynamoDB system errors", *(m for _, _, m in self.table_metrics), width=12),
        )
        if self.queue_widgets:
            self.dashboard.add_widgets(*self.queue_widgets)
