"""The alerts topic (SNS): operations alerts for people and their subscriptions."""

from __future__ import annotations

import json
from typing import Any

from tray_agent.data import aws

SUBJECT_MAX = 100  # SNS subject limit


class AlertsTopic:
    def __init__(self, topic_arn: str) -> None:
        self._topic_arn = topic_arn

    @property
    def configured(self) -> bool:
        return bool(self._topic_arn)

    def publish(self, subject: str, message: dict[str, Any], *, severity: str) -> str | None:
        """Publish one alert; returns the SNS message id (None when no topic is configured)."""
        if not self._topic_arn:
            return None
        response = aws.client("sns").publish(
            TopicArn=self._topic_arn,
            Subject=subject[:SUBJECT_MAX],
            Message=json.dumps(message, default=str),
            MessageAttributes={"severity": {"DataType": "String", "StringValue": severity}},
        )
        return str(response["MessageId"])
