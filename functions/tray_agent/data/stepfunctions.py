"""Step Functions: start a PO execution once, resume or fail a paused one."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from tray_agent.data import aws
from tray_agent.errors import ConflictError

_TOKEN_GONE = {"TaskDoesNotExist", "TaskTimedOut", "InvalidToken"}


class StepFunctionsGateway:
    def start_execution(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> str | None:
        """Start ``name``; None when an execution of that name already exists (a repeated notice)."""
        try:
            response = aws.client("stepfunctions").start_execution(
                stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload)
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return None
            raise
        return str(response["executionArn"])

    def send_task_success(self, task_token: str, output: dict[str, Any]) -> None:
        self._answer("send_task_success", taskToken=task_token, output=json.dumps(output))

    def send_task_failure(self, task_token: str, error: str, cause: str) -> None:
        self._answer("send_task_failure", taskToken=task_token, error=error, cause=cause[:32768])

    def _answer(self, operation: str, **kwargs: str) -> None:
        try:
            getattr(aws.client("stepfunctions"), operation)(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _TOKEN_GONE:
                raise ConflictError("the paused purchase order is no longer waiting for a review") from exc
            raise
