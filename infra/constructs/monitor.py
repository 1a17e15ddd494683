"""Monitor: the execution monitor Lambda on an EventBridge rate(5 minutes) schedule."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.constructs.data import Data
from infra.constructs.dead_letters import DeadLetters
from infra.constructs.function import python_function
from infra.constructs.observability import Observability

TICK = Duration.minutes(5)


class Monitor(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        data: Data,
        observability: Observability,
        dead_letters: DeadLetters,
        environment: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = python_function(
            self,
            "MonitorFunction",
            code=code,
            handler="tray_agent.handlers.monitor.handler",
            description="tray-agent execution monitor: failure rates, alerts, recovery (every 5 minutes)",
            environment={**environment, "TRAY_AGENT_MONITOR_TICK_S": str(int(TICK.to_seconds()))},
            # A tick over a large backlog pages at Tray's 30 req/s: the Lambda maximum, and the
            # tick stops a minute early on its own to checkpoint.
            timeout=Duration.minutes(15),
            memory_size=512,
            # A second guard beside the DynamoDB lease: never two ticks at once.
            reserved_concurrency=1,
        )
        # A failed tick is not re-run by Lambda: the next tick resumes from the checkpoint, and
        # stale events waiting behind a slow tick are not run late. Either way the tick's record
        # goes to the failed-invocations queue, so a lost tick is seen (and can be redriven).
        dead_letters.invoked_asynchronously(self.function, retry_attempts=0, max_event_age=TICK)
        # context_table: the agent's daily operations summary, which the monitor feeds.
        # work_table: the tick also sweeps the work ledger (resumes, probes incidents, drains held work).
        data.grant(
            self.function,
            "monitor_table",
            "work_table",
            "decisions_table",
            "reviews_table",
            "context_table",
            "tray_budget_table",
        )
        data.grant_payloads(self.function, "ledger/", "decisions/", "reviews/")
        data.tray_tokens.grant_read(self.function)
        # The agent's LLM brain, asked about failures the monitor cannot classify (when configured).
        data.openai_api_key.grant_read(self.function)
        observability.grant_publish(self.function)
        self.rule = events.Rule(
            self,
            "Schedule",
            description="tray-agent monitor tick",
            schedule=events.Schedule.rate(TICK),
            targets=[dead_letters.rule_target(self.function, retry_attempts=0, max_event_age=TICK)],
        )
        observability.watch("Monitor", self.function)
