"""Lambda's Invoke API on this machine: our handlers in-process, by function name.

moto's Lambda backend needs Docker to run a function. ``LocalLambda`` answers the boto3 ``lambda``
client's ``Invoke`` itself, with the same handler table, context object and error shape that
``sfn_local`` uses for Step Functions' Lambda tasks, so code that invokes a function (a dead-letter
redrive) reaches our real handler::

    with LocalLambda({"tray-agent-monitor": "tray_agent.handlers.monitor"},
                     on_failure_queue="tray-agent-failed-invocations") as lambdas:
        boto3.client("lambda").invoke(FunctionName="tray-agent-monitor", InvocationType="Event", ...)
        lambdas.invocations_of("tray-agent-monitor")

How: two botocore hooks on the default boto3 session (clients created afterwards inherit them,
so enter before creating clients; ``LocalEnvironment`` resets ours): ``before-parameter-build``
keeps the call's parameters, ``before-call`` answers instead of sending the request. Nothing of
moto is patched. Only while entered; nested instances answer innermost-first.

``InvocationType="Event"`` runs the handler before ``Invoke`` returns 202 (Lambda would run it
moments later). When it raises, the on-failure destination gets the invocation record Lambda
would write after its retries (``condition: RetriesExhausted``), like the deployed
``failed_invocations`` queue. ``RequestResponse`` answers the result, or ``FunctionError``.
"""

from __future__ import annotations

import importlib
import io
import json
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.response import StreamingBody

from tray_local.sfn_local import (
    DEFAULT_REGION,
    Invocation,
    LocalLambdaContext,
    function_name_from_reference,
    lambda_error_payload,
    lambda_function_arn,
)

Handler = Callable[[Any, Any], Any]

_PARAMS_KEY = "tray_local.lambda_params"
_lock = threading.Lock()
_active: list[LocalLambda] = []


def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context[_PARAMS_KEY] = dict(params)


def _answer(context: dict[str, Any], **_: Any) -> Any:
    """The Invoke response, or None to let the request go on (no LocalLambda active)."""
    with _lock:
        owner = _active[-1] if _active else None
    if owner is None or _PARAMS_KEY not in context:
        return None
    return owner.invoke(context.pop(_PARAMS_KEY))


def _http(status: int) -> AWSResponse:
    return AWSResponse("https://lambda.local/invocations", status, HTTPHeaders(), None)


def _body(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


class LocalLambda:
    def __init__(
        self,
        handlers: Mapping[str, Handler | str],
        *,
        on_failure_queue: str | None = None,
        region: str = DEFAULT_REGION,
    ) -> None:
        """``handlers``: function name (or ARN) -> ``handler(event, context)``, or the dotted path of
        a module whose ``handler`` to import on first use. ``on_failure_queue``: a queue name or URL."""
        self._handlers = {function_name_from_reference(key): value for key, value in handlers.items()}
        self._on_failure_queue = on_failure_queue
        self.region = region
        self.invocations: list[Invocation] = []
        self._session: boto3.Session | None = None

    def __enter__(self) -> LocalLambda:
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        session = boto3.DEFAULT_SESSION
        assert session is not None
        self._session = session
        with _lock:
            if not _active:
                session.events.register("before-parameter-build.lambda.Invoke", _keep_params)
                session.events.register("before-call.lambda.Invoke", _answer)
            _active.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with _lock:
            _active.remove(self)
            if not _active and self._session is not None:
                self._session.events.unregister("before-parameter-build.lambda.Invoke", _keep_params)
                self._session.events.unregister("before-call.lambda.Invoke", _answer)

    def invocations_of(self, function_name: str) -> list[Invocation]:
        return [call for call in self.invocations if call.function_name == function_name]

    # -- the Invoke API -------------------------------------------------------------------------

    def invoke(self, params: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        reference = str(params["FunctionName"])
        name = function_name_from_reference(reference)
        if name not in self._handlers:
            error = {"Code": "ResourceNotFoundException", "Message": f"Function not found: {reference}"}
            return _http(404), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 404}}
        invocation_type = str(params.get("InvocationType") or "RequestResponse")
        if invocation_type == "DryRun":
            return _http(204), {"StatusCode": 204, "Payload": _body(b"")}
        event = self._event(params.get("Payload"))
        arn = lambda_function_arn(name, self.region)
        context = LocalLambdaContext(function_name=name, invoked_function_arn=arn)
        try:
            result = self._handler(name)(event, context)
            payload = json.dumps(result).encode()  # the runtime serializes the return value
        except Exception as error:  # every handler exception is a function error, as in Lambda
            self.invocations.append(Invocation(name, event, type(error).__name__))
            failure = lambda_error_payload(type(error).__name__, str(error), error, context.aws_request_id)
            if invocation_type == "Event":
                self._record_failure(arn, event, failure, context.aws_request_id)
                return _http(202), {"StatusCode": 202, "Payload": _body(b"")}
            answer = {"StatusCode": 200, "FunctionError": "Unhandled", "ExecutedVersion": "$LATEST"}
            return _http(200), {**answer, "Payload": _body(json.dumps(failure).encode())}
        self.invocations.append(Invocation(name, event, None))
        if invocation_type == "Event":
            return _http(202), {"StatusCode": 202, "Payload": _body(b"")}
        return _http(200), {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": _body(payload)}

    def _handler(self, name: str) -> Handler:
        handler = self._handlers[name]
        if isinstance(handler, str):
            handler = importlib.import_module(handler).handler
            self._handlers[name] = handler
        return handler

    @staticmethod
    def _event(payload: Any) -> Any:
        if payload is None:
            return {}
        raw = payload.read() if hasattr(payload, "read") else payload
        return json.loads(raw) if raw else {}

    def _record_failure(self, arn: str, event: Any, failure: dict[str, Any], request_id: str) -> None:
        """The invocation record Lambda sends its on-failure destination (retries exhausted)."""
        if not self._on_failure_queue:
            return
        record = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "requestContext": {
                "requestId": request_id,
                "functionArn": f"{arn}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 1,
            },
            "requestPayload": event,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": failure,
        }
        sqs = boto3.client("sqs", region_name=self.region)
        queue = self._on_failure_queue
        url = (
            queue
            if queue.startswith(("https://", "http://"))
            else sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        )
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
