"""DeadLetters: where asynchronous work that could not run is kept, alarmed on, and redriven from.

Two SQS queues, both built by ``_queue`` (SSE-SQS, TLS-only, 14 days' retention, a depth alarm):

- ``failed_invocations``: the on-failure destination of every asynchronously invoked function.
  Lambda writes an invocation record (``requestContext.functionArn``, ``requestPayload``) once
  its own retries or the event's maximum age are used up.
- ``undelivered_events``: the dead-letter queue of every EventBridge rule target. EventBridge
  writes the original event with ``RULE_ARN`` / ``TARGET_ARN`` / ``ERROR_CODE`` attributes when
  it could not hand the event to the function at all (permissions, throttling, a deleted target).

SSE-SQS rather than a KMS key: EventBridge can only write to a KMS-encrypted queue through a
customer-managed key whose policy names it, and nothing here needs a key's audit trail.
Send permission is given per use: each function's own role for its invocation records (CDK's
``SqsDestination``), and ``events.amazonaws.com`` only with ``aws:SourceArn`` = that rule (CDK's
target DLQ policy). The redriver (the API function) may only receive, delete and re-invoke.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.observability import Observability
from infra.nag import acknowledge

RETENTION = Duration.days(14)  # SQS's maximum: two weeks to notice the alarm and redrive


class DeadLetters(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, observability: Observability) -> None:
        super().__init__(scope, construct_id)
        self._observability = observability
        self.failed_invocations = self._queue(
            "FailedInvocations", "asynchronous invocations that failed after Lambda's retries"
        )
        self.undelivered_events = self._queue(
            "UndeliveredEvents", "EventBridge events that could not be delivered to their target"
        )
        self._redrivable: list[lambda_.IFunction] = []

    def _queue(self, name: str, what: str) -> sqs.Queue:
        """The one way a dead-letter queue is built here, with its depth alarm."""
        queue = sqs.Queue(
            self,
            name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=RETENTION,
            # Longer than a redrive of one message takes: a message being redriven stays hidden.
            visibility_timeout=Duration.minutes(2),
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            queue,
            "AwsSolutions-SQS3",
            f"This queue is itself the dead-letter destination ({what}); a dead-letter queue behind it "
            "would move unredriven work out of sight. Messages are removed only by a redrive.",
        )
        self._observability.alarm(
            f"{name}Waiting",
            metric=queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic="Maximum"
            ),
            threshold=0,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            description=f"Dead letters waiting: {what}. Redrive them with POST /dead-letters/redrive "
            "or `tray-agent redrive` once the cause is fixed.",
            scope=self,
        )
        self._observability.watch_queue(name, queue)
        return queue

    def invoked_asynchronously(
        self,
        function: lambda_.Function,
        *,
        retry_attempts: int | None = None,
        max_event_age: Duration | None = None,
    ) -> None:
        """Lambda's async retry settings, and the on-failure destination once they are used up."""
        function.configure_async_invoke(
            on_failure=destinations.SqsDestination(self.failed_invocations),
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
        )
        self._redrivable.append(function)

    def rule_target(
        self, function: lambda_.Function, *, retry_attempts: int, max_event_age: Duration
    ) -> targets.LambdaFunction:
        """An EventBridge target for ``function`` whose undeliverable events land in the DLQ."""
        if function not in self._redrivable:
            self._redrivable.append(function)
        return targets.LambdaFunction(
            function,
            dead_letter_queue=self.undelivered_events,
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
        )

    @property
    def environment(self) -> dict[str, str]:
        """The redriver's Settings: where the dead letters are."""
        return {
            "TRAY_AGENT_FAILED_INVOCATIONS_QUEUE": self.failed_invocations.queue_url,
            "TRAY_AGENT_UNDELIVERED_EVENTS_QUEUE": self.undelivered_events.queue_url,
        }

    def grant_redrive(self, redriver: lambda_.Function) -> None:
        """Read and delete dead letters, and re-invoke exactly the functions they belong to."""
        for queue in (self.failed_invocations, self.undelivered_events):
            queue.grant_consume_messages(redriver)
        # Unqualified ARNs only (no ``:*``): a redrive always invokes $LATEST, as the original did.
        redriver.add_to_role_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[function.function_arn for function in self._redrivable],
            )
        )
