"""The PO pipeline: drop bucket → EventBridge → intake Lambda → Step Functions, one Lambda per state.

Extract → Parse → Validate → Choice (clean → Trigger; findings → Review, a ``.waitForTaskToken``
task that files a review item) → Trigger → Record → Succeed, or Fail when the outcome is
"failed". Every task retries Lambda's own transient errors and ``TransientStorageError``
(DynamoDB/S3 throttling or 5xx past botocore's retries) with backoff, and catches ``States.ALL``
into Record, so nothing ends without an outcome. Tray still unavailable after Trigger's retries
(or a 429 asking to wait longer than the step should) goes to Hold (records the PO as held, says
how long) → HoldWait (``SecondsPath``) → Trigger again, until Tray takes the order or the hold
window closes (Hold raises ``PurchaseOrderHoldExpiredError``, recorded as the failure).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.checkov import skip
from infra.constructs.data import Data
from infra.constructs.dead_letters import DeadLetters
from infra.constructs.function import python_function
from infra.constructs.observability import Observability
from infra.nag import acknowledge
from tray_agent.config import Settings

_DEFAULTS = Settings()
INBOX_PREFIX = _DEFAULTS.po_inbox_prefix
WORK_PREFIX = _DEFAULTS.po_work_prefix
STATE_PREFIX = _DEFAULTS.po_state_prefix  # offloaded pipeline states of large orders
# Tray answered 429/5xx or the connection failed: the same request may succeed later.
TRAY_TRANSIENT_ERRORS = ["TrayRateLimitedError", "TrayServerError", "TrayTransportError", "TrayTimeoutError"]
# Tray still unavailable after Trigger's retries, or asking (429 Retry-After) to come back later: hold.
TRAY_HOLD_ERRORS = [*TRAY_TRANSIENT_ERRORS, "TrayRetryLaterError"]
# Lambda's own transient failures, and AWS storage throttling/5xx that outlived botocore's retries
# (standard mode) inside a step, which our handlers raise as TransientStorageError.
TRANSIENT_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "TransientStorageError",
]
TRANSIENT_RETRY = {"interval": Duration.seconds(2), "max_attempts": 6, "backoff_rate": 2}
REVIEW_TIMEOUT = Duration.days(7)
HOLD_WINDOW = Duration.seconds(_DEFAULTS.po_hold_window_s)


class PoPipeline(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        data: Data,
        environment: dict[str, str],
        api_function: lambda_.Function,
        dead_letters: DeadLetters,
        observability: Observability | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = self._bucket()
        env = {**environment, "TRAY_AGENT_PO_BUCKET": self.bucket.bucket_name}

        def function(name: str, description: str, **options: object) -> lambda_.Function:
            fn = python_function(
                self,
                f"{name.title().replace('_', '')}Function",
                code=code,
                handler=f"tray_agent.handlers.po_{name}.handler",
                description=description,
                environment=env,
                **options,  # type: ignore[arg-type]
            )
            if observability is not None:
                observability.watch(f"Po{name.title().replace('_', '')}", fn)
            return fn

        extract = function(
            "extract", "PO pipeline: extract the PDF", memory_size=1024, timeout=Duration.seconds(60)
        )
        parse = function(
            "parse", "PO pipeline: parse the PDF", memory_size=1536, timeout=Duration.seconds(180)
        )
        validate = function("validate", "PO pipeline: validate against the catalog")
        review = function("review", "PO pipeline: file a review item holding the task token")
        trigger = function(
            "trigger", "PO pipeline: trigger the Tray order workflow", timeout=Duration.seconds(60)
        )
        record = function("record", "PO pipeline: record the outcome")
        hold = function("hold", "PO pipeline: hold the PO while Tray cannot take the order")

        self._read_objects(extract, INBOX_PREFIX)
        self._write_objects(extract, WORK_PREFIX)
        self._read_objects(parse, INBOX_PREFIX, WORK_PREFIX)
        data.openai_api_key.grant_read(parse)
        data.grant(validate, "catalog_table", "po_intake_table", read_only=True)
        data.grant(review, "reviews_table", "po_intake_table")
        data.grant(trigger, "po_intake_table", "tray_budget_table")
        data.tray_tokens.grant_read(trigger)
        data.grant(record, "po_intake_table")
        data.grant(hold, "po_intake_table")
        # Large orders: a state past 256 KiB keeps its purchase order under state/ (by reference),
        # and any step may be the one that writes or reads it.
        for step_function in (parse, validate, review, trigger, record, hold):
            self._read_objects(step_function, STATE_PREFIX)
            self._write_objects(step_function, STATE_PREFIX)

        self.state_machine = self._state_machine(
            extract=extract,
            parse=parse,
            validate=validate,
            review=review,
            trigger=trigger,
            record=record,
            hold=hold,
        )

        intake = function("intake", "PO intake: one pipeline execution per PO document dropped in S3")
        intake.add_environment("TRAY_AGENT_PO_STATE_MACHINE_ARN", self.state_machine.state_machine_arn)
        self._read_objects(intake, INBOX_PREFIX)
        data.grant(intake, "po_intake_table")
        self.state_machine.grant_start_execution(intake)
        # Lambda's default async retries (2), then the record goes to the failed-invocations
        # queue: a document whose intake kept failing is never silently dropped.
        dead_letters.invoked_asynchronously(intake)
        events.Rule(
            self,
            "PoDropped",
            description="A document dropped in the PO inbox starts the intake",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [self.bucket.bucket_name]},
                    "object": {"key": [{"prefix": INBOX_PREFIX}]},
                },
            ),
            targets=[dead_letters.rule_target(intake, retry_attempts=8, max_event_age=Duration.hours(6))],
        )
        self.intake_function = intake
        if observability is not None:
            observability.watch_state_machine("PoPipeline", self.state_machine, scope=self)

        # Reviewers approve/reject through the API: it resumes or fails the paused execution.
        self.state_machine.grant_task_response(api_function)
        # POST /po/intake/{id}/rerun: marks the failed intake re-run and starts a new execution.
        self.state_machine.grant_start_execution(api_function)
        api_function.add_environment("TRAY_AGENT_PO_STATE_MACHINE_ARN", self.state_machine.state_machine_arn)
        # A large order in review is kept by reference under state/: approving it with edits reads
        # the stored order and writes the approved one there before resuming the execution.
        api_function.add_environment("TRAY_AGENT_PO_BUCKET", self.bucket.bucket_name)
        self._read_objects(api_function, STATE_PREFIX)
        self._write_objects(api_function, STATE_PREFIX)
        data.grant(api_function, "po_intake_table")

    # -- storage --------------------------------------------------------------------------------

    def _bucket(self) -> s3.Bucket:
        access_logs = s3.Bucket(
            self,
            "PoDropAccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            access_logs,
            "AwsSolutions-S1",
            "This is the server access log bucket of the PO drop bucket; logging it to itself would loop.",
        )
        skip(
            access_logs.node.default_child,  # type: ignore[arg-type]
            "CKV_AWS_18",
            "This is the server access log bucket of the PO drop bucket; logging it to itself would loop.",
        )
        bucket = s3.Bucket(
            self,
            "PoDrops",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="po-drops/",
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Native EventBridge notifications (L1): no notification custom-resource Lambda needed.
        cfn_bucket = bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                event_bridge_enabled=True
            )
        )
        return bucket

    def _read_objects(self, function: lambda_.Function, *prefixes: str) -> None:
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[self.bucket.arn_for_objects(f"{p}*") for p in prefixes]
            )
        )
        self._acknowledge_prefixes(function, prefixes)

    def _write_objects(self, function: lambda_.Function, prefix: str) -> None:
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[self.bucket.arn_for_objects(f"{prefix}*")]
            )
        )
        self._acknowledge_prefixes(function, (prefix,))

    def _acknowledge_prefixes(
        self, function: lambda_.Function, prefixes: tuple[str, ...] | list[str]
    ) -> None:
        role = function.role
        assert role is not None
        logical_id = Stack.of(self).get_logical_id(self.bucket.node.default_child)  # type: ignore[arg-type]
        for prefix in prefixes:
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/{prefix}*]",
                f"Objects under the bucket's {prefix} prefix only: the documents this step reads or writes.",
            )

    # -- the state machine ----------------------------------------------------------------------

    def _state_machine(
        self,
        *,
        extract: lambda_.Function,
        parse: lambda_.Function,
        validate: lambda_.Function,
        review: lambda_.Function,
        trigger: lambda_.Function,
        record: lambda_.Function,
        hold: lambda_.Function,
    ) -> sfn.StateMachine:
        record_step = tasks.LambdaInvoke(
            self, "Record", lambda_function=self._unqualified(record), payload_response_only=True
        )
        record_step.add_retry(errors=TRANSIENT_ERRORS, **TRANSIENT_RETRY)  # type: ignore[arg-type]
        record_step.add_catch(
            sfn.Fail(self, "RecordFailed", error="RecordFailed", cause="the outcome could not be recorded"),
            errors=["States.ALL"],
            result_path="$.record_error",
        )

        def step(
            construct_id: str, function: lambda_.Function, *, catch_all: bool = True
        ) -> tasks.LambdaInvoke:
            task = tasks.LambdaInvoke(
                self, construct_id, lambda_function=self._unqualified(function), payload_response_only=True
            )
            task.add_retry(errors=TRANSIENT_ERRORS, **TRANSIENT_RETRY)  # type: ignore[arg-type]
            if catch_all:
                task.add_catch(record_step, errors=["States.ALL"], result_path="$.error")
            return task

        extract_step = step("Extract", extract)
        parse_step = step("Parse", parse)
        validate_step = step("Validate", validate)
        trigger_step = step("Trigger", trigger, catch_all=False)
        trigger_step.add_retry(
            errors=TRAY_TRANSIENT_ERRORS, interval=Duration.seconds(5), max_attempts=4, backoff_rate=2
        )
        hold_step = step("Hold", hold)
        hold_wait = sfn.Wait(self, "HoldWait", time=sfn.WaitTime.seconds_path("$.hold.wait_s"))
        # Catchers are tried in order: the Tray ones first, States.ALL must come last.
        trigger_step.add_catch(hold_step, errors=TRAY_HOLD_ERRORS, result_path="$.error")
        trigger_step.add_catch(record_step, errors=["States.ALL"], result_path="$.error")
        hold_step.next(hold_wait).next(trigger_step)
        review_step = tasks.LambdaInvoke(
            self,
            "Review",
            lambda_function=self._unqualified(review),
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=sfn.TaskInput.from_object(
                {"task_token": sfn.JsonPath.task_token, "state": sfn.JsonPath.entire_payload}
            ),
            result_path="$.review",
            task_timeout=sfn.Timeout.duration(REVIEW_TIMEOUT),
        )
        review_step.add_retry(errors=TRANSIENT_ERRORS, **TRANSIENT_RETRY)  # type: ignore[arg-type]
        # A rejection (PurchaseOrderRejectedError), an invalid edit or the timeout: all recorded.
        review_step.add_catch(record_step, errors=["States.ALL"], result_path="$.error")

        done = sfn.Succeed(self, "Done")
        failed = sfn.Fail(self, "Failed", error="PurchaseOrderFailed", cause="see the PO intake record")
        record_step.next(
            sfn.Choice(self, "Outcome")
            .when(sfn.Condition.string_equals("$.outcome", "failed"), failed)
            .otherwise(done)
        )
        trigger_step.next(record_step)
        needs_review = (
            sfn.Choice(self, "NeedsReview")
            .when(sfn.Condition.boolean_equals("$.needs_review", True), review_step.next(trigger_step))
            .otherwise(trigger_step)
        )
        definition = extract_step.next(parse_step).next(validate_step).next(needs_review)

        log_group = logs.LogGroup(
            self,
            "PoPipelineLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        machine = sfn.StateMachine(
            self,
            "PoPipelineStateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=sfn.StateMachineType.STANDARD,
            # A week in review, the hold window, and a day for everything else.
            timeout=Duration.seconds(
                REVIEW_TIMEOUT.to_seconds() + HOLD_WINDOW.to_seconds() + Duration.days(1).to_seconds()
            ),
            tracing_enabled=True,
            # No execution data in the logs: states carry buyers' names and addresses.
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        acknowledge(
            machine.role,
            "AwsSolutions-IAM5[Resource::*]",
            "CloudWatch Logs delivery and X-Ray actions accept only Resource '*' (logging and tracing).",
        )
        return machine

    @staticmethod
    def _unqualified(function: lambda_.Function) -> lambda_.IFunction:
        """The function as LambdaInvoke should see it. For a Function (or an imported one) CDK grants
        ``<arn>`` and ``<arn>:*`` (any version or alias); for a qualified function exactly its ARN.
        ``$LATEST`` is what an unqualified invocation runs (no versions are published), so the
        state machine invokes ``<arn>:$LATEST`` and may invoke nothing else."""
        return function.latest_version
