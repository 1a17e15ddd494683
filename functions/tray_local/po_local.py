"""The PO pipeline on this machine: the state machine CDK synthesizes, run by moto, handlers in-process.

``LocalPoPipeline.start(env)`` (inside a ``LocalEnvironment``) synthesizes the real CDK app,
resolves the pipeline's ASL, creates it in moto's Step Functions and dispatches each Lambda
task to our handler (``tray_agent.handlers.po_<state>``). ``drop(key, body)`` puts a document
in the (moto) bucket and delivers the EventBridge "Object Created" event S3 would send to the
intake handler, then waits for the executions it started.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import boto3

from tray_agent.config import Settings, get_settings
from tray_local.local_env import LocalEnvironment
from tray_local.sfn_local import (
    DEFAULT_ACCOUNT,
    DEFAULT_REGION,
    ExecutionResult,
    LocalLambdaContext,
    LocalStepFunctions,
    definition_from_template,
    lambda_function_arn,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
STATE_MACHINE_NAME = "tray-agent-po-pipeline"
HANDLER_PREFIX = "tray_agent.handlers."
PO_HANDLERS = ("po_extract", "po_parse", "po_validate", "po_review", "po_trigger", "po_record", "po_hold")


@cache
def synthesized_template() -> dict[str, Any]:
    """The real app's template, Lambda bundling skipped (about ten seconds of node).

    cdk-nag is left to the infra tests: it does not change the template, only checks it.
    """
    os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
    # The machine's node (20) is past jsii's end of life: a warning box, not an error, in a demo.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")
    if str(REPO_ROOT) not in sys.path and (REPO_ROOT / "infra").is_dir():
        sys.path.append(str(REPO_ROOT))  # `tray-agent demo` runs from the console script
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from infra.app import STACK_NAME
    from infra.stack import TrayAgentStack

    stack = TrayAgentStack(App(context={"aws:cdk:bundling-stacks": []}), STACK_NAME)
    return dict(Template.from_stack(stack).to_json())


def pipeline_definition(template: dict[str, Any]) -> dict[str, Any]:
    """The PO state machine's ASL with every Lambda named after its handler module (``po_parse``)."""
    resources: dict[str, Any] = template["Resources"]
    machines = [
        logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::StepFunctions::StateMachine" and "PoPipeline" in logical_id
    ]
    if len(machines) != 1:
        raise ValueError(f"expected one PO pipeline state machine in the template, found {machines}")

    def function_name(logical_id: str) -> str:
        handler = resources.get(logical_id, {}).get("Properties", {}).get("Handler", "")
        if handler.startswith(HANDLER_PREFIX):
            return str(handler.removeprefix(HANDLER_PREFIX).removesuffix(".handler"))
        return logical_id

    return definition_from_template(template, machines[0], function_name)


def _handler(module: str) -> Any:
    return importlib.import_module(HANDLER_PREFIX + module).handler


def object_created_event(bucket: str, key: str, etag: str, size: int) -> dict[str, Any]:
    """The EventBridge event S3 sends for a new object (bucket with EventBridge notifications on)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": DEFAULT_ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": DEFAULT_REGION,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": size, "etag": etag.strip('"'), "sequencer": uuid.uuid4().hex},
            "request-id": uuid.uuid4().hex[:16],
            "requester": DEFAULT_ACCOUNT,
            "reason": "PutObject",
        },
    }


@dataclass
class Drop:
    """One dropped document: what the intake answered, and each started execution's result."""

    key: str
    intake: dict[str, list[str]]
    executions: dict[str, ExecutionResult] = field(default_factory=dict)  # by intake id


@dataclass
class LocalPoPipeline:
    env: LocalEnvironment
    sfn: LocalStepFunctions
    state_machine_arn: str

    @property
    def settings(self) -> Settings:
        return get_settings()

    @classmethod
    @contextmanager
    def start(
        cls, env: LocalEnvironment, definition: dict[str, Any] | None = None
    ) -> Iterator[LocalPoPipeline]:
        definition = definition or pipeline_definition(synthesized_template())
        arn = f"arn:aws:states:{DEFAULT_REGION}:{DEFAULT_ACCOUNT}:stateMachine:{STATE_MACHINE_NAME}"
        os.environ["TRAY_AGENT_PO_STATE_MACHINE_ARN"] = arn
        get_settings.cache_clear()
        settings = get_settings()
        s3 = boto3.client("s3", region_name=DEFAULT_REGION)
        if settings.po_bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
            s3.create_bucket(Bucket=settings.po_bucket)
        handlers = {name: _handler(name) for name in PO_HANDLERS}
        with LocalStepFunctions(handlers) as sfn:
            client = sfn.client
            existing = {m["stateMachineArn"] for m in client.list_state_machines()["stateMachines"]}
            if arn in existing:
                client.update_state_machine(stateMachineArn=arn, definition=json.dumps(definition))
            else:
                sfn.create_state_machine(STATE_MACHINE_NAME, definition)
            yield cls(env=env, sfn=sfn, state_machine_arn=arn)

    def execution_arn(self, intake_id: str, attempt: int = 1) -> str:
        """The execution of one attempt: the intake's first, or a re-run's (``<intake id>-r<n>``)."""
        from tray_agent.models.po_pipeline import execution_name_for

        name = execution_name_for(intake_id, attempt)
        return f"arn:aws:states:{DEFAULT_REGION}:{DEFAULT_ACCOUNT}:execution:{STATE_MACHINE_NAME}:{name}"

    def drop(self, key: str, body: bytes, *, timeout_s: float = 60) -> Drop:
        """Put ``body`` at ``key`` in the PO bucket, notify the intake, wait for its executions."""
        bucket = self.settings.po_bucket
        s3 = boto3.client("s3", region_name=DEFAULT_REGION)
        put = s3.put_object(Bucket=bucket, Key=key, Body=body)
        return self.notify(key, etag=put["ETag"], size=len(body), timeout_s=timeout_s)

    def notify(self, key: str, *, etag: str, size: int, timeout_s: float = 60) -> Drop:
        """Deliver an "Object Created" event (again, if you like) to the intake handler."""
        answer = self.deliver(key, etag=etag, size=size)
        drop = Drop(key=key, intake=answer)
        for intake_id in answer["started"]:
            drop.executions[intake_id] = self.sfn.wait_for(self.execution_arn(intake_id), timeout_s=timeout_s)
        return drop

    def put(self, key: str, body: bytes) -> str:
        """Put ``body`` at ``key`` in the PO bucket; its ETag."""
        s3 = boto3.client("s3", region_name=DEFAULT_REGION)
        return str(s3.put_object(Bucket=self.settings.po_bucket, Key=key, Body=body)["ETag"])

    def deliver(self, key: str, *, etag: str, size: int) -> dict[str, list[str]]:
        """The intake handler's answer to an "Object Created" event; executions left running."""
        event = object_created_event(self.settings.po_bucket, key, etag, size)
        context = LocalLambdaContext(
            function_name="po_intake", invoked_function_arn=lambda_function_arn("po_intake")
        )
        answer: dict[str, list[str]] = _handler("po_intake")(event, context)
        return answer

    def wait(self, intake_id: str, timeout_s: float = 60, *, attempt: int = 1) -> ExecutionResult:
        return self.sfn.wait_for(self.execution_arn(intake_id, attempt), timeout_s=timeout_s)
