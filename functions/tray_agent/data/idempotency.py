"""Powertools Idempotency on the idempotency table: one processing per key."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from pydantic import BaseModel

from tray_agent.data import aws
from tray_agent.errors import DuplicateInProgressError

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)


class OncePerKey(Generic[In, Out]):
    """Wraps ``function(item)`` so each key runs it once; later calls get the first result.

    A duplicate arriving while the first is still running waits (bounded) for the first
    result instead of failing, so concurrent deliveries all receive the same answer.
    """

    def __init__(
        self,
        function: Callable[[In], Out],
        *,
        table_name: str,
        key_path: str,
        output_model: type[Out],
        expires_after_s: int,
        wait_for_in_progress_s: float = 5.0,
    ) -> None:
        self._wait_s = wait_for_in_progress_s
        self._config = IdempotencyConfig(
            event_key_jmespath=key_path,
            expires_after_seconds=expires_after_s,
            raise_on_no_idempotency_key=True,
        )
        persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=aws.client("dynamodb"))

        @idempotent_function(
            data_keyword_argument="item",
            persistence_store=persistence,
            config=self._config,
            output_serializer=PydanticSerializer(model=output_model),
        )
        def guarded(*, item: In) -> Out:
            return function(item)

        self._guarded = guarded

    def register_lambda_context(self, context: Any) -> None:
        """Lets an in-progress record expire with the invocation if Lambda times out."""
        self._config.register_lambda_context(context)

    def __call__(self, item: In) -> Out:
        deadline = time.monotonic() + self._wait_s
        delay = 0.05
        while True:
            try:
                result: Out = self._guarded(item=item)
                return result
            except IdempotencyAlreadyInProgressError as exc:
                if time.monotonic() >= deadline:
                    raise DuplicateInProgressError(
                        "the same event is still being processed; retry shortly"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
