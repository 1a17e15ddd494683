"""SQS dead-letter queues and asynchronous Lambda invocation: the boto3 side of a redrive."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tray_agent.data import aws
from tray_agent.errors import UpstreamError

_BATCH = 10  # SQS's maximum per ReceiveMessage / ChangeMessageVisibilityBatch


@dataclass(frozen=True)
class QueuedMessage:
    message_id: str
    receipt_handle: str
    body: str
    attributes: dict[str, str] = field(default_factory=dict)  # SentTimestamp, ApproximateReceiveCount
    message_attributes: dict[str, str] = field(default_factory=dict)  # RULE_ARN, TARGET_ARN, ...


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


class MessageQueue:
    """One SQS queue, named in Settings by its name (local runs) or its URL (the stack)."""

    def __init__(self, name_or_url: str) -> None:
        self._name_or_url = name_or_url
        self._url: str | None = name_or_url if name_or_url.startswith(("https://", "http://")) else None

    @property
    def url(self) -> str:
        if self._url is None:
            try:
                response = aws.client("sqs").get_queue_url(QueueName=self._name_or_url)
            except (ClientError, BotoCoreError) as exc:
                raise UpstreamError(f"queue {self._name_or_url} is not reachable: {_reason(exc)}") from exc
            self._url = str(response["QueueUrl"])
        return self._url

    def receive(self, *, max_messages: int, visibility_s: int, wait_s: int) -> list[QueuedMessage]:
        """Up to ``max_messages`` (≤ 10) messages, hidden from other readers for ``visibility_s``."""
        try:
            response = aws.client("sqs").receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=min(max_messages, _BATCH),
                VisibilityTimeout=visibility_s,
                WaitTimeSeconds=wait_s,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
        except (ClientError, BotoCoreError) as exc:
            raise UpstreamError(f"reading queue {self._name_or_url} failed: {_reason(exc)}") from exc
        return [
            QueuedMessage(
                message_id=str(message["MessageId"]),
                receipt_handle=str(message["ReceiptHandle"]),
                body=str(message.get("Body", "")),
                attributes={k: str(v) for k, v in message.get("Attributes", {}).items()},
                message_attributes={
                    name: str(value.get("StringValue", ""))
                    for name, value in message.get("MessageAttributes", {}).items()
                },
            )
            for message in response.get("Messages", [])
        ]

    def delete(self, receipt_handle: str) -> None:
        try:
            aws.client("sqs").delete_message(QueueUrl=self.url, ReceiptHandle=receipt_handle)
        except (ClientError, BotoCoreError) as exc:
            raise UpstreamError(f"deleting from queue {self._name_or_url} failed: {_reason(exc)}") from exc

    def release(self, receipt_handles: list[str]) -> list[str]:
        """Make received messages visible again now; returns the handles SQS did not release.

        Best effort: a message not released becomes visible again when its timeout ends anyway.
        """
        failed: list[str] = []
        for start in range(0, len(receipt_handles), _BATCH):
            chunk = receipt_handles[start : start + _BATCH]
            entries = [
                {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                for index, handle in enumerate(chunk)
            ]
            try:
                response = aws.client("sqs").change_message_visibility_batch(
                    QueueUrl=self.url, Entries=entries
                )
            except (ClientError, BotoCoreError):
                failed.extend(chunk)
                continue
            failed.extend(chunk[int(entry["Id"])] for entry in response.get("Failed", []))
        return failed

    def depth(self) -> int:
        try:
            response = aws.client("sqs").get_queue_attributes(
                QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessages"]
            )
        except (ClientError, BotoCoreError) as exc:
            raise UpstreamError(f"reading queue {self._name_or_url} failed: {_reason(exc)}") from exc
        return int(response["Attributes"].get("ApproximateNumberOfMessages", 0))


class AsyncInvoker:
    """Lambda's asynchronous Invoke: the path EventBridge and S3 take to our functions."""

    def invoke(self, function_name: str, payload: Any) -> None:
        """Queue one asynchronous invocation; raises UpstreamError unless Lambda accepted it (202)."""
        try:
            response: dict[str, Any] = aws.client("lambda").invoke(
                FunctionName=function_name, InvocationType="Event", Payload=json.dumps(payload).encode()
            )
        except (ClientError, BotoCoreError) as exc:
            raise UpstreamError(f"Lambda did not accept the invocation: {_reason(exc)}") from exc
        status = int(response.get("StatusCode", 0))
        if status != 202:
            raise UpstreamError(f"Lambda answered {status} instead of 202 Accepted")
