"""Observability: the alerts topic a person subscribes to, every alarm, and the dashboard.

Delivery end to end: CloudWatch alarms (and EventBridge) publish to a KMS-encrypted topic, so
the key policy lets ``cloudwatch.amazonaws.com`` and ``events.amazonaws.com`` use the key and
the topic policy lets them publish, both only on behalf of this account. Who is told: the
``AlertEmail`` stack parameter subscribes an address (confirm the e-mail AWS sends), and the
``alert_topic_arn`` context value sends every alarm to an existing topic too (a team's pager
or AWS Chatbot topic). ``AlertsTopicArn`` is a stack output.

The dashboard is laid out by cdk-monitoring-constructs' ``MonitoringFacade`` (an infra-only
dependency, never in a Lambda asset): the business sections from the metrics the functions emit,
then the library's own sections for the API, each function, the state machine, each table and the
dead-letter queues. The library makes dashboards only: every alarm is made here, by ``alarm``.
"""

from __future__ import annotations

from aws_cdk import Aws, CfnCondition, CfnParameter, Duration, Fn, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
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
        # What the dashboard's plumbing shows, collected as constructs register and handed to the
        # monitoring library by build_dashboard (once every alarm exists, for the alarm panel).
        self.functions: list[tuple[str, lambda_.Function]] = []
        self.tables: list[tuple[str, dynamodb.Table]] = []
        self.state_machines: list[tuple[str, sfn.StateMachine]] = []
        self.queues: list[tuple[str, sqs.IQueue]] = []
        self.http_api: apigwv2.IHttpApi | None = None
        self.dashboard_name = f"tray-agent-{stage}"

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
        self.functions.append((name, function))

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
            self.tables.append((name, table))

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

    def watch_api(self, http_api: apigwv2.IHttpApi, stage_name: str = "$default") -> None:
        """5xx rate and p90 latency of the HTTP API (a 502/500 answer is not a Lambda error)."""
        self.http_api = http_api
        http_api_id = http_api.api_id

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

    def watch_queue(self, name: str, queue: sqs.IQueue) -> None:
        """A dead-letter queue on the dashboard (its alarm is made by DeadLetters)."""
        self.queues.append((name, queue))

    # -- the dashboard --------------------------------------------------------------------------

    def build_dashboard(self) -> None:
        """Business first (what the agent did and what it cost), then the plumbing under it."""
        # Imported here: the library loads its own jsii assembly, which only a synth needs.
        import cdk_monitoring_constructs as monitoring

        def search(metric_name_token: str) -> monitoring.CustomMetricSearch:
            # A SEARCH picks up every metric the code names dynamically (Decision_<action>,
            # MonitorRecovery_<class>, ...) without listing them here. Unquoted, the term matches
            # the token before the underscore (CloudWatch splits metric names on punctuation); a
            # quoted "Decision_" would match only a metric named exactly that.
            return monitoring.CustomMetricSearch(
                namespace=NAMESPACE,
                dimensions_map=SERVICE_DIMENSION,
                search_query=f"MetricName={metric_name_token}",
                statistic=monitoring.MetricStatistic.SUM,
                period=PERIOD,
            )

        def per_workflow(metric_name: str) -> cloudwatch.MathExpression:
            # One line per Tray workflow: these counts carry a `workflow` dimension of their own
            # (tray_agent.observability.workflow_metric), so the schema names it and no value.
            return cloudwatch.MathExpression(
                expression=(
                    f"SEARCH('{{{NAMESPACE},service,workflow}} MetricName=\"{metric_name}\"', 'Sum', "
                    f"{int(PERIOD.to_seconds())})"
                ),
                using_metrics={},
                label=" ",
                period=PERIOD,
            )

        def group(title: str, *metrics: object) -> monitoring.CustomMetricGroup:
            return monitoring.CustomMetricGroup(title=title, metrics=list(metrics))  # type: ignore[arg-type]

        def section(name: str, description: str, *groups: monitoring.CustomMetricGroup) -> None:
            facade.monitor_custom(
                human_readable_name=name,
                alarm_friendly_name=name.replace(" ", ""),
                description=description,
                metric_groups=list(groups),
            )

        stage = self.stage
        facade = monitoring.MonitoringFacade(
            self,
            "Monitoring",
            metric_factory_defaults=monitoring.MetricFactoryDefaults(namespace=NAMESPACE, period=PERIOD),
            # No segment below is asked for an alarm (no add_*_alarm); were one ever, it would be
            # named with the stage and still be checked by the guard at the end.
            alarm_factory_defaults=monitoring.AlarmFactoryDefaults(
                alarm_name_prefix=self.dashboard_name, actions_enabled=False
            ),
            # One dashboard, named tray-agent-<stage> (the DashboardUrl output): no summary or
            # alarm dashboards beside it.
            dashboard_factory=monitoring.DefaultDashboardFactory(
                self,
                "Dashboards",
                dashboard_name_prefix=self.dashboard_name,
                create_dashboard=True,
                create_summary_dashboard=False,
                create_alarm_dashboard=False,
            ),
        )
        facade.add_large_header(f"tray-agent ({stage}): what the agent did")
        section(
            "Decisions and the model",
            "What the agent decided for each piece of work, and what the model cost in tokens.",
            group("Decisions by action", search("Decision")),
            group("Decisions by brain (policy or model)", search("Brain")),
            group(
                "Model: tokens and fallbacks",
                business_metric("ModelTokens"),
                business_metric("ModelFallback"),
            ),
            group("Model cost (USD, estimated from the price table)", business_metric("ModelCostUSD")),
            group(
                "Tray task credits: spent and saved (estimated from the workflows file)",
                business_metric("TaskCreditsSpent"),
                business_metric("TaskCreditsSaved"),
            ),
        )
        section(
            "Tray runs and recoveries",
            "Tray executions the monitor saw, the failures among them, and how each was recovered.",
            group(
                "Tray runs and failures (monitored)",
                business_metric("MonitorExecutions"),
                business_metric("MonitorFailures"),
            ),
            group("Tray runs per workflow", per_workflow("TrayRuns")),
            group("Tray failures per workflow", per_workflow("TrayFailures")),
            group(
                "Recoveries by class (tick and callbacks)",
                search("MonitorRecovery"),
                search("CallbackRecovery"),
            ),
            group("Monitor alerts by kind", search("MonitorAlert")),
        )
        section(
            "Held work",
            "Work held behind an incident (GET /incidents), the monitor's heartbeat, dead letters redriven.",
            group(
                "Held work: items and oldest age (s)",
                business_metric("HeldWork", statistic="Maximum"),
                business_metric("HeldWorkOldestAgeSeconds", statistic="Maximum"),
                business_metric("IncidentOpened"),
            ),
            group(
                "Review queue: items waiting and oldest age (s)",
                business_metric("ReviewQueueDepth", statistic="Maximum"),
                business_metric("ReviewQueueOldestAgeSeconds", statistic="Maximum"),
            ),
            group(
                "Monitor heartbeat and dead letters redriven",
                business_metric("MonitorTickCompleted"),
                business_metric("DeadLettersRedriven"),
            ),
        )
        section(
            "Purchase orders",
            "Purchase orders received and where each ended: ordered, sent to review, held, refused, rerun.",
            group(
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
        )
        facade.add_widget(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=24, height=4)
        )
        facade.add_large_header("Plumbing")
        if self.http_api is not None:
            facade.monitor_api_gateway_v2_http_api(
                api=self.http_api, human_readable_name="HTTP API", alarm_friendly_name="Api"
            )
        for name, function in self.functions:
            facade.monitor_lambda_function(
                lambda_function=function, human_readable_name=f"{name} function", alarm_friendly_name=name
            )
        for name, machine in self.state_machines:
            facade.monitor_step_function(
                state_machine=machine, human_readable_name=f"{name} state machine", alarm_friendly_name=name
            )
        for name, table in self.tables:
            facade.monitor_dynamo_table(
                table=table,  # the library reads the billing mode (on-demand) off the table
                human_readable_name=f"{name} table",
                alarm_friendly_name=f"{name}Table",
            )
        for name, queue in self.queues:
            facade.monitor_sqs_queue(
                queue=queue, human_readable_name=f"{name} dead letters", alarm_friendly_name=name
            )
        # The alarms are ours (alarm(): named with the stage, sent to the alerts topic); a library
        # alarm would page no one and duplicate one of them.
        assert not facade.created_alarms(), "the monitoring library must make dashboards only"
        self.dashboard = facade.dashboard_factory.get_dashboard("Detail")  # type: ignore[union-attr]
